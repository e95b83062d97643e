/**
 * One captured URL (a proxy access log is enough) must not sign anything but the request it
 * came with. Through the real server: a re-cased signature, duplicated, reordered, re-encoded
 * and added parameters, encrypt_type dropped, and a URL check's query reused for a message:
 * every variant that carries another body is refused and no handler ever sees it. A property
 * test draws the re-encodings at random, against the real server and (with more runs) against
 * bot.handle.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Bot } from '../../src/bot.js'
import { readReply, signedRequest, verificationRequest, type SignedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, APP_ID, TOKEN, send, startSecurityServer, type SecurityServer } from './support.js'

let s: SecurityServer

/** A message as WeChat would send it, captured: its query string is what the attacker has. */
function capture(mode: 'plain' | 'safe', content: string): SignedRequest {
  const xml = sampleXml('text', { Content: content }, { openid: 'oFollowerA' })
  return mode === 'plain' ? signedRequest({ token: TOKEN, xml }) : signedRequest({ token: TOKEN, xml, mode: 'safe', encodingAESKey: AES_KEY, appId: APP_ID })
}

/** The attacker's body: a menu click as an admin. */
function forgedBody(tag: string): string {
  return sampleXml('event:CLICK', { EventKey: `ADMIN_${tag}` }, { openid: 'oAdminOpenid' })
}

type Pair = [string, string]

/** One way to re-encode a query string, as a transformation of its parameter list. */
const reEncoding: fc.Arbitrary<(pairs: Pair[]) => Pair[]> = fc.oneof(
  // flip the case of letters in a value (signature, msg_signature) or in a name
  fc.tuple(fc.nat(), fc.boolean(), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 })).map(([which, inName, flips]) => (pairs: Pair[]) =>
    pairs.map((pair, i): Pair => {
      if (i !== which % pairs.length) return pair
      const flip = (text: string) => [...text].map((c, k) => (flips[k % flips.length] ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c)).join('')
      return inName ? [flip(pair[0]), pair[1]] : [pair[0], flip(pair[1])]
    }),
  ),
  // reorder
  fc.array(fc.nat(), { minLength: 8, maxLength: 8 }).map((keys) => (pairs: Pair[]) => pairs.map((p, i) => ({ p, k: keys[i % keys.length]! })).sort((a, b) => a.k - b.k).map(({ p }) => p)),
  // duplicate a parameter, with its value or another
  fc.tuple(fc.nat(), fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }))).map(([which, value]) => (pairs: Pair[]) => {
    const [name, original] = pairs[which % pairs.length]!
    return [...pairs, [name, value ?? original] as Pair]
  }),
  // add a parameter, including the ones that change how the body is read
  fc.tuple(fc.constantFrom('encrypt_type', 'msg_signature', 'openid', 'echostr', 'x', 'Signature', 'timestamp '), fc.constantFrom('raw', 'aes', '', 'a'.repeat(40), 'oAdminOpenid')).map(([name, value]) => (pairs: Pair[]) => [...pairs, [name, value] as Pair]),
  // drop a parameter (encrypt_type and msg_signature above all)
  fc.nat().map((which) => (pairs: Pair[]) => pairs.filter((_, i) => i !== which % pairs.length)),
  // a leading zero on the timestamp
  fc.constant((pairs: Pair[]) => pairs.map(([n, v]): Pair => (n === 'timestamp' ? [n, `0${v}`] : [n, v]))),
)

/** The query string of the re-encoded pairs; some characters are percent-encoded though they need not be. */
function searchOf(pairs: Pair[], escapeMask: number): string {
  return '?' + pairs.map(([n, v], i) => `${encodeURIComponent(n)}=${(escapeMask >> i) & 1 ? [...v].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('') : encodeURIComponent(v)}`).join('&')
}

const variants = fc.tuple(fc.array(reEncoding, { minLength: 1, maxLength: 4 }), fc.nat({ max: 255 }), fc.constantFrom<'plain' | 'safe'>('plain', 'safe'))

function variantOf(captured: SignedRequest, [steps, escapeMask]: [Array<(pairs: Pair[]) => Pair[]>, number, unknown]): string {
  let pairs: Pair[] = Object.entries(captured.query)
  for (const step of steps) pairs = step(pairs)
  return searchOf(pairs, escapeMask)
}

