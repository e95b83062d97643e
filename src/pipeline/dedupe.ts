import type { KeyValueStore, LocalStore } from '../storage/types.js'
import type { WechatMessage } from '../messages/types.js'
import type { OutboundResponse } from './request.js'

/**
 * The key that identifies one message across WeChat's retries (protocol.md §4.1): MsgId for
 * ordinary messages; MsgID + Event for job/sent events; otherwise sender + CreateTime + type,
 * plus Event and EventKey because several events can share one second.
 */
export function dedupKey(message: WechatMessage): string {
  const m = message as Record<string, unknown>
  if (typeof m.MsgId === 'string' && m.MsgId !== '') return `m:${m.MsgId}`
  if (typeof m.MsgID === 'string' && m.MsgID !== '') return `j:${m.MsgID}:${String(m.Event ?? '')}`
  const parts = [message.FromUserName, String(message.CreateTime), message.MsgType]
  if (message.MsgType === 'event') parts.push(String(m.Event ?? ''), typeof m.EventKey === 'string' ? m.EventKey : '')
  return `e:${parts.join(':')}`
}

type Record_ = { state: 'pending'; since: number; owner: string } | { state: 'done'; response: OutboundResponse }

export interface DeduperOptions {
  /** How long a message is remembered; must outlive WeChat's retries (3 × 5 s). Default 5 min. */
  ttlMs?: number
  /** How often a retry on another instance polls for the first delivery's answer. Default 50 ms. */
  pollMs?: number
  /** A pending claim older than this is taken over (its owner died). Default 10 s. */
  staleClaimMs?: number
  now?: () => number
  /** Distinguishes this process's claims from other instances'. */
  owner?: string
}

export type DedupOutcome =
  | { kind: 'first'; response: OutboundResponse }
  | { kind: 'retry'; response: OutboundResponse }
  | { kind: 'retry-timeout' }

/**
 * Runs a message's pipeline once, however many times WeChat delivers it and to whichever
 * instance: the first delivery claims the key (atomic add); a retry in the same process awaits
 * the same promise; a retry elsewhere polls the shared store for the stored answer until its
 * own budget runs out. A claim whose owner died mid-handler is taken over, so nothing is lost.
 */
export class Deduper {
  private readonly inflight = new Map<string, Promise<OutboundResponse>>()
  private readonly ttlMs: number
  private readonly pollMs: number
  private readonly staleClaimMs: number
  private readonly now: () => number
  private readonly owner: string

  constructor(
    private readonly store: KeyValueStore,
    options: DeduperOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000
    this.pollMs = options.pollMs ?? 50
    this.staleClaimMs = options.staleClaimMs ?? 10_000
    this.now = options.now ?? Date.now
    this.owner = options.owner ?? `${process.pid}-${Math.random().toString(36).slice(2, 10)}`
  }

  /** True while this process is running the first delivery of `key`. */
  isRunning(key: string): boolean {
    return this.inflight.has(key)
  }

  /**
   * Runs `work` for the first delivery of `key`, or answers a retry. On a process-local store a
   * first delivery whose work finishes synchronously is settled synchronously too.
   */
  run(key: string, budgetMs: number, work: () => OutboundResponse | Promise<OutboundResponse>): DedupOutcome | Promise<DedupOutcome> {
    const local = this.store.local
    if (local === undefined || this.inflight.has(key)) return this.runShared(key, budgetMs, work)
    const storeKey = `dedup:${key}`
    const claim: Record_ = { state: 'pending', since: this.now(), owner: this.owner }
    // a retry, or a claim left behind: the general path sorts it out (its add fails the same way)
    if (!local.addLocal(storeKey, claim, this.ttlMs)) return this.runShared(key, budgetMs, work)
    let running: OutboundResponse | Promise<OutboundResponse>
    try {
      running = work()
    } catch (err) {
      local.deleteLocalIf(storeKey, claim) // let a retry run it
      throw err
    }
    if (running instanceof Promise) return this.finishLocal(key, storeKey, claim, running, local)
    // the records are never mutated, so the store keeps them as they are
    local.setLocal(storeKey, { state: 'done', response: running } satisfies Record_, this.ttlMs)
    return { kind: 'first', response: running }
  }

  private async finishLocal(key: string, storeKey: string, claim: Record_, running: Promise<OutboundResponse>, local: LocalStore): Promise<DedupOutcome> {
    this.inflight.set(key, running)
    try {
      const response = await running
      local.setLocal(storeKey, { state: 'done', response } satisfies Record_, this.ttlMs)
      // a journaled store: the stored answer is committed before the answer leaves (a retry after a crash gets it)
      await local.whenDurable?.()
      return { kind: 'first', response }
    } catch (err) {
      local.deleteLocalIf(storeKey, claim) // let a retry run it
      throw err
    } finally {
      this.inflight.delete(key)
    }
  }

  /** Any store: claims through the async API, waits for another delivery's answer when needed. */
  private async runShared(key: string, budgetMs: number, work: () => OutboundResponse | Promise<OutboundResponse>): Promise<DedupOutcome> {
    const runningHere = this.inflight.get(key)
    if (runningHere !== undefined) return this.awaitLocal(runningHere, budgetMs)
    const storeKey = `dedup:${key}`
    let claim: Record_ = { state: 'pending', since: this.now(), owner: this.owner }
    if (!(await this.store.add(storeKey, claim, this.ttlMs))) {
      const again = this.inflight.get(key) // another local delivery may have claimed meanwhile
      if (again !== undefined) return this.awaitLocal(again, budgetMs)
      const seen = await this.awaitRemote(storeKey, budgetMs)
      if (!('claim' in seen)) return seen
      claim = seen.claim
    }
    const running = promiseOf(work)
    this.inflight.set(key, running)
    try {
      const response = await running
      await this.store.set(storeKey, { state: 'done', response } satisfies Record_, this.ttlMs)
      return { kind: 'first', response }
    } catch (err) {
      await this.store.deleteIf(storeKey, claim).catch(() => undefined) // let a retry run it
      throw err
    } finally {
      this.inflight.delete(key)
    }
  }

  private async awaitLocal(running: Promise<OutboundResponse>, budgetMs: number): Promise<DedupOutcome> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, budgetMs, 'timeout')
    })
    try {
      const result = await Promise.race([running.catch(() => 'timeout' as const), timeout])
      return result === 'timeout' ? { kind: 'retry-timeout' } : { kind: 'retry', response: result }
    } finally {
      clearTimeout(timer)
    }
  }

  private async awaitRemote(storeKey: string, budgetMs: number): Promise<DedupOutcome | { claim: Record_ }> {
    const deadline = this.now() + budgetMs
    for (;;) {
      const record = await this.store.get<Record_>(storeKey)
      if (record?.state === 'done') return { kind: 'retry', response: record.response }
      if (record === undefined || (record.state === 'pending' && this.now() - record.since > this.staleClaimMs)) {
        // the first delivery's owner vanished (crash, kill -9): whoever replaces the claim runs it
        if (record !== undefined) await this.store.deleteIf(storeKey, record)
        const claim: Record_ = { state: 'pending', since: this.now(), owner: this.owner }
        if (await this.store.add(storeKey, claim, this.ttlMs)) return { claim }
      }
      if (this.now() + this.pollMs > deadline) return { kind: 'retry-timeout' }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs))
    }
  }
}

/** work() as a promise, a synchronous throw included. */
function promiseOf<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work())
  } catch (err) {
    return Promise.reject(err)
  }
}
