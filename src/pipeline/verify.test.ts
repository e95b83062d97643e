import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplayGuard, replayFingerprint, verifySignedQuery } from './verify.js'
import { sha1Sorted } from './signature.js'
import { MemoryStore } from '../storage/memory.js'
import { ArenaStore } from '../storage/arena-store.js'
import { asSharedStore } from '../../test/support/shared-view.js'
import { isWxmpError, type WxErrorCode } from '../errors.js'

const token = 'GreedIsGood'
const real = { signature: '37cc4891f809493628677ae2b592e63c938c0b03', timestamp: '1668869433', nonce: '977789310' }
const at = (sec: number) => () => sec * 1000

function rejects(fn: () => unknown, code: WxErrorCode) {
  assert.throws(fn, (err) => isWxmpError(err, code))
}

test('a real WeChat query verifies inside the window and when the window is disabled', () => {
  assert.deepEqual(verifySignedQuery({ ...real }, { token, timestampToleranceSec: 300, now: at(1668869433 + 299) }), real)
  assert.ok(verifySignedQuery({ ...real }, { token, timestampToleranceSec: 0, now: at(2_000_000_000) }))
})

test('stale and future timestamps are rejected with the skew', () => {
  rejects(() => verifySignedQuery({ ...real }, { token, timestampToleranceSec: 300, now: at(1668869433 + 301) }), 'WX_ERR_TIMESTAMP_STALE')
  rejects(() => verifySignedQuery({ ...real }, { token, timestampToleranceSec: 300, now: at(1668869433 - 301) }), 'WX_ERR_TIMESTAMP_STALE')
})

test('the signature is checked before the timestamp, so a forgery never learns the window', () => {
  rejects(() => verifySignedQuery({ ...real, nonce: '1' }, { token, timestampToleranceSec: 1, now: at(0) }), 'WX_ERR_SIGNATURE_INVALID')
})

test('missing parameters, a wrong token and a non-numeric timestamp are told apart', () => {
  rejects(() => verifySignedQuery({ timestamp: '1', nonce: '2' }, { token, timestampToleranceSec: 0, now: Date.now }), 'WX_ERR_SIGNATURE_MISSING')
  rejects(() => verifySignedQuery({ ...real }, { token: 'greedisgood', timestampToleranceSec: 0, now: Date.now }), 'WX_ERR_SIGNATURE_INVALID')
  const ts = 'abc'
  rejects(() => verifySignedQuery({ timestamp: ts, nonce: 'n', signature: sha1Sorted([token, ts, 'n']) }, { token, timestampToleranceSec: 0, now: Date.now }), 'WX_ERR_TIMESTAMP_INVALID')
})

test('only the form WeChat sends verifies: lowercase hex, no leading zero in the timestamp', () => {
  const options = { token, timestampToleranceSec: 0, now: Date.now }
  rejects(() => verifySignedQuery({ ...real, signature: real.signature.toUpperCase() }, options), 'WX_ERR_SIGNATURE_INVALID')
  rejects(() => verifySignedQuery({ ...real, signature: real.signature.replace('c', 'C') }, options), 'WX_ERR_SIGNATURE_INVALID')
  rejects(() => verifySignedQuery({ ...real, signature: ` ${real.signature.slice(1)}` }, options), 'WX_ERR_SIGNATURE_INVALID')
  rejects(() => verifySignedQuery({ ...real, timestamp: '0' + real.timestamp, signature: sha1Sorted([token, '0' + real.timestamp, real.nonce]) }, options), 'WX_ERR_TIMESTAMP_INVALID')
})

test('every split of the digits that signs alike gives the same signature back, so the replay guard sees one request', () => {
  // with the window off, "1714037059" + "486452656" re-split as "17140370594" + "86452656" sorts and signs the same
  const options = { token, timestampToleranceSec: 0, now: Date.now }
  const a = verifySignedQuery({ timestamp: '1714037059', nonce: '486452656', signature: sha1Sorted([token, '1714037059', '486452656']) }, options)
  const b = verifySignedQuery({ timestamp: '17140370594', nonce: '86452656', signature: sha1Sorted([token, '1714037059', '486452656']) }, options)
  assert.equal(a.signature, b.signature)
})

const body = (query: Record<string, string>, text: string) => replayFingerprint('POST', query, text)

