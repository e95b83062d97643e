import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WxmpError } from '../errors.js'
import { rejectionFor } from './rejection.js'

test('status, body code, precise reason and headers of a refusal', () => {
  assert.deepEqual(rejectionFor(new WxmpError('WX_ERR_SIGNATURE_INVALID')), { status: 401, code: 'WX_ERR_SIGNATURE_INVALID', reason: undefined, headers: {}, quiet: false })
  assert.deepEqual(rejectionFor(new WxmpError('WX_ERR_METHOD_NOT_ALLOWED')).headers, { allow: 'GET, POST' })
  assert.deepEqual(rejectionFor(new WxmpError('WX_ERR_OVERLOADED')).headers, { 'retry-after': '1' })
  const sealed = rejectionFor(new WxmpError('WX_ERR_DECRYPT_FAILED', 'pad', { details: { reason: 'WX_ERR_DECRYPT_PADDING' } }))
  assert.deepEqual([sealed.status, sealed.code, sealed.reason], [400, 'WX_ERR_DECRYPT_FAILED', 'WX_ERR_DECRYPT_PADDING'])
  assert.deepEqual(rejectionFor(new Error('bug')), { status: 500, code: 'WX_ERR_INTERNAL', reason: undefined, headers: {}, quiet: false })
})

test('a rate-limit refusal carries Retry-After; only the first of a burst is logged', () => {
  const first = rejectionFor(new WxmpError('WX_ERR_RATE_LIMITED', 'x', { details: { retryAfterSec: 3, firstRefusal: true } }))
  assert.deepEqual([first.status, first.headers, first.quiet], [429, { 'retry-after': '3' }, false])
  assert.equal(rejectionFor(new WxmpError('WX_ERR_RATE_LIMITED', 'x', { details: { retryAfterSec: 3, firstRefusal: false } })).quiet, true)
})
