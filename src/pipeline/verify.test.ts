import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplayGuard, verifySignedQuery } from './verify.js'
import { sha1Sorted } from './signature.js'
import { MemoryStore } from '../storage/memory.js'
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

for (const [name, makeStore] of [
  ['process-local (synchronous) store', () => new MemoryStore()],
  ['shared (async) store', () => asSharedStore(new MemoryStore())],
] as const) {
  test(`an identical redelivery passes the replay guard; the same query with a new body does not (${name})`, async () => {
    const guard = new ReplayGuard(makeStore(), 60_000)
    const check = async (params: typeof real, body: string) => guard.check(params, body)
    await check(real, '<xml>a</xml>')
    await check(real, '<xml>a</xml>')
    await assert.rejects(check(real, '<xml>forged</xml>'), (err) => isWxmpError(err, 'WX_ERR_REPLAY'))
    // another signed query (a verified one has its own signature) is a new request
    await check({ ...real, nonce: 'other', signature: sha1Sorted([token, real.timestamp, 'other']) }, '<xml>forged</xml>')
  })
}

test('the replay guard answers synchronously on a process-local store and asynchronously on a shared one', async () => {
  assert.equal(new ReplayGuard(new MemoryStore(), 60_000).check(real, '<xml>a</xml>'), undefined)
  const pending = new ReplayGuard(asSharedStore(new MemoryStore()), 60_000).check(real, '<xml>a</xml>')
  assert.ok(pending instanceof Promise)
  await pending
})

