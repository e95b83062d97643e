import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import { ArenaStore } from './arena-store.js'
import { DeadlineQueue } from '../pipeline/deadline-queue.js'
import type { KeyValueStore } from './types.js'

export interface ResilientStoreOptions {
  /** Where the one warning per outage and the recovery line go. */
  logger?: Pick<Logger, 'warn' | 'info'>
  /** How often the backend is pinged while the fallback serves. Default 1000 ms. */
  probeIntervalMs?: number
  /** An operation with no answer after this long counts as a failure. Default 1000 ms. */
  operationTimeoutMs?: number
  /** A fresh fallback for each outage. Default: an in-process ArenaStore (bounded memory). */
  createFallback?: () => KeyValueStore
  /** Told on every switch (metrics, tests). */
  onChange?: (state: 'primary' | 'fallback', err?: unknown) => void
  /** Clock (ms) for `rememberedSince`. Default Date.now. */
  now?: () => number
}

/**
 * A store that keeps working while its backend is down. On the first backend failure it logs
 * ONE warning and serves every operation from an in-process fallback (memory); meanwhile it
 * pings the backend and switches back, with one info line, once the backend answers again.
 * Input errors (a bad key, a value JSON cannot carry) are the caller's and pass through.
 *
 * What the fallback cannot give: during an outage dedup, replay protection and sessions are
 * per instance, and what was written to the fallback is not copied back on recovery (dedup
 * and replay entries live minutes; a session written during the outage starts over).
 * `ping()` asks the backend itself, so `/readyz` still reports the outage.
 *
 * What it does not forget: that it forgot. While the fallback serves, a record written before
 * the outage began is out of reach; after the switch back, one written before the switch is
 * gone with the fallback. `wouldRemember` says so, and the replay guard refuses a never-seen
 * query signed before that: a query seen before the outage cannot be replayed during it, nor
 * one seen during it after.
 *
 * @example
 * const store = new ResilientStore(new RedisStore(process.env.REDIS_URL!), { logger })
 * await store.add('dedup:123', 1, 60_000) // answered by memory while Redis is down
 */
export class ResilientStore implements KeyValueStore {
  readonly kind: string
  private readonly probeIntervalMs: number
  private readonly operationTimeoutMs: number
  private readonly createFallback: () => KeyValueStore
  private readonly now: () => number
  private fallback: KeyValueStore | undefined
  private probe: NodeJS.Timeout | undefined
  private probing = false
  private closed = false
  private outageCount = 0
  /** Start of the current outage, or end of the last one (0: none yet). */
  private lostSince = 0

  constructor(
    readonly primary: KeyValueStore,
    private readonly options: ResilientStoreOptions = {},
  ) {
    this.kind = primary.kind
    this.probeIntervalMs = options.probeIntervalMs ?? 1000
    this.operationTimeoutMs = options.operationTimeoutMs ?? 1000
    this.now = options.now ?? Date.now
    this.createFallback = options.createFallback ?? (() => new ArenaStore())
  }

  /** True while operations are served by the in-process fallback. */
  get degraded(): boolean {
    return this.fallback !== undefined
  }

  /** How many times the backend was lost since start. */
  get outages(): number {
    return this.outageCount
  }

  /** See KeyValueStore.wouldRemember (and the class comment). */
  wouldRemember(key: string, at: number): boolean {
    if (at <= this.lostSince) return false
    const serving = this.fallback ?? this.primary
    return serving.wouldRemember?.(key, at) ?? true
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.run((s) => s.get<T>(key))
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.run((s) => s.set(key, value, ttlMs))
  }

  delete(key: string): Promise<void> {
    return this.run((s) => s.delete(key))
  }

  add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.run((s) => s.add(key, value, ttlMs))
  }

  deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.run((s) => s.deleteIf(key, expected))
  }

  /** Pings the backend (not the fallback): readiness reports the real state. */
  ping(): Promise<void> {
    return this.withTimeout(this.primary.ping(), 'ping')
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.probe)
    this.probe = undefined
    await Promise.all([this.primary.close(), this.fallback?.close()].map((p) => p?.catch(() => undefined)))
  }

  private async run<R>(operation: (store: KeyValueStore) => Promise<R>): Promise<R> {
    const fallback = this.fallback
    if (fallback !== undefined) return operation(fallback)
    try {
      return await this.withTimeout(operation(this.primary), 'operation')
    } catch (err) {
      if (isInputError(err) || this.closed) throw err
      return operation(this.degrade(err))
    }
  }

  /** Switches to the fallback (once per outage) and starts probing the backend. */
  private degrade(err: unknown): KeyValueStore {
    if (this.fallback !== undefined) return this.fallback
    const fallback = (this.fallback = this.createFallback())
    this.outageCount++
    this.lostSince = this.now()
    this.options.logger?.warn(
      { code: 'WX_ERR_STORAGE', store: this.kind, err: err instanceof Error ? err.message : String(err) },
      `${this.kind} store unreachable: serving from in-process memory until it returns (dedup and sessions are per instance meanwhile)`,
    )
    this.options.onChange?.('fallback', err)
    this.probe = setInterval(() => void this.tryRecover(), this.probeIntervalMs)
    this.probe.unref()
    return fallback
  }

  private async tryRecover(): Promise<void> {
    if (this.probing || this.fallback === undefined || this.closed) return
    this.probing = true
    try {
      await this.ping()
    } catch {
      return // still down: stay quiet, the outage was announced once
    } finally {
      this.probing = false
    }
    const fallback = this.fallback
    this.fallback = undefined
    this.lostSince = this.now()
    clearInterval(this.probe)
    this.probe = undefined
    void fallback?.close().catch(() => undefined)
    this.options.logger?.info({ store: this.kind }, `${this.kind} store is back: switched from in-process memory to ${this.kind}`)
    this.options.onChange?.('primary')
  }

  /**
   * The operation, or a WX_ERR_STORAGE failure once it has had no answer for
   * operationTimeoutMs. On one shared deadline list rather than a timer and a race per call:
   * every request's replay check and dedup claim come through here.
   */
  private withTimeout<R>(work: Promise<R>, what: string): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = operationDeadlines.schedule(this.operationTimeoutMs, () =>
        reject(new WxmpError('WX_ERR_STORAGE', `${this.kind} store gave no answer to an ${what} within ${this.operationTimeoutMs} ms`)),
      )
      work.then(
        (value) => {
          operationDeadlines.cancel(deadline)
          resolve(value)
        },
        (err: unknown) => {
          operationDeadlines.cancel(deadline)
          reject(err)
        },
      )
    })
  }
}

/** Every ResilientStore's operations in flight, on one timer. */
const operationDeadlines = new DeadlineQueue()

/** Errors that say the call was wrong, not that the backend failed: the fallback would refuse them too. */
function isInputError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError
}