describe('one captured URL signs nothing else (the real server)', () => {
  before(async () => {
    s = await startSecurityServer()
  })
  after(async () => {
    await s?.close()
  })

  test('the captured query with its signature upper-cased and another body is refused; the handler never sees it', async () => {
    const captured = capture('plain', 'hello')
    assert.equal((await send(s.url, captured.search, { body: captured.body })).status, 200)
    const signature = captured.query.signature!
    const recased = captured.search.replace(signature, signature.toUpperCase())
    const oneLetter = captured.search.replace(signature, signature.replace(/[a-f]/, (c) => c.toUpperCase()))
    for (const search of [recased, oneLetter]) {
      const res = await send(s.url, search, { body: forgedBody('recased') })
      assert.notEqual(res.status, 200, `${search}: ${res.status} ${res.body}`)
      assert.ok(res.status === 401 || res.status === 403, `${res.status} ${res.body}`)
    }
    assert.ok(!s.handled.some((h) => h.includes('ADMIN_')), s.handled.join('\n'))
  })

  test('a signed parameter given twice is refused, even on a query never seen before', async () => {
    const fresh = capture('plain', 'twice')
    const res = await send(s.url, `${fresh.search}&nonce=${fresh.query.nonce}`, { body: fresh.body })
    assert.deepEqual([res.status, res.body], [400, 'WX_ERR_QUERY_DUPLICATE\n'])
    const other = await send(s.url, `${fresh.search}&signature=${fresh.query.signature}`, { body: fresh.body })
    assert.deepEqual([other.status, other.body], [400, 'WX_ERR_QUERY_DUPLICATE\n'])
  })

  test('the query of a URL check (GET) cannot sign a message, before or after the body is read', async () => {
    const check = verificationRequest({ token: TOKEN, echostr: 'e-123' })
    assert.equal((await send(s.url, check.search, { method: 'GET' })).body, 'e-123')
    assert.equal((await send(s.url, check.search, { method: 'GET' })).body, 'e-123', 'the console may check twice')
    const query = check.search.replace(/&echostr=[^&]*/, '')
    const res = await send(s.url, query, { body: forgedBody('get') })
    assert.deepEqual([res.status, res.body], [403, 'WX_ERR_REPLAY\n'])
    assert.ok(!s.handled.some((h) => h.includes('ADMIN_get')))
    // and a message's query cannot pass a URL check
    const message = capture('plain', 'then a check')
    assert.equal((await send(s.url, message.search, { body: message.body })).status, 200)
    assert.equal((await send(s.url, `${message.search}&echostr=reflected`, { method: 'GET' })).status, 403)
  })

  test('a WeChat retry (the same query and body) still gets the first reply', async () => {
    const captured = capture('safe', 'retry me')
    const first = await send(s.url, captured.search, { body: captured.body })
    const again = await send(s.url, captured.search, { body: captured.body })
    const read = (r: { status: number; body: string }) => readReply(r, { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID }).reply?.Content
    assert.equal(read(first), 'retry me')
    assert.equal(read(again), 'retry me')
  })

  test('property: random re-encodings of a captured query, each with another body, are all refused', async (t) => {
    let tried = 0
    await fc.assert(
      fc.asyncProperty(variants, async (variant) => {
        const captured = capture(variant[2], `genuine ${tried}`)
        assert.equal((await send(s.url, captured.search, { body: captured.body })).status, 200)
        const tag = `prop${tried++}`
        const search = variantOf(captured, variant)
        const res = await send(s.url, search, { body: forgedBody(tag) })
        assert.notEqual(res.status, 200, `${search} accepted a forged body: ${res.body}`)
        assert.ok(!s.handled.some((h) => h.includes(`ADMIN_${tag}`)), `${search} reached a handler`)
      }),
      { numRuns: 150 },
    )
    t.diagnostic(`re-encoded captured queries sent to the real server: ${tried}`)
  })
})

test('property (in process, more runs): no re-encoding of a captured query carries another body through bot.handle', async () => {
  const handled: string[] = []
  const bot = new Bot({ token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID })
  bot.use((ctx) => void handled.push(String(ctx.eventKey ?? ctx.text ?? '')))
  let run = 0
  await fc.assert(
    fc.asyncProperty(variants, async (variant) => {
      const captured = capture(variant[2], `genuine ${run}`)
      assert.equal((await bot.handle(captured)).status, 200)
      const tag = `run${run++}`
      const query = new URLSearchParams(variantOf(captured, variant).slice(1))
      const res = await bot.handle({ method: 'POST', query, body: forgedBody(tag) })
      assert.notEqual(res.status, 200, `${query} accepted a forged body: ${res.body}`)
      assert.ok(!handled.includes(`ADMIN_${tag}`))
    }),
    { numRuns: 1000 },
  )
})