for (const [name, makeStore] of [
  ['process-local (synchronous) store', () => new MemoryStore()],
  ['shared (async) store', () => asSharedStore(new MemoryStore())],
] as const) {
  test(`an identical redelivery passes the replay guard; the same query with a new body does not (${name})`, async () => {
    const guard = new ReplayGuard(makeStore(), 60_000)
    const check = async (params: typeof real, fingerprint: string) => guard.check(params, fingerprint)
    await check(real, body({}, '<xml>a</xml>'))
    await check(real, body({}, '<xml>a</xml>'))
    await assert.rejects(check(real, body({}, '<xml>forged</xml>')), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
    // another signed query (a verified one has its own signature) is a new request
    await check({ ...real, nonce: 'other', signature: sha1Sorted([token, real.timestamp, 'other']) }, body({}, '<xml>forged</xml>'))
  })

  test(`the same body with other encryption parameters is another use of the query (${name})`, async () => {
    const guard = new ReplayGuard(makeStore(), 60_000)
    await guard.check(real, body({ encrypt_type: 'aes', msg_signature: 'a'.repeat(40) }, '<xml>a</xml>'))
    await assert.rejects(async () => guard.check(real, body({}, '<xml>a</xml>')), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
    await assert.rejects(async () => guard.check(real, body({ encrypt_type: 'aes', msg_signature: 'b'.repeat(40) }, '<xml>a</xml>')), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
    // an absent encrypt_type and "raw" are one meaning, so one fingerprint
    assert.equal(body({}, 'x'), body({ encrypt_type: 'raw' }, 'x'))
  })

  test(`a URL check's query cannot carry a message, and a message's query cannot pass a URL check (${name})`, async () => {
    const store = makeStore()
    const guard = new ReplayGuard(store, 60_000)
    await guard.check(real, replayFingerprint('GET', { echostr: 'e' }, ''))
    await guard.check(real, replayFingerprint('GET', { echostr: 'e' }, '')) // the console may check twice
    await assert.rejects(async () => guard.check(real, body({}, '<xml>a</xml>')), (err) => isWxmpError(err, 'WX_ERR_REPLAY') && /URL check/.test(err.message))
    if (store.local !== undefined) assert.throws(() => guard.refuseUsedByUrlCheck(real), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
    const other = { ...real, nonce: 'n2', signature: sha1Sorted([token, real.timestamp, 'n2']) }
    guard.refuseUsedByUrlCheck(other)
    await guard.check(other, body({}, '<xml>a</xml>'))
    await assert.rejects(async () => guard.check(other, replayFingerprint('GET', { echostr: 'e' }, '')), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
  })
}

test('the replay guard answers synchronously on a process-local store and asynchronously on a shared one', async () => {
  assert.equal(new ReplayGuard(new MemoryStore(), 60_000).check(real, body({}, '<xml>a</xml>')), undefined)
  const pending = new ReplayGuard(asSharedStore(new MemoryStore()), 60_000).check(real, body({}, '<xml>a</xml>'))
  assert.ok(pending instanceof Promise)
  await pending
})

test('under a flood that wraps the in-process ring within a second, every fresh genuine query passes, and a let-go query with a forged body is still refused', () => {
  let now = 1_800_000_000_000
  // a ring of a few hundred records, and the smallest filter of keys let go: it soon says "maybe" to any key
  const store = new ArenaStore({ budgetBytes: 64 * 1024, forgottenKeysBytes: 1, now: () => now })
  const guard = new ReplayGuard(store, 600_000, () => now)
  const query = (i: number) => ({ signature: sha1Sorted(['flood', String(i)]), timestamp: String(Math.floor(now / 1000)), nonce: String(i) })
  const first = query(0)
  let refused = 0
  for (let i = 0; i < 20_000; i++) {
    if (i % 10 === 0) now += 1 // 10 000 messages a second, for two seconds
    try {
      guard.check(i === 0 ? first : query(i), body({}, `<xml>${i}</xml>`))
    } catch {
      refused++
    }
  }
  assert.ok(store.arena.evictedThrough > 1_800_000_001_000, 'the ring held far less than the two seconds a fresh query is asked about')
  assert.equal(refused, 0, 'no genuine query of the flood was refused')
  rejects(() => guard.check(first, body({}, '<xml>forged</xml>')), 'WX_ERR_REPLAY')
})
