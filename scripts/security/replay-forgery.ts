/**
 * Forged requests accepted from one captured URL: a genuine message is delivered, then the
 * captured query string is re-encoded (signature case, duplicated and reordered parameters,
 * extra parameters, encrypt_type added or dropped, a leading zero in timestamp) and sent with
 * a forged body (a CLICK as an admin's openid). Counts the variants answered 200.
 */
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { TOKEN, post, startFiguresServer } from './common.js'

const server = await startFiguresServer()
try {
  const genuine = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'hello', FromUserName: 'oFollowerA' }) })
  console.log('genuine delivery:', (await post(server.url, genuine.search, genuine.body)).status)
  const { signature, timestamp, nonce, openid } = genuine.query as Record<string, string>
  const letters = [...signature!].filter((c) => /[a-f]/.test(c)).length
  const forged = (i: number) => sampleXml('event:CLICK', { FromUserName: 'oAdminOpenid', EventKey: `ADMIN_ACTION_${i}`, CreateTime: String(Number(timestamp) + i) })
  const families: Record<string, string[]> = { 'signature re-cased': [] }
  const seen = new Set<string>()
  for (let i = 0; families['signature re-cased']!.length < 300 && i < 10_000; i++) {
    const recased = [...signature!].map((c) => (/[a-f]/.test(c) && Math.random() < 0.5 ? c.toUpperCase() : c)).join('')
    if (recased === signature || seen.has(recased)) continue
    seen.add(recased)
    families['signature re-cased']!.push(`?signature=${recased}&timestamp=${timestamp}&nonce=${nonce}&openid=${openid}`)
  }
  const base = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}`
  families['parameters reordered'] = [`?nonce=${nonce}&timestamp=${timestamp}&signature=${signature}`, `?openid=x&nonce=${nonce}&signature=${signature}&timestamp=${timestamp}`]
  families['parameters duplicated'] = [`?${base}&signature=${signature}`, `?${base}&nonce=${nonce}`, `?${base}&signature=${'0'.repeat(40)}`, `?signature=${signature!.toUpperCase()}&${base}`]
  families['parameters added'] = [`?${base}&x=1`, `?${base}&openid=oAdminOpenid`, `?${base}&encrypt_type=raw`, `?${base}&msg_signature=${'a'.repeat(40)}`]
  families['timestamp with a leading zero'] = [`?signature=${signature}&timestamp=0${timestamp}&nonce=${nonce}`]
  let accepted = 0
  let tried = 0
  for (const [family, searches] of Object.entries(families)) {
    let ok = 0
    for (const [i, search] of searches.entries()) {
      const res = await post(server.url, search, forged(tried + i))
      if (res.status === 200) ok++
    }
    tried += searches.length
    accepted += ok
    console.log(`${family}: ${ok} of ${searches.length} forged variants accepted`)
  }
  console.log(`signature ${signature} has ${letters} hex letters: 2^${letters} = ${2 ** letters} case variants from this one URL`)
  console.log(`TOTAL forged requests accepted: ${accepted} of ${tried}`)
} finally {
  await server.stop()
}
