import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { RecentEvictions } from './recent-evictions.js'

describe('RecentEvictions', () => {
  test('holds at least the latest `capacity` keys, every key written after droppedThrough, and no key never added', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // few distinct hashes, so keys share slots, probe runs wrap around, and keys come back
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 50 })), { maxLength: 400 }),
        (capacity, keys) => {
          const table = new RecentEvictions(capacity)
          const added = keys.map(([hash, other, writtenAt]) => ({ hash: (hash * 0x01000193) >>> 0, other, writtenAt }))
          for (const key of added) table.add(key.hash, key.other, key.writtenAt)
          for (const key of added.slice(-capacity)) assert.equal(table.has(key.hash, key.other), true, 'one of the latest keys')
          for (const key of added) if (key.writtenAt > table.droppedThrough) assert.equal(table.has(key.hash, key.other), true, 'written after droppedThrough')
          assert.ok(table.droppedThrough <= Math.max(0, ...added.map((key) => key.writtenAt)))
          for (let hash = 0; hash <= 60; hash++) assert.equal(table.has((hash * 0x01000193) >>> 0, 9), false, 'a key never added is not found')
        },
      ),
      { numRuns: 300 },
    )
  })

  test('keeps the latest keys exactly under a long flood, with nothing found that was never added', () => {
    const table = new RecentEvictions(1000)
    const hashOf = (i: number) => Math.imul(i, 0x9e3779b1) >>> 0
    for (let i = 0; i < 50_000; i++) table.add(hashOf(i), i, i)
    for (let i = 49_000; i < 50_000; i++) assert.equal(table.has(hashOf(i), i), true)
    for (let i = 0; i < 48_000; i++) assert.equal(table.has(hashOf(i), i), false, 'dropped with its generation')
    for (let i = 50_000; i < 60_000; i++) assert.equal(table.has(hashOf(i), i), false)
    assert.ok(table.droppedThrough >= 47_999 && table.droppedThrough < 49_000)
    assert.equal(table.has(0, 0), false)
    table.add(0, 0, 50_000)
    assert.equal(table.has(0, 0), true, 'the pair of the empty slot is a key like any other')
  })

  test('a key is found only when both of its hashes match', () => {
    const table = new RecentEvictions(4)
    table.add(0xdeadbeef, 1, 10)
    assert.equal(table.has(0xdeadbeef, 1), true)
    assert.equal(table.has(0xdeadbeef, 2), false)
    assert.equal(table.has(0xdeadbeee, 1), false)
    assert.equal(table.has(-559038737, 1), true, 'the same 32 bits, signed or not')
  })

  test('droppedThrough is the latest write time among the keys dropped, even when they were not let go in write order', () => {
    const table = new RecentEvictions(2)
    table.add(1, 1, 500)
    table.add(2, 2, 100) // generation 1: newest 500
    table.add(3, 3, 300)
    table.add(4, 4, 200) // generation 2: newest 300
    assert.equal(table.droppedThrough, 0)
    assert.equal(table.has(1, 1), true)
    table.add(5, 5, 400) // drops generation 1
    assert.equal(table.droppedThrough, 500)
    assert.equal(table.has(1, 1), false)
    assert.equal(table.has(3, 3), true)
    table.add(6, 6, 600)
    table.add(7, 7, 700) // drops generation 2: the older time does not move it back
    assert.equal(table.droppedThrough, 500)
  })

  test('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new RecentEvictions(0), RangeError)
    assert.throws(() => new RecentEvictions(1.5), RangeError)
  })
})
