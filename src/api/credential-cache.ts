/**
 * A short-lived credential (access_token, jsapi_ticket) shared by every process that uses the
 * same store: at most one fetch at a time inside a process (single-flight) and across
 * processes (a lock key taken with the store's atomic `add`), proactive refresh before
 * expiry, and compare-and-invalidate so a stale failure never throws away a newer value.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { KeyValueStore } from '../storage/types.js'
import { FATAL_ERRCODES, WechatApiError } from './errors.js'

/** The stored record. Field order matters: `deleteIf` compares JSON text. */
export interface CachedCredential {
  value: string
  /** ms since epoch: WeChat stops accepting it. */
  expiresAt: number
  /** ms since epoch: the next reader fetches a new one (proactive refresh). */
  refreshAt: number
  fetchedAt: number
}

export interface FetchedCredential {
  value: string
  expiresInSec: number
}

export interface CredentialCacheOptions {
  store: KeyValueStore
  key: string
  lockKey: string
  /** What it is, for logs and errors ("access_token"). */
  label: string
  fetch: () => Promise<FetchedCredential>
  now: () => number
  /** Share of the lifetime after which a reader refreshes. Default 0.85. */
  refreshRatio?: number
  /** The lock expires on its own after this long (a crashed holder cannot block forever). */
  lockTtlMs: number
  /** A reader waiting for another process's fetch gives up after this long. */
  lockWaitMs: number
  /** After a fetch fails with a configuration errcode, fail fast this long instead of asking WeChat again. Default 5000. */
  failureCooldownMs?: number
  logger?: Logger | undefined
}

function isCredential(value: unknown): value is CachedCredential {
  const r = value as CachedCredential | undefined
  return typeof r === 'object' && r !== null && typeof r.value === 'string' && r.value.length > 0 && typeof r.expiresAt === 'number' && typeof r.refreshAt === 'number' && typeof r.fetchedAt === 'number'
}

export class CredentialCache {
  private memory: CachedCredential | undefined
  private inflight: Promise<CachedCredential> | undefined
  private failure: { error: unknown; until: number } | undefined
  private readonly refreshRatio: number
  private readonly failureCooldownMs: number

  constructor(private readonly options: CredentialCacheOptions) {
    this.refreshRatio = options.refreshRatio ?? 0.85
    this.failureCooldownMs = options.failureCooldownMs ?? 5000
  }

  /** A usable credential: from memory, the store, or one fetch shared by every waiter. */
  async get(): Promise<CachedCredential> {
    const m = this.memory
    if (m !== undefined && this.options.now() < m.refreshAt) return m
    return this.singleFlight()
  }

  /**
   * The credential `failed` was refused by WeChat: drop it only if it is still the stored one
   * (another process may already have replaced it), then return a usable one.
   */
  async replaceFailed(failed: CachedCredential): Promise<CachedCredential> {
    await this.invalidate(failed)
    const next = await this.get()
    // a load that began before the invalidation may hand back the failed value: load again
    return next.value === failed.value && next.fetchedAt === failed.fetchedAt ? this.singleFlight() : next
  }

  /** Compare-and-invalidate: deletes the stored record only if it is exactly `failed`. */
  async invalidate(failed: CachedCredential): Promise<boolean> {
    if (this.memory?.value === failed.value) this.memory = undefined
    return this.options.store.deleteIf(this.options.key, failed)
  }

  /** Forces a new fetch: the current record (whatever it is) is dropped first. */
  async refresh(): Promise<CachedCredential> {
    const current = this.memory ?? (await this.readStore())
    if (current !== undefined) return this.replaceFailed(current)
    return this.singleFlight()
  }

  /** The stored record, if any and well-formed. */
  async peek(): Promise<CachedCredential | undefined> {
    return this.readStore()
  }

  private async readStore(): Promise<CachedCredential | undefined> {
    const raw = await this.options.store.get(this.options.key)
    return isCredential(raw) ? raw : undefined
  }

  private singleFlight(): Promise<CachedCredential> {
    if (this.inflight === undefined) {
      this.inflight = this.load().finally(() => {
        this.inflight = undefined
      })
    }
    return this.inflight
  }

  private async load(): Promise<CachedCredential> {
    const { store, key, lockKey, now, lockWaitMs } = this.options
    if (this.failure !== undefined && now() < this.failure.until) throw this.failure.error
    // real time, not the injected clock: the waits are real, and a frozen test clock must not wait forever
    const started = performance.now()
    let delay = 5
    for (;;) {
      const stored = await this.readStore()
      if (stored !== undefined && now() < stored.refreshAt) return (this.memory = stored)
      const owner = randomUUID()
      if (await store.add(lockKey, owner, this.options.lockTtlMs)) {
        try {
          return await this.fetchUnderLock()
        } finally {
          await store.deleteIf(lockKey, owner).catch(() => undefined)
        }
      }
      // Another process is fetching. While the stored value still works, use it.
      if (stored !== undefined && now() < stored.expiresAt) return stored
      if (performance.now() - started >= lockWaitMs) {
        throw new WxmpError('WX_ERR_TOKEN', `waited ${lockWaitMs} ms for another process to fetch the ${this.options.label} (lock ${lockKey} is held): is that process stuck, or is the store shared by a wxmp that cannot reach WeChat?`)
      }
      await sleep(delay)
      delay = Math.min(delay * 2, 100)
    }
  }

  private async fetchUnderLock(): Promise<CachedCredential> {
    const { store, key, now, logger, label } = this.options
    // someone may have finished a fetch between our read and our lock
    const current = await this.readStore()
    if (current !== undefined && now() < current.refreshAt) return (this.memory = current)
    let fetched: FetchedCredential
    try {
      fetched = await this.options.fetch()
    } catch (err) {
      if (err instanceof WechatApiError && FATAL_ERRCODES.has(err.errcode)) this.failure = { error: err, until: now() + this.failureCooldownMs }
      // a failed proactive refresh is not an outage while the current value still works
      if (current !== undefined && now() < current.expiresAt) {
        logger?.warn({ label, err: (err as Error).message }, `proactive ${label} refresh failed; the current one is still valid`)
        return current
      }
      throw err
    }
    this.failure = undefined
    const fetchedAt = now()
    const lifetimeMs = Math.max(1, fetched.expiresInSec) * 1000
    const record: CachedCredential = {
      value: fetched.value,
      expiresAt: fetchedAt + lifetimeMs,
      refreshAt: fetchedAt + Math.floor(lifetimeMs * this.refreshRatio),
      fetchedAt,
    }
    await store.set(key, record, lifetimeMs)
    logger?.info({ label, expiresInSec: fetched.expiresInSec }, `fetched a new ${label}`)
    return (this.memory = record)
  }
}
