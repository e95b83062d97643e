import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError, type WxErrorCode } from '../errors.js'
import { MemoryStore } from '../storage/memory.js'
import { Admission, type RequestLimiter } from './admission.js'
import { TrustedProxies } from './client-address.js'
import { sha1Sorted } from './signature.js'
import { ReplayGuard, replayFingerprint } from './verify.js'

const token = 'admissionToken'
const now = 1_714_037_059
function signed(nonce = '486452656', timestamp = String(now)) {
  return { signature: sha1Sorted([token, timestamp, nonce]), timestamp, nonce }
}

function admission(extra: { limiter?: RequestLimiter; proxies?: TrustedProxies } = {}) {
  const replay = new ReplayGuard(new MemoryStore(), 60_000)
  return { replay, admission: new Admission({ token, timestampToleranceSec: 300, now: () => now * 1000, replay, ...extra }) }
}

function refuses(fn: () => unknown, code: WxErrorCode) {
  assert.throws(fn, (err) => isWxmpError(err, code))
}

describe('admission: the checks before the body', () => {
  test('a signed GET, HEAD or POST is admitted with its normalised query and the signature as computed', () => {
    const { admission: a } = admission()
    for (const method of ['GET', 'head', 'POST']) {
      const admitted = a.admit({ method, query: new URLSearchParams({ ...signed(), openid: 'o1' }) })
      assert.equal(admitted.method, method.toUpperCase())
      assert.equal(admitted.query.openid, 'o1')
      assert.equal(admitted.params.signature, signed().signature)
    }
  })

  test('refusals come in the documented order: method, duplicates, signature, timestamp window', () => {
    const { admission: a } = admission()
    refuses(() => a.admit({ method: 'PUT', query: {} }), 'WX_ERR_METHOD_NOT_ALLOWED')
    refuses(() => a.admit({ method: 'POST', query: new URLSearchParams(`signature=${signed().signature}&signature=${signed().signature}&timestamp=${now}&nonce=1`) }), 'WX_ERR_QUERY_DUPLICATE')
    refuses(() => a.admit({ method: 'POST', query: { ...signed(), nonce: ['486452656', '1'] } }), 'WX_ERR_QUERY_DUPLICATE')
    refuses(() => a.admit({ method: 'POST', query: { ...signed(), signature: signed().signature.toUpperCase() } }), 'WX_ERR_SIGNATURE_INVALID')
    refuses(() => a.admit({ method: 'POST', query: signed('1', String(now - 301)) }), 'WX_ERR_TIMESTAMP_STALE')
  })

  test('a POST on the query a URL check used is refused before its body', async () => {
    const { admission: a, replay } = admission()
    const query = signed()
    await replay.check(a.admit({ method: 'GET', query }).params, replayFingerprint('GET', { echostr: 'e' }, ''))
    refuses(() => a.admit({ method: 'POST', query }), 'WX_ERR_REPLAY')
  })

  test('signed and refused requests spend separate allowances; an exhausted one answers 429 with Retry-After', () => {
    const spent: Array<[string, boolean]> = []
    const limiter: RequestLimiter = {
      take: (source, verified) => {
        spent.push([source, verified])
        return verified ? { allowed: true, retryAfterSec: 0, firstRefusal: false } : { allowed: false, retryAfterSec: 7, firstRefusal: true }
      },
    }
    const { admission: a } = admission({ limiter })
    a.admit({ method: 'POST', query: signed(), remoteAddress: '203.0.113.9' })
    assert.throws(
      () => a.admit({ method: 'POST', query: { ...signed(), signature: 'f'.repeat(40) }, remoteAddress: '203.0.113.9' }),
      (err) => isWxmpError(err, 'WX_ERR_RATE_LIMITED') && err.details?.retryAfterSec === 7 && err.details?.firstRefusal === true,
    )
    assert.deepEqual(spent, [['203.0.113.9', true], ['203.0.113.9', false]])
  })

  test('behind a trusted proxy the client address comes from X-Forwarded-For; from anyone else the header is ignored', () => {
    const { admission: a } = admission({ proxies: new TrustedProxies({ proxies: ['127.0.0.1'] }) })
    const headers = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' }
    assert.equal(a.clientAddress({ remoteAddress: '127.0.0.1', headers }), '203.0.113.7')
    assert.equal(a.clientAddress({ remoteAddress: '192.0.2.1', headers }), '192.0.2.1')
  })
})
