import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimiter, SourceRateLimit, sourceKey } from './rate-limit.js'

describe('per-address rate limiter', () => {
  test('a burst up to the limit passes, the next request is refused with Retry-After', () => {
    let now = 1_700_000_000_000
    const limiter = new RateLimiter({ perMinute: 60, now: () => now })
    for (let i = 0; i < 60; i++) assert.equal(limiter.take('10.0.0.1').allowed, true, `request ${i + 1}`)
    const refused = limiter.take('10.0.0.1')
    assert.equal(refused.allowed, false)
    assert.equal(refused.retryAfterSec, 1)
    assert.equal(refused.firstRefusal, true)
    assert.equal(limiter.take('10.0.0.1').firstRefusal, false, 'only the first refusal is flagged for logging')
    now += 1000
    assert.equal(limiter.take('10.0.0.1').allowed, true, 'one request per second refills')
    assert.equal(limiter.take('10.0.0.1').allowed, false)
  })

  test('addresses do not share a bucket', () => {
    const limiter = new RateLimiter({ perMinute: 1, now: () => 0 })
    assert.equal(limiter.take('a').allowed, true)
    assert.equal(limiter.take('a').allowed, false)
    assert.equal(limiter.take('b').allowed, true)
  })

  test('a steady rate at the limit is never refused', () => {
    let now = 0
    const limiter = new RateLimiter({ perMinute: 600, now: () => now })
    for (let i = 0; i < 3000; i++) {
      now += 100
      assert.equal(limiter.take('wechat').allowed, true)
    }
  })

  test('memory stays bounded under a spray of addresses, idle ones are forgotten', () => {
    let now = 0
    const limiter = new RateLimiter({ perMinute: 10, maxAddresses: 1000, now: () => now })
    for (let i = 0; i < 50_000; i++) limiter.take(`198.51.${i >> 8}.${i & 255}`)
    assert.ok(limiter.size <= 1000, `${limiter.size} tracked`)
    now += 61_000
    limiter.take('fresh')
    assert.equal(limiter.size, 1)
  })

  test('a zero or negative limit is refused at construction', () => {
    assert.throws(() => new RateLimiter({ perMinute: 0 }), /positive/)
    assert.throws(() => new RateLimiter({ perMinute: Number.NaN }), /positive/)
  })
})

describe('the server rate limit: signed and refused requests apart', () => {
  test('a flood of refused requests from WeChat\'s own source leaves its signed allowance whole', () => {
    const limit = new SourceRateLimit({ perMinute: 5, now: () => 0 })
    for (let i = 0; i < 50; i++) limit.take('127.0.0.1', false)
    assert.equal(limit.take('127.0.0.1', false).allowed, false)
    for (let i = 0; i < 5; i++) assert.equal(limit.take('127.0.0.1', true).allowed, true, `signed request ${i + 1}`)
    assert.equal(limit.take('127.0.0.1', true).allowed, false)
  })

  test('IPv6 sources share a bucket per /64; IPv4 and IPv4-mapped addresses per address', () => {
    assert.equal(sourceKey('2001:db8:1:2:aaaa::1'), sourceKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'))
    assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'))
    assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7')
    assert.equal(sourceKey('203.0.113.7'), '203.0.113.7')
    assert.equal(sourceKey('unknown'), 'unknown')
    const limit = new SourceRateLimit({ perMinute: 1, now: () => 0 })
    assert.equal(limit.take('2001:db8:1:2::1', true).allowed, true)
    assert.equal(limit.take('2001:db8:1:2::99', true).allowed, false, 'another address of the same /64')
  })
})
