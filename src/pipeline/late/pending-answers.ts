/**
 * Answers that wait for the user's next message: a reply ready after WeChat's last delivery,
 * the pages after the first of a long text. They live in the shared store, one queue per user
 * (so any instance can deliver them), expire (24 h by default), and say which message they
 * answer, so the message log can record when they were delivered.
 *
 * A user's queue is read and written under a short lock taken with the store's atomic `add`,
 * so two instances never deliver the same page or lose one they append at the same moment.
 * When the store fails (Redis down), the queue degrades to this process's memory with one
 * warning, and is read from both places until the store is back: never a crash.
 */
import type { Logger } from '../../logger.js'
import type { Reply } from '../../reply/types.js'
import { MemoryStore } from '../../storage/memory.js'
import type { KeyValueStore } from '../../storage/types.js'

export interface PendingItem {
  /** What the user gets (a page of text, or any reply). */
  reply: Reply
  /** The message this answers (its dedup key). */
  msgKey: string
  /** That message's row in the message log, when there is one. */
  recordId?: string | number | undefined
  /** Unix ms when that message arrived (latency in the log). */
  receivedAt: number
  /** Pages of the same answer still to come after this one (0: the last, or the only one). */
  remaining: number
  createdAt: number
  expiresAt: number
  /** On the last page only: what the origin message's log row says once it is delivered. */
  log?: { via: 'passive' | 'customer-service' | 'next-message'; replyXml: string | undefined }
}

/** An answer being prepared for the user: their next message waits for it a little. */
export interface Busy {
  msgKey: string
  until: number
}

interface Queue {
  items: PendingItem[]
  busy?: Busy
}

export interface Taken {
  /** The next answer for the user, if any (it is removed from the queue). */
  item: PendingItem | undefined
  /** Answers that expired unread (removed too), for the log. */
  expired: PendingItem[]
  /** Set when an answer is being prepared. */
  busy: Busy | undefined
  /** Answers still waiting after `item`. */
  left: number
}

export const PENDING_TTL_MS = 24 * 3600_000
/** Expired answers stay this long so a late visit can still mark them expired in the log. */
const GRACE_MS = 24 * 3600_000
const LOCK_TTL_MS = 2000
const LOCK_WAIT_MS = 1500
/**
 * How long "this account has no pending answers" (the marker, read from the shared store) is
 * trusted. The marker is written before the user is told to write again, so an answer they
 * ask for is never missed: they cannot read the notice and reply within this.
 */
const MARKER_FRESH_MS = 250

export interface PendingAnswersOptions {
  store: KeyValueStore
  log: Logger
  now: () => number
}

type MaybePromise<T> = T | Promise<T>

/**
 * @example
 * await pending.enqueue('oUser', [{ reply: { type: 'text', content: 'page 2' }, msgKey, receivedAt, remaining: 0, createdAt: now, expiresAt: now + PENDING_TTL_MS }])
 * const { item } = await pending.take('oUser')
 */
export class PendingAnswers {
  private readonly fallback: MemoryStore
  private degraded = false
  /** Set once anything was kept in the fallback: from then on it is read first. */
  private fallbackUsed = false
  /** Unix ms until which this account may have pending answers (from the shared marker); undefined: not read yet. */
  private anyUntil: number | undefined
  private markerReadAt = -Infinity
  /** The latest marker this process wrote (its own answers count even before a read sees them). */
  private writtenUntil = 0
  private markerReading: Promise<void> | undefined

  constructor(private readonly options: PendingAnswersOptions) {
    this.fallback = new MemoryStore({ now: options.now })
  }

  /**
   * False only when this account certainly has no pending answers (as of at most a second
   * ago): then a message needs no store read. Synchronous, for the hot path.
   */
  mayHave(): boolean {
    const now = this.options.now()
    if (this.fallbackUsed) return true
    // a process-local store answers at once: no staleness, no promise
    const local = this.options.store.local
    if (local !== undefined) return (local.getLocal<number>(MARKER) ?? 0) > now
    if (now - this.markerReadAt >= MARKER_FRESH_MS || this.anyUntil === undefined) {
      // not known lately: read the marker for the messages to come, and look for this one
      this.readMarker()
      return true
    }
    return this.anyUntil > now
  }

  /** Appends answers to the user's queue. */
  async enqueue(user: string, items: PendingItem[]): Promise<void> {
    if (items.length === 0) return
    // the marker outlives the answers by the grace period, so an expired one is still found and logged
    const until = Math.max(...items.map((i) => i.expiresAt)) + GRACE_MS
    await this.update(user, (queue) => {
      queue.items.push(...items)
      return undefined
    })
    this.writtenUntil = Math.max(this.writtenUntil, until)
    this.anyUntil = Math.max(this.anyUntil ?? 0, until)
    await this.guard(() => this.options.store.get<number>(MARKER)).then(async (current) => {
      if (current === undefined || current < until) await this.guard(() => this.options.store.set(MARKER, until, until - this.options.now()))
    })
  }

