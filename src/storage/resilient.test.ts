import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { WxmpError } from '../errors.js'
import { runStoreConformance } from './conformance.js'
import { MemoryStore } from './memory.js'
import { ResilientStore } from './resilient.js'
import type { KeyValueStore } from './types.js'

/** A backend that can be switched off (every call fails like a dropped Redis) or made to hang. */
class SwitchableStore implements KeyValueStore {
  readonly kind = 'redis'
  mode: 'up' | 'down' | 'hang' | 'throws' | 'late' = 'up'
  calls = 0
  readonly inner = new MemoryStore()
  private gate<R>(fn: () => Promise<R>): Promise<R> {
    this.calls++
    if (this.mode === 'down') return Promise.reject(new WxmpError('WX_ERR_STORAGE', 'Redis at 127.0.0.1:6379 failed: not connected (ECONNREFUSED)'))
    if (this.mode === 'hang') return new Promise(() => {})
    // a backend that throws where it should reject (a custom store, a driver's bug)
    if (this.mode === 'throws') throw new Error('socket closed before the command was written')
    // answers, but only after the caller's deadline
    if (this.mode === 'late') return new Promise((resolve, reject) => setTimeout(() => fn().then(resolve, reject), 60))
    return fn()
  }
  get<T>(key: string) {
    return this.gate(() => this.inner.get<T>(key))
  }
  set(key: string, value: unknown, ttlMs?: number) {
    return this.gate(() => this.inner.set(key, value, ttlMs))
  }
  delete(key: string) {
    return this.gate(() => this.inner.delete(key))
  }
  add(key: string, value: unknown, ttlMs?: number) {
    return this.gate(() => this.inner.add(key, value, ttlMs))
  }
  deleteIf(key: string, expected: unknown) {
    return this.gate(() => this.inner.deleteIf(key, expected))
  }
  ping() {
    return this.gate(async () => {})
  }
  async close() {}
}

function captureLog() {
  const lines: Array<{ level: string; obj: object; msg: string | undefined }> = []
  return {
    lines,
    logger: {
      warn: (obj: object, msg?: string) => void lines.push({ level: 'warn', obj, msg }),
      info: (obj: object, msg?: string) => void lines.push({ level: 'info', obj, msg }),
    },
  }
}

