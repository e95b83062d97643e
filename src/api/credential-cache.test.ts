/**
 * The shared-credential rules without HTTP: several CredentialCache instances over one store
 * stand for several processes; a counting fetch stands for WeChat.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { isWxmpError } from '../errors.js'
import { MemoryStore } from '../storage/memory.js'
import type { KeyValueStore } from '../storage/types.js'
import { CredentialCache, type FetchedCredential } from './credential-cache.js'
import { WechatApiError } from './errors.js'

function counter(make: (n: number) => FetchedCredential | Promise<FetchedCredential> = (n) => ({ value: `token-${n}`, expiresInSec: 7200 })) {
  const state = { calls: 0 }
  const fetch = async () => {
    state.calls++
    const n = state.calls
    await sleep(5) // long enough for every concurrent caller to pile up
    return make(n)
  }
  return { state, fetch }
}

function cache(store: KeyValueStore, fetch: () => Promise<FetchedCredential>, extra: Partial<ConstructorParameters<typeof CredentialCache>[0]> = {}): CredentialCache {
  return new CredentialCache({ store, key: 'token:wx1', lockKey: 'lock:token:wx1', label: 'access_token', fetch, now: Date.now, lockTtlMs: 10_000, lockWaitMs: 10_000, ...extra })
}

describe('CredentialCache', () => {
  test('20 concurrent callers with nothing cached cause exactly one fetch (single-flight)', async () => {
    const { state, fetch } = counter()
    const c = cache(new MemoryStore(), fetch)
    const values = await Promise.all(Array.from({ length: 20 }, () => c.get()))
    assert.equal(state.calls, 1)
    assert.deepEqual(new Set(values.map((v) => v.value)), new Set(['token-1']))
  })

  test('five instances sharing one store cause exactly one fetch (the lock; the others wait for the stored value)', async () => {
    const store = new MemoryStore()
    const { state, fetch } = counter()
    const instances = Array.from({ length: 5 }, () => cache(store, fetch))
    const values = await Promise.all(instances.flatMap((c) => [c.get(), c.get()]))
    assert.equal(state.calls, 1)
    assert.ok(values.every((v) => v.value === 'token-1'))
    assert.equal(await store.get('lock:token:wx1'), undefined, 'the lock is released')
  })

  test('a new instance on the same store uses the stored value: it survives a restart', async () => {
    const store = new MemoryStore()
    const first = counter()
    await cache(store, first.fetch).get()
    const second = counter()
    assert.equal((await cache(store, second.fetch).get()).value, 'token-1')
    assert.equal(second.state.calls, 0)
  })

  test('proactive refresh: before 85% of expires_in no fetch, after it the next reader fetches', async () => {
    let t = 1_000_000
    const now = () => t
    const { state, fetch } = counter()
    const c = cache(new MemoryStore({ now }), fetch, { now })
    await c.get()
    t += 6119_000 // 84.99 % of 7200 s
    assert.equal((await c.get()).value, 'token-1')
    assert.equal(state.calls, 1)
    t += 2_000
    assert.equal((await c.get()).value, 'token-2')
    assert.equal(state.calls, 2)
  })

  test('a failed proactive refresh keeps serving the still-valid value', async () => {
    let t = 1_000_000
    const now = () => t
    const { state, fetch } = counter((n) => {
      if (n === 2) throw new Error('network down')
      return { value: `token-${n}`, expiresInSec: 7200 }
    })
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, warn: (_o: object, m?: string) => void warnings.push(m ?? ''), error() {}, child: () => logger }
    const c = cache(new MemoryStore({ now }), fetch, { now, logger })
    await c.get()
    t += 6500_000
    assert.equal((await c.get()).value, 'token-1')
    assert.equal(state.calls, 2)
    assert.match(warnings.join('\n'), /proactive access_token refresh failed/)
  })

  test('compare-and-invalidate: a failure of an old value never deletes the newer stored one, and costs no fetch', async () => {
    const store = new MemoryStore()
    const { state, fetch } = counter()
    const a = cache(store, fetch)
    const b = cache(store, fetch)
    const old = await a.get()
    const newer = await b.replaceFailed(old) // B saw the old value fail first and replaced it
    assert.equal(newer.value, 'token-2')
    const fromA = await a.replaceFailed(old) // A's call with the old value fails later
    assert.equal(fromA.value, 'token-2')
    assert.equal(state.calls, 2)
    assert.equal((await store.get<{ value: string }>('token:wx1'))?.value, 'token-2')
  })

  test('ten callers failing with the same value at once cause exactly one refresh', async () => {
    const { state, fetch } = counter()
    const c = cache(new MemoryStore(), fetch)
    const failed = await c.get()
    const values = await Promise.all(Array.from({ length: 10 }, () => c.replaceFailed(failed)))
    assert.equal(state.calls, 2)
    assert.ok(values.every((v) => v.value === 'token-2'))
  })

  test('a configuration errcode fails fast during the cooldown instead of asking again, then asks again', async () => {
    let t = 1_000_000
    const now = () => t
    const { state, fetch } = counter(() => {
      throw new WechatApiError({ errcode: 40164, errmsg: 'invalid ip 1.2.3.4', path: '/cgi-bin/stable_token', duringTokenFetch: true })
    })
    const c = cache(new MemoryStore({ now }), fetch, { now, failureCooldownMs: 5000 })
    await assert.rejects(c.get(), (err: unknown) => err instanceof WechatApiError && err.errcode === 40164 && err.code === 'WX_ERR_TOKEN')
    await assert.rejects(c.get(), (err: unknown) => err instanceof WechatApiError && err.errcode === 40164)
    assert.equal(state.calls, 1)
    t += 5000
    await assert.rejects(c.get())
    assert.equal(state.calls, 2)
  })

  test('a lock left by a crashed holder expires and the waiter fetches', async () => {
    const store = new MemoryStore()
    await store.add('lock:token:wx1', 'crashed-process', 60) // 60 ms
    const { state, fetch } = counter()
    assert.equal((await cache(store, fetch).get()).value, 'token-1')
    assert.equal(state.calls, 1)
  })

  test('a waiter gives up after lockWaitMs with WX_ERR_TOKEN naming the lock, even with a frozen clock', async () => {
    const frozen = () => 1_000_000
    const store = new MemoryStore({ now: frozen })
    await store.add('lock:token:wx1', 'stuck-process', 3_600_000)
    const { state, fetch } = counter()
    await assert.rejects(cache(store, fetch, { now: frozen, lockWaitMs: 50 }).get(), (err: unknown) => isWxmpError(err, 'WX_ERR_TOKEN') && /lock:token:wx1/.test((err as Error).message))
    assert.equal(state.calls, 0)
  })

  test('a malformed stored record is ignored and replaced', async () => {
    const store = new MemoryStore()
    await store.set('token:wx1', 'not-a-record')
    const { state, fetch } = counter()
    assert.equal((await cache(store, fetch).get()).value, 'token-1')
    assert.equal(state.calls, 1)
  })
})