  /** Says an answer for the user is being prepared (until `until`), so their next message can wait for it. */
  async markBusy(user: string, msgKey: string, until: number): Promise<void> {
    this.writtenUntil = Math.max(this.writtenUntil, until)
    this.anyUntil = Math.max(this.anyUntil ?? 0, until)
    // the marker first: from the moment the user could be told to write again, every instance looks
    const current = await this.guard(() => this.options.store.get<number>(MARKER))
    if (current === undefined || current < until) await this.guard(() => this.options.store.set(MARKER, until, Math.max(1000, until - this.options.now())))
    return this.update(user, (queue) => {
      queue.busy = { msgKey, until }
      return undefined
    })
  }

  /** The answer for `msgKey` is no longer being prepared (it was queued, or there is none). */
  clearBusy(user: string, msgKey: string): Promise<void> {
    return this.update(user, (queue) => {
      if (queue.busy?.msgKey === msgKey) delete queue.busy
      return undefined
    })
  }

  /** Removes and returns the user's next answer (and any that expired unread). */
  take(user: string): Promise<Taken> {
    return this.update(user, (queue) => {
      const now = this.options.now()
      const expired = queue.items.filter((i) => i.expiresAt <= now)
      queue.items = queue.items.filter((i) => i.expiresAt > now)
      if (queue.busy !== undefined && queue.busy.until <= now) delete queue.busy
      const item = queue.items.shift()
      return { item, expired, busy: queue.busy, left: queue.items.length }
    })
  }

  /** What waits for the user (answers expired unread included: taking them logs them), without taking it. */
  async peek(user: string): Promise<{ count: number; busy: Busy | undefined }> {
    const queues = await Promise.all([this.fallback.get<Queue>(userKey(user)), this.guard(() => this.options.store.get<Queue>(userKey(user)))])
    const now = this.options.now()
    const items = queues.flatMap((q) => q?.items ?? [])
    const busy = queues.map((q) => q?.busy).find((b) => b !== undefined && b.until > now)
    return { count: items.length, busy }
  }

  /** Read-modify-write of the user's queue under the lock, in the store or (when it fails) in memory. */
  private async update<T>(user: string, change: (queue: Queue) => T): Promise<T> {
    // what the fallback holds (from an outage) comes first: it is older
    const local = await this.updateIn(this.fallback, user, change, true)
    if (local !== NOTHING) return local
    try {
      const result = await this.updateIn(this.options.store, user, change, false)
      this.recovered()
      return result as T
    } catch (err) {
      this.degrade(err)
      this.fallbackUsed = true
      return (await this.updateIn(this.fallback, user, change, false)) as T
    }
  }

  private async updateIn<T>(store: KeyValueStore, user: string, change: (queue: Queue) => T, onlyIfPresent: boolean): Promise<T | typeof NOTHING> {
    const key = userKey(user)
    if (onlyIfPresent && !this.fallbackUsed) return NOTHING
    const lock = await this.lock(store, key)
    try {
      const stored = await store.get<Queue>(key)
      if (onlyIfPresent && stored === undefined) return NOTHING
      const queue: Queue = stored ?? { items: [] }
      const result = change(queue)
      if (queue.items.length === 0 && queue.busy === undefined) await store.delete(key)
      else await store.set(key, queue, this.ttlOf(queue))
      return result
    } finally {
      await store.deleteIf(`${key}:lock`, lock).catch(() => undefined)
    }
  }

  private ttlOf(queue: Queue): number {
    const until = Math.max(queue.busy?.until ?? 0, ...queue.items.map((i) => i.expiresAt))
    return Math.max(1000, until - this.options.now() + GRACE_MS)
  }

  /** Takes the user's queue lock (atomic add); after LOCK_WAIT_MS a holder that vanished is overruled. */
  private async lock(store: KeyValueStore, key: string): Promise<string> {
    const token = `${process.pid}-${Math.random().toString(36).slice(2)}`
    const started = this.options.now()
    for (;;) {
      if (await store.add(`${key}:lock`, token, LOCK_TTL_MS)) return token
      if (this.options.now() - started > LOCK_WAIT_MS) {
        await store.delete(`${key}:lock`)
        continue
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  private readMarker(): void {
    if (this.markerReading !== undefined) return
    const started = this.options.now()
    let ok = true
    this.markerReading = this.guard(() => this.options.store.get<number>(MARKER), () => (ok = false))
      .then((until) => {
        if (!ok) return // the store failed: nothing learned, look again next time
        // the value as of when the read started; a marker this process wrote meanwhile stays
        this.anyUntil = Math.max(until ?? 0, this.writtenUntil)
        this.markerReadAt = started
      })
      .finally(() => (this.markerReading = undefined))
  }

  /** Store reads that must not fail the caller: an outage reads as "nothing there". */
  private async guard<T>(read: () => MaybePromise<T>, failed?: () => void): Promise<T | undefined> {
    try {
      return await read()
    } catch (err) {
      failed?.()
      this.degrade(err)
      return undefined
    }
  }

  private degrade(err: unknown): void {
    if (this.degraded) return
    this.degraded = true
    this.options.log.warn({ code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err) }, 'pending answers: the shared store failed; answers wait in this process until it is back (another instance cannot deliver them meanwhile)')
  }

  private recovered(): void {
    if (!this.degraded) return
    this.degraded = false
    this.options.log.info({}, 'pending answers: the shared store answers again')
  }
}

const NOTHING = Symbol('nothing')
const MARKER = 'pending:any'

function userKey(user: string): string {
  return `pending:${user}`
}