/** Waits (bounded) until `condition` holds; the probe runs on its own timer. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2))
  assert.ok(condition(), `timed out waiting for ${what}`)
}

describe('ResilientStore', () => {
  test('falls back to memory with ONE warning, keeps answering, and switches back when the backend returns', async () => {
    const backend = new SwitchableStore()
    const { lines, logger } = captureLog()
    const states: Array<'primary' | 'fallback'> = []
    const store = new ResilientStore(backend, { logger, probeIntervalMs: 5, onChange: (s) => states.push(s) })
    try {
      assert.equal(await store.add('k', 1, 60_000), true)
      assert.equal(await backend.inner.get('k'), 1, 'writes go to the backend while it is up')

      backend.mode = 'down'
      for (let i = 0; i < 50; i++) assert.equal(await store.add(`during:${i}`, i, 60_000), true)
      assert.equal(await store.add('during:0', 'again', 60_000), false, 'the fallback still enforces insert-if-absent')
      assert.equal(await store.get('during:7'), 7)
      assert.equal(store.degraded, true)
      assert.equal(lines.filter((l) => l.level === 'warn').length, 1, 'one warning for the whole outage')
      assert.match(lines[0]?.msg ?? '', /redis store unreachable: serving from in-process memory/)
      await assert.rejects(store.ping(), /ECONNREFUSED/, 'readiness still sees the outage')

      backend.mode = 'up'
      await until(() => states.length === 2, 'the switch back')
      assert.deepEqual(states, ['fallback', 'primary'])
      assert.equal(store.degraded, false)
      assert.equal(await store.get('k'), 1, 'back on the backend, its data is there again')
      await store.set('after', 2)
      assert.equal(await backend.inner.get('after'), 2)
      assert.equal(lines.filter((l) => l.level === 'info').length, 1)
      assert.equal(store.outages, 1)
    } finally {
      await store.close()
    }
  })

  test('a backend that hangs counts as down after the operation timeout', async () => {
    const backend = new SwitchableStore()
    backend.mode = 'hang'
    const { lines, logger } = captureLog()
    const store = new ResilientStore(backend, { logger, operationTimeoutMs: 20, probeIntervalMs: 10_000 })
    try {
      assert.equal(await store.add('x', 1), true)
      assert.equal(store.degraded, true)
      assert.match(JSON.stringify(lines[0]?.obj), /no answer to an operation within 20 ms/)
    } finally {
      await store.close()
    }
  })

  test('input errors are the caller\'s: they pass through and never trigger the fallback', async () => {
    const backend = new SwitchableStore()
    const store = new ResilientStore(backend)
    try {
      await assert.rejects(store.set('', 1), TypeError)
      await assert.rejects(store.set('k', undefined), TypeError)
      await assert.rejects(store.set('k', 1, -5), RangeError)
      assert.equal(store.degraded, false)
    } finally {
      await store.close()
    }
  })

  test('a backend that throws instead of rejecting counts as down: the fallback answers, nothing escapes as a throw', async () => {
    const backend = new SwitchableStore()
    const { lines, logger } = captureLog()
    const store = new ResilientStore(backend, { logger, probeIntervalMs: 60_000 })
    try {
      backend.mode = 'throws'
      const added = store.add('k', 1, 60_000)
      assert.ok(added instanceof Promise, 'a promise, not a synchronous throw')
      assert.equal(await added, true)
      assert.equal(await store.get('k'), 1)
      assert.equal(store.degraded, true)
      assert.equal(lines.filter((l) => l.level === 'warn').length, 1)
    } finally {
      await store.close()
    }
  })

  test('an answer that comes after the deadline is ignored: the fallback\'s stands, and is not mirrored twice', async () => {
    const backend = new SwitchableStore()
    const store = new ResilientStore(backend, { operationTimeoutMs: 20, probeIntervalMs: 60_000 })
    try {
      await store.set('k', 'before', 60_000)
      backend.mode = 'late'
      assert.equal(await store.add('fresh', 'from fallback', 60_000), true, 'the fallback took it once the deadline passed')
      await new Promise((resolve) => setTimeout(resolve, 80)) // the backend's late answer arrives meanwhile
      assert.equal(store.degraded, true)
      assert.equal(await store.get('fresh'), 'from fallback')
      assert.equal(await store.get('k'), 'before', 'the mirror still serves what was written while the backend was up')
    } finally {
      await store.close()
    }
  })

  test('a second outage is announced again, once', async () => {
    const backend = new SwitchableStore()
    const { lines, logger } = captureLog()
    const states: Array<'primary' | 'fallback'> = []
    const store = new ResilientStore(backend, { logger, probeIntervalMs: 5, onChange: (s) => states.push(s) })
    try {
      for (let round = 1; round <= 2; round++) {
        backend.mode = 'down'
        await store.get('a')
        await store.get('b')
        backend.mode = 'up'
        await until(() => states.length === 2 * round, `recovery ${round}`)
      }
      assert.equal(lines.filter((l) => l.level === 'warn').length, 2)
      assert.equal(store.outages, 2)
    } finally {
      await store.close()
    }
  })
})

describe('ResilientStore on Redis: the mirror of this instance\'s writes', () => {
  test('during an outage it knows what this instance wrote just before; a query signed seconds before the outage is vouched for, one signed earlier is not', async () => {
    let now = 1_800_000_000_000
    const backend = new SwitchableStore()
    const store = new ResilientStore(backend, { probeIntervalMs: 60_000, now: () => now })
    try {
      now += 60_000
      assert.equal(await store.add('replay:seen', 'fp-1', 600_000), true)
      assert.equal(store.wouldRemember('replay:any', 1), true, 'while Redis is up, it holds everything')
      now += 1000
      backend.mode = 'down'
      assert.equal(await store.add('replay:new', 'fp-2', 600_000), true, 'a new query during the outage')
      assert.equal(store.degraded, true)
      assert.equal(await store.add('replay:seen', 'forged', 600_000), false, 'seen before the outage: still known')
      assert.equal(await store.get('replay:seen'), 'fp-1')
      assert.equal(store.wouldRemember('replay:fresh', now - 2000), true, 'a genuine query signed just before the outage began is not refused')
      assert.equal(store.wouldRemember('replay:old', now - 6000), false, 'one signed earlier may be in Redis only')
    } finally {
      await store.close()
    }
  })

  test('when Redis returns, the outage\'s records are written back (insert if absent), so one seen during the outage stays refused', async () => {
    let now = 1_800_000_000_000
    const backend = new SwitchableStore()
    const states: string[] = []
    const store = new ResilientStore(backend, { probeIntervalMs: 5, now: () => now, onChange: (state) => states.push(state) })
    try {
      now += 60_000
      await store.add('before', 'b', 600_000)
      backend.mode = 'down'
      await store.add('during', 'd', 600_000)
      await store.set('session', { step: 2 })
      await backend.inner.set('clash', 'another instance') // written to Redis meanwhile by another instance
      await store.add('clash', 'this instance', 600_000)
      now += 30_000
      backend.mode = 'up'
      await until(() => states.length === 2, 'the switch back')
      assert.equal(await store.add('during', 'forged', 600_000), false, 'Redis knows the outage\'s records')
      assert.equal(await backend.inner.get('during'), 'd')
      assert.deepEqual(await backend.inner.get('session'), { step: 2 }, 'a session written during the outage is kept')
      assert.equal(await backend.inner.get('clash'), 'another instance', 'what Redis holds wins')
      assert.equal(store.wouldRemember('replay:fresh', now - 2000), true)
      assert.equal(store.wouldRemember('replay:old', 1_800_000_000_000 + 60_000 - 6000), false, 'signed well before the outage: Redis may have lost it (a restart without persistence)')
    } finally {
      await store.close()
    }
  })

  test('without a mirror (a fallback of its own), the line is the outage\'s start, then its end', async () => {
    let now = 1_800_000_000_000
    const backend = new SwitchableStore()
    const states: string[] = []
    const store = new ResilientStore(backend, { probeIntervalMs: 5, now: () => now, createFallback: () => new MemoryStore(), onChange: (state) => states.push(state) })
    try {
      await store.add('seen', 'x', 600_000)
      now += 1000
      backend.mode = 'down'
      await store.add('during', 'y', 600_000)
      assert.equal(await store.add('seen', 'forged', 600_000), true, 'the fallback cannot know it...')
      assert.equal(store.wouldRemember('seen', now - 1000), false, '...so the replay guard is told not to trust it')
      now += 1000
      backend.mode = 'up'
      await until(() => states.length === 2, 'the switch back')
      assert.equal(store.wouldRemember('during', now - 500), false)
      assert.equal(store.wouldRemember('fresh', now + 1), true)
    } finally {
      await store.close()
    }
  })
})

runStoreConformance('resilient(memory)', async () => new ResilientStore(new MemoryStore()), { survivesRestart: false })
