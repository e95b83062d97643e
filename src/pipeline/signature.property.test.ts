import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isWxmpError } from '../errors.js'
import { checkSignature, safeEqualHex, sha1Sorted } from './signature.js'
import { verifySignedQuery } from './verify.js'

const anyText = fc.string({ unit: 'binary', maxLength: 64 })

describe('signature properties', () => {
  test('sha1Sorted does not depend on the order of its parts', () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 5 }), fc.nat(), (parts, seed) => {
        const shuffled = [...parts].sort(() => (seed % 3) - 1)
        assert.equal(sha1Sorted(shuffled), sha1Sorted(parts))
      }),
      { numRuns: 300 },
    )
  })

  test("the right signature is accepted in WeChat's lowercase form only; every other string is refused, none throws", () => {
    fc.assert(
      fc.property(anyText, fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 12 }), anyText, anyText, (token, timestamp, nonce, other) => {
        const good = sha1Sorted([token, timestamp, nonce])
        assert.equal(checkSignature(token, timestamp, nonce, good), true)
        assert.equal(checkSignature(token, timestamp, nonce, good.toUpperCase()), false)
        assert.equal(checkSignature(token, timestamp, nonce, other), other === good)
        assert.equal(checkSignature(token, timestamp, nonce, undefined), false)
      }),
      { numRuns: 500 },
    )
  })

  test('a signature with one hex digit changed is refused', () => {
    fc.assert(
      fc.property(anyText, anyText, fc.nat({ max: 39 }), fc.integer({ min: 1, max: 15 }), (token, nonce, at, delta) => {
        const good = sha1Sorted([token, '1700000000', nonce])
        const digit = ((parseInt(good[at]!, 16) + delta) % 16).toString(16)
        const bad = good.slice(0, at) + digit + good.slice(at + 1)
        assert.equal(checkSignature(token, '1700000000', nonce, bad), false)
      }),
      { numRuns: 500 },
    )
  })

  test('safeEqualHex never throws on arbitrary input, including multi-byte characters', () => {
    fc.assert(
      fc.property(anyText, fc.option(anyText, { nil: undefined }), (a, b) => {
        assert.equal(typeof safeEqualHex(a, b), 'boolean')
      }),
      { numRuns: 500 },
    )
  })

  test('verifySignedQuery on arbitrary queries either passes or throws a 4xx WxmpError', () => {
    const key = fc.constantFrom('signature', 'timestamp', 'nonce', 'echostr', 'x')
    fc.assert(
      fc.property(fc.dictionary(key, anyText), fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.nat({ max: 100_000 }), (query, now, tolerance) => {
        try {
          verifySignedQuery(query, { token: 'token', timestampToleranceSec: tolerance, now: () => now })
        } catch (err) {
          assert.ok(isWxmpError(err) && err.status >= 400 && err.status < 500, String(err))
        }
      }),
      { numRuns: 1000 },
    )
  })
})
