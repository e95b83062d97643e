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
  /**
   * A fresh fallback for each outage, instead of the mirror (below); queries signed in the
   * seconds before the outage are then refused while it lasts. Default: the mirror.
   */
  createFallback?: () => KeyValueStore
  /**
   * Bytes for the mirror: an in-process copy (an off-heap ArenaStore) of what this instance
   * wrote to a Redis backend, which serves as the fallback during an outage and is copied back
   * when Redis returns. Default 8 MiB; 0 turns it off. Other backends have none.
   */
  mirrorBudgetBytes?: number
  /** Told on every switch (metrics, tests). */
  onChange?: (state: 'primary' | 'fallback', err?: unknown) => void
  /** Clock (ms) for `wouldRemember`. Default Date.now. */
  now?: () => number
}

/**
 * How far back before an outage the mirror vouches for this instance's writes (ms). A genuine
 * query that arrives after the outage began was signed at most a few seconds before (the
 * replay guard already allows two for WeChat's whole-second clock), so it is never refused;
 * anything signed earlier and not held is.
 */
const MIRROR_SPAN_MS = 5000

/** The longest a record stays in the mirror while the backend is up: the replay guard's 10 minutes. */
const MIRROR_TTL_MS = 10 * 60_000

/**
 * A store that keeps working while its backend is down. On the first backend failure it logs
 * ONE warning and serves every operation from an in-process fallback (memory); meanwhile it
 * pings the backend and switches back, with one info line, once the backend answers again.
 * Input errors (a bad key, a value JSON cannot carry) are the caller's and pass through.
 *
 * On Redis, the fallback is a mirror: every write this instance makes while Redis is up is
 * also kept in a small off-heap ring (one more in-process write per request, no JS objects),
 * so when Redis goes away the fallback already knows what this instance saw just before, and
 * the records of the outage (and of the seconds before it) are written back to Redis, insert
 * if absent, when it returns: issued before any later command on the same connection, so no
 * request after the switch can see Redis without them.
 *
 * What the fallback cannot give: during an outage dedup, replay protection and sessions are
 * per instance (another instance's records are out of reach), and a session written during
 * an outage is kept only as far as the mirror's budget reached.
 * `ping()` asks the backend itself, so `/readyz` still reports the outage.
 *
 * What it does not forget: that it forgot. From an outage on, a record written more than a few
 * seconds before it began may be out of reach (the fallback never held it, and a Redis that
 * restarted without persistence lost it); `wouldRemember` says so, and the replay guard
 * refuses a never-seen query signed before that. Without a mirror, the line is the outage's
 * start itself, and after the switch back its end (the fallback's records are gone).
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
  /** This instance's recent writes (see the class comment); undefined without one. */
  private readonly mirror: ArenaStore | undefined
  private probe: NodeJS.Timeout | undefined
  private probing = false
  private closed = false
  private outageCount = 0
  /** Records written up to here may be out of reach (0: none). */
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
    const mirrorBytes = options.mirrorBudgetBytes ?? 8 * 2 ** 20
    if (primary.kind === 'redis' && options.createFallback === undefined && mirrorBytes > 0) {
      this.mirror = new ArenaStore({ budgetBytes: mirrorBytes, now: this.now })
    }
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
    // the mirror names the keys it let go under its budget (it may have been the fallback)
    if (this.mirror !== undefined) return this.lostSince === 0 || this.mirror.wouldRemember(key, at)
    return this.fallback?.wouldRemember?.(key, at) ?? this.primary.wouldRemember?.(key, at) ?? true
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.run((s) => s.get<T>(key))
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.run((s) => s.set(key, value, ttlMs), () => this.mirrored(key, value, ttlMs))
  }

  delete(key: string): Promise<void> {
    return this.run((s) => s.delete(key), () => this.unmirrored(key))
  }

  add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.run((s) => s.add(key, value, ttlMs), (added) => added && this.mirrored(key, value, ttlMs))
  }

  deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.run((s) => s.deleteIf(key, expected), (deleted) => deleted && this.unmirrored(key))
  }

  /** Pings the backend (not the fallback): readiness reports the real state. */
  ping(): Promise<void> {
    return this.withTimeout(this.primary.ping(), 'ping')
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.probe)
    this.probe = undefined
    await Promise.all([this.primary.close(), this.fallback?.close(), this.mirror?.close()].map((p) => p?.catch(() => undefined)))
  }

  /**
   * The operation on the backend, with its deadline; on a failure (not the caller's) the same
   * operation on the fallback. Written as one promise rather than an async function awaiting
   * `withTimeout`: every request's replay check, dedup claim and stored answer come through here,
   * and on Redis each stays alive for its round trip, so each promise and closure less per call
   * is less for the collector to copy (bench/README.md).
   */
  private run<R>(operation: (store: KeyValueStore) => Promise<R>, mirror?: (result: R) => unknown): Promise<R> {
    const fallback = this.fallback
    if (fallback !== undefined) return attempt(operation, fallback)
    const work = attempt(operation, this.primary)
    return new Promise<R>((resolve, reject) => {
      let settled = false
      const failed = (err: unknown) => {
        if (settled) return
        settled = true
        operationDeadlines.cancel(deadline)
        if (isInputError(err) || this.closed) return reject(err)
        try {
          resolve(attempt(operation, this.degrade(err)))
        } catch (fault) {
          reject(fault)
        }
      }
      const deadline = operationDeadlines.schedule(this.operationTimeoutMs, () => failed(this.noAnswer('operation')))
      work.then((result) => {
        if (settled) return
        settled = true
        operationDeadlines.cancel(deadline)
        try {
          // (also when an outage began meanwhile: the backend holds it, so its fallback must too)
          if (this.mirror !== undefined) mirror?.(result)
          resolve(result)
        } catch (fault) {
          reject(fault)
        }
      }, failed)
    })
  }

  /**
   * A write the backend took, kept in the mirror too (a value too large for it is dropped
   * there). For at most MIRROR_TTL_MS: the mirror is about the minutes around an outage, and
   * its filter of keys let go covers records that short-lived (longer ones would move its time
   * horizon instead, and so refuse genuine queries).
   */
  private mirrored(key: string, value: unknown, ttlMs: number | undefined): void {
    try {
      this.mirror!.setLocal(key, value, Math.min(ttlMs ?? Infinity, MIRROR_TTL_MS))
    } catch {
      this.unmirrored(key)
    }
  }

  private unmirrored(key: string): void {
    void this.mirror!.delete(key)
  }

  /** Switches to the fallback (once per outage) and starts probing the backend. */
  private degrade(err: unknown): KeyValueStore {
    if (this.fallback !== undefined) return this.fallback
    const fallback = (this.fallback = this.mirror ?? this.createFallback())
    this.outageCount++
    const now = this.now()
    // with a mirror, what this instance wrote in the seconds before is at hand (what an earlier
    // run of it wrote then is not, as for another instance: docs/storage.md)
    const reach = this.mirror === undefined ? now : now - MIRROR_SPAN_MS
    this.lostSince = Math.max(this.lostSince, reach)
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
    if (fallback === undefined || this.closed) return
    if (this.mirror !== undefined) {
      // the outage's records (and those of the seconds before it) back to the backend, queued
      // ahead of any later command on the connection; a record another instance wrote
      // meanwhile wins. Should the copy fail, the next failure falls back on the mirror again.
      const copies = this.mirror.liveSince(this.lostSince).map(({ key, value, ttlMs }) => this.primary.add(key, value, ttlMs === undefined ? undefined : Math.ceil(ttlMs)))
      void Promise.all(copies).catch(() => undefined)
    } else {
      this.lostSince = this.now()
      void fallback.close().catch(() => undefined)
    }
    this.fallback = undefined
    clearInterval(this.probe)
    this.probe = undefined
    this.options.logger?.info({ store: this.kind }, `${this.kind} store is back: switched from in-process memory to ${this.kind}`)
    this.options.onChange?.('primary')
  }

  /** The ping, or a WX_ERR_STORAGE failure once it has had no answer for operationTimeoutMs. */
  private withTimeout<R>(work: Promise<R>, what: string): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const deadline = operationDeadlines.schedule(this.operationTimeoutMs, () => reject(this.noAnswer(what)))
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

  private noAnswer(what: string): WxmpError {
    return new WxmpError('WX_ERR_STORAGE', `${this.kind} store gave no answer to an ${what} within ${this.operationTimeoutMs} ms`)
  }
}

/** The operation on this store; one that throws instead of rejecting fails the same way. */
function attempt<R>(operation: (store: KeyValueStore) => Promise<R>, store: KeyValueStore): Promise<R> {
  try {
    return operation(store)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Every ResilientStore's operations in flight, on one timer. */
const operationDeadlines = new DeadlineQueue()

/** Errors that say the call was wrong, not that the backend failed: the fallback would refuse them too. */
function isInputError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError
}
