import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ArenaStore } from './arena-store.js'

/** A deterministic generator, so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

describe('ArenaStore', () => {
  test('a small budget wraps many times and never returns a wrong value; whatever it forgot, wouldRemember owns up to', () => {
    let now = 1_000_000
    const store = new ArenaStore({ budgetBytes: 64 * 1024, now: () => now })
    const rand = random(7)
    const model = new Map<string, { value: unknown; insertedAt: number; expiresAt: number }>()
    for (let step = 0; step < 60_000; step++) {
      now += Math.floor(rand() * 3)
      const key = `k:${Math.floor(rand() * 3000)}`
      const op = rand()
      if (op < 0.45) {
        const value = rand() < 0.5 ? `v${step}`.repeat(1 + Math.floor(rand() * 20)) : { step, body: 'x'.repeat(Math.floor(rand() * 200)) }
        const ttl = 1 + Math.floor(rand() * 5000)
        const current = model.get(key)
        const added = store.addLocal(key, value, ttl)
        if (current !== undefined && current.expiresAt > now) {
          // present in the model: the store may have forgotten it, but only if it says so
          if (added) assert.equal(store.wouldRemember(key, current.insertedAt), false, `step ${step}: ${key} re-added though the store claims it would remember it`)
        } else assert.equal(added, true, `step ${step}: add of an absent key failed`)
        if (added) model.set(key, { value, insertedAt: now, expiresAt: now + ttl })
      } else if (op < 0.65) {
        const value = { set: step }
        store.setLocal(key, value, 2000)
        model.set(key, { value, insertedAt: now, expiresAt: now + 2000 })
      } else if (op < 0.75) {
        const current = model.get(key)
        const deleted = store.deleteLocalIf(key, current?.value ?? 'nothing')
        if (deleted) {
          assert.ok(current !== undefined && current.expiresAt > now, `step ${step}: deleted a key the model does not hold`)
          model.delete(key)
        }
      } else {
        const current = model.get(key)
        const seen = store.getLocal(key)
        if (current === undefined || current.expiresAt <= now) assert.equal(seen, undefined, `step ${step}: ${key} should be absent or expired`)
        else if (seen === undefined) assert.equal(store.wouldRemember(key, current.insertedAt), false, `step ${step}: ${key} lost though the store claims it would remember it`)
        else assert.deepEqual(seen, current.value, `step ${step}: wrong value for ${key}`)
      }
    }
    assert.ok(store.horizon > 0, 'the small budget must have overwritten live records')
  })

  test('the filter of keys let go is asked only about queries older than the newest record let go: a fresh one is never refused by its false positives', () => {
    let now = 1_000_000
    const store = new ArenaStore({ budgetBytes: 64 * 1024, forgottenKeysBytes: 1, now: () => now })
    for (let i = 0; i < 40_000; i++) {
      if (i % 100 === 0) now += 1
      store.addLocal(`replay:${i}`, 'fingerprint', 600_000)
    }
    // The smallest filter, with tens of thousands of keys in it, says "maybe" to almost anything.
    // Almost: the arena's hash is seeded per process, so for about one seed in 150 a never-seen
    // key misses a bit (3,000 stores: 19). A key the store let go is certain (a Bloom filter has no
    // false negatives), and a false positive answers exactly as such a key does.
    const newestLetGo = store.arena.evictedThrough
    assert.ok(newestLetGo > 1_000_000 && newestLetGo < now)
    assert.equal(store.wouldRemember('replay:0', newestLetGo), false, 'at or before the newest let go: the filter answers, and holds the key let go')
    assert.equal(store.wouldRemember('replay:0', newestLetGo + 1), true, 'after it: nothing could have been let go, so not even a key the filter holds is refused')
    assert.equal(store.wouldRemember('replay:never-seen', newestLetGo + 1), true, 'after it: a fresh key is not refused either')
  })

  test('the latest keys let go are known exactly: a fresh never-seen key is vouched for even when the filter says "maybe" to everything', () => {
    let now = 1_000_000
    const store = new ArenaStore({ budgetBytes: 64 * 1024, forgottenKeysBytes: 1, now: () => now })
    const written = new Map<string, number>()
    const flood = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        if (i % 100 === 0) now += 1
        store.addLocal(`replay:${i}`, 'fingerprint', 600_000)
        written.set(`replay:${i}`, now)
      }
    }
    flood(0, 40_000)
    const newestLetGo = store.arena.evictedThrough
    assert.ok(newestLetGo > 1_000_000 && newestLetGo < now)
    // the saturated filter alone refused these (all but about one seed in 150: see the test above)
    let refused = 0
    for (let i = 0; i < 1000; i++) if (!store.wouldRemember(`replay:never-seen:${i}`, newestLetGo - 50)) refused++
    assert.equal(refused, 0, 'never-seen keys asked about before the newest let go are vouched for')
    let lost = 0
    for (let i = 0; i < 40_000; i++) {
      const key = `replay:${i}`
      if (store.getLocal(key) === undefined) {
        lost++
        assert.equal(store.wouldRemember(key, written.get(key)!), false, `${key} was let go: it must be refused`)
      }
    }
    assert.ok(lost > 30_000, `the small budget let most keys go (${lost})`)
    // far more keys let go than the exact table holds: the oldest are answered by the filter again
    flood(40_000, 120_000)
    assert.equal(store.wouldRemember('replay:0', written.get('replay:0')!), false, 'a key let go long ago is still refused (by the filter)')
    assert.equal(store.wouldRemember('replay:100000', written.get('replay:100000')!), false, 'and so is one the exact table holds')
    assert.equal(store.wouldRemember('replay:never-seen', store.arena.evictedThrough), true, 'a fresh never-seen key is still vouched for')
  })

  test('liveSince lists the live records written after a time, as the API gives them back', () => {
    let now = 5_000
    const store = new ArenaStore({ now: () => now })
    store.addLocal('old', 'x', 60_000)
    now += 10
    store.addLocal('replay:\u{1F600}', 'fp', 60_000)
    store.setLocal('dedup:1', { state: 'done', response: { status: 200, body: '<xml/>' } }, 60_000)
    store.addLocal('gone', 'y', 60_000)
    void store.delete('gone')
    store.addLocal('short', 'z', 5)
    store.setLocal('lone\uD800', 'kept apart', 60_000)
    void store.set('forever', 1)
    now += 5
    assert.deepEqual(store.liveSince(5_000), [
      { key: 'replay:\u{1F600}', value: 'fp', ttlMs: 59_995 },
      { key: 'dedup:1', value: { state: 'done', response: { status: 200, body: '<xml/>' } }, ttlMs: 59_995 },
      { key: 'lone\uD800', value: 'kept apart', ttlMs: 59_995 },
      { key: 'forever', value: 1, ttlMs: undefined },
    ])
  })

  test('records that expired before they were overwritten are not counted as forgotten', () => {
    let now = 0
    const store = new ArenaStore({ budgetBytes: 64 * 1024, now: () => now })
    for (let i = 0; i < 10_000; i++) {
      now += 10
      store.addLocal(`short:${i}`, 'x'.repeat(100), 5) // gone long before the ring comes round
    }
    assert.equal(store.horizon, 0)
    assert.equal(store.wouldRemember('short:0', 1), true)
    for (let i = 0; i < 10_000; i++) store.addLocal(`long:${i}`, 'x'.repeat(100), 3_600_000)
    assert.ok(store.horizon > 0)
  })

  test('under a flood of queries all signed in one second, the keys let go are named, not the whole second', () => {
    const now = 1_800_000_000_000
    const store = new ArenaStore({ budgetBytes: 256 * 1024, now: () => now })
    for (let i = 0; i < 20_000; i++) store.addLocal(`replay:${i}`, 'digest-digest-digest-digest', 600_000)
    assert.equal(store.getLocal('replay:0'), undefined, 'the first records were overwritten')
    assert.equal(store.wouldRemember('replay:0', now), false, 'a let-go key is owned up to')
    let refused = 0
    for (let i = 0; i < 10_000; i++) if (!store.wouldRemember(`replay:new:${i}`, now)) refused++
    assert.ok(refused < 10, `never-seen keys of the same second are still vouched for (${refused} of 10 000 refused)`)
  })

  test('values come back as copies; strings keep their text; a lone surrogate in a key or value is kept apart', () => {
    const store = new ArenaStore()
    const value = { state: 'done', response: { status: 200, headers: { 'content-type': 'text/xml' }, body: '<xml>你好 "q" ]]></xml>' } }
    assert.equal(store.addLocal('a', value, 1000), true)
    const back = store.getLocal<typeof value>('a')
    assert.deepEqual(back, value)
    assert.notEqual(back, value)
    store.setLocal('s', '你好 👋', 1000)
    assert.equal(store.getLocal('s'), '你好 👋')
    store.setLocal('x\ud800', 1, 1000)
    store.setLocal('x\udbff', 2, 1000)
    assert.equal(store.getLocal('x\ud800'), 1)
    assert.equal(store.getLocal('x\udbff'), 2)
    store.setLocal('half', 'a\ud800b', 1000)
    assert.equal(store.getLocal('half'), 'a\ud800b')
  })

  test('deleteLocalIf deletes only an equal value, and a deletion holds', () => {
    const store = new ArenaStore()
    const claim = { state: 'pending', since: 5, owner: 'me' }
    store.addLocal('dedup:1', claim, 1000)
    assert.equal(store.deleteLocalIf('dedup:1', { ...claim, owner: 'other' }), false)
    assert.equal(store.deleteLocalIf('dedup:1', { ...claim }), true)
    assert.equal(store.getLocal('dedup:1'), undefined)
    assert.equal(store.addLocal('dedup:1', claim, 1000), true)
  })

  test('a record too large for the budget is refused with a RangeError and nothing is written', () => {
    const store = new ArenaStore({ budgetBytes: 64 * 1024 })
    assert.throws(() => store.setLocal('big', 'x'.repeat(9000), 1000), RangeError)
    assert.equal(store.getLocal('big'), undefined)
  })

  test('under a flood memory stays within the budget: the ring is the only storage', () => {
    const store = new ArenaStore({ budgetBytes: 1 << 20 })
    const before = store.arena.buf.length
    for (let i = 0; i < 100_000; i++) store.addLocal(`replay:${i.toString(16).padStart(40, '0')}`, 'digestdigestdigestdigest1234', 600_000)
    assert.equal(store.arena.buf.length, before)
    assert.ok(store.arena.size < 100_000)
    assert.ok(store.horizon > 0)
  })
})

describe('packed values', () => {
  test('read back exactly as JSON.parse(JSON.stringify(value)) would give them', () => {
    const store = new ArenaStore()
    const odd = Object.create(null) as Record<string, unknown>
    odd.a = 1
    const values: unknown[] = [
      { state: 'done', response: { status: 200, headers: Object.freeze({ 'content-type': 'text/xml; charset=utf-8' }), body: '<xml>你好 👋 "q" \\ ]]></xml>' } },
      { state: 'pending', since: 1_764_000_000_123, owner: '123-abc' },
      [1, 'two', null, true, false, { x: [] }, undefined, () => 1, NaN, -0, Infinity],
      { skipped: undefined, fn: () => 1, kept: 'yes', nested: { deeper: { deepest: [[]] } } },
      { date: new Date(0) },
      { surrogate: 'x\ud800y' },
      { __proto__: null, key: 'v' },
      JSON.parse('{"__proto__": {"polluted": true}}'),
      odd,
      0,
      -0,
      1e300,
      true,
      null,
      [],
      {},
    ]
    values.forEach((value, i) => {
      store.setLocal(`k${i}`, value, 1000)
      assert.deepEqual(store.getLocal(`k${i}`), JSON.parse(JSON.stringify(value)), `value ${i}`)
    })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})
