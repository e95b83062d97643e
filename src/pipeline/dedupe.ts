import { hostname } from 'node:os'
import type { KeyValueStore, LocalStore } from '../storage/types.js'
import { Heartbeat } from './heartbeat.js'
import { Gates } from './dedup-gates.js'
import { Running } from './dedup-running.js'
import { isGated, isLapse, type DedupOutcome, type DeliveryInfo, type FirstAnswer, type GatedAnswer, type Lapse, type Published } from './dedup-outcome.js'
import type { OutboundResponse } from './request.js'

export { dedupKey } from './dedup-key.js'
export { isLapse, type DedupOutcome, type DeliveryInfo, type FirstAnswer, type GatedAnswer, type Lapse, type Published } from './dedup-outcome.js'

/** WeChat's spacing of deliveries (it retries when 5 s pass without an answer) and their number. */
export const WECHAT_RETRY_INTERVAL_MS = 5000
export const WECHAT_DELIVERIES = 3

/**
 * A claim: the message is being handled by `owner`. `hb` marks an owner that keeps a heartbeat
 * (so a claim whose heartbeat stopped is taken over at once); `window` marks a message whose
 * first delivery was left unanswered on purpose (the retry window).
 */
type Claim = { state: 'pending'; since: number; owner: string; hb?: 1; window?: 1; notice?: string }
type Done = { state: 'done'; response: OutboundResponse }
type Record_ = Claim | Done

export interface DeduperOptions {
  /** How long a message is remembered; must outlive WeChat's retries (3 × 5 s). Default 5 min. */
  ttlMs?: number
  /** How often a retry on another instance polls for the first delivery's answer. Default 50 ms. */
  pollMs?: number
  /**
   * A claim made by an instance without a heartbeat (an older version) is taken over once it
   * is this old. Claims with a heartbeat are taken over as soon as the heartbeat stops. Default 10 s.
   */
  staleClaimMs?: number
  /** How long an owner's heartbeat lives without renewal (it is renewed 3–4 times meanwhile). Default 2000 ms. */
  heartbeatTtlMs?: number
  now?: () => number
  /** Distinguishes this process's claims from other instances'. Default: host/pid/start time/random. */
  owner?: string
}

type MaybePromise<T> = T | Promise<T>

/** The owner id this process uses by default: readable in logs, unique per process start. */
const PROCESS_OWNER = `${hostname().slice(0, 40)}/${process.pid}/${Date.now().toString(36)}/${Math.random().toString(36).slice(2, 6)}`

/**
 * Runs a message's pipeline once, however many times WeChat delivers it and to whichever
 * instance: the first delivery claims the key (atomic add); a retry in the same process awaits
 * the same answer; a retry elsewhere polls the shared store for it until its own budget runs
 * out. An owner keeps a heartbeat in the shared store while it holds claims, so a claim whose
 * owner died (crash, kill -9, a restart) is taken over by the next delivery at once.
 *
 * The message's answer is normally the first delivery's response. In the retry window the first
 * delivery returns LAPSE instead and the answer comes later through `publish()`, which is
 * atomic across instances (the first answer published wins: the reply, or the notice a last
 * delivery gives when its budget ran out).
 */
export class Deduper {
  private readonly running = new Map<string, Running>()
  /** The gates stored answers still wait for (see GatedAnswer): a retry answered meanwhile waits too. */
  private readonly gates = new Gates()
  /** The message whose work is running right now on a process-local store, and its claim (written only if needed). */
  private working: { key: string; storeKey: string; claim: Claim; claimed: boolean } | undefined
  private readonly ttlMs: number
  private readonly pollMs: number
  private readonly staleClaimMs: number
  private readonly now: () => number
  private readonly owner: string
  private readonly heartbeat: Heartbeat

  constructor(
    private readonly store: KeyValueStore,
    options: DeduperOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000
    this.pollMs = options.pollMs ?? 50
    this.staleClaimMs = options.staleClaimMs ?? 10_000
    this.now = options.now ?? Date.now
    this.owner = options.owner ?? PROCESS_OWNER
    this.heartbeat = new Heartbeat(store, this.owner, options.heartbeatTtlMs ?? 2000, this.now)
  }

  /** True while this process is running the first delivery of `key` (or waits for its answer in the retry window). */
  isRunning(key: string): boolean {
    return this.running.has(key)
  }

  /**
   * Runs `work` for the first delivery of `key`, or answers a retry. On a process-local store a
   * first delivery whose work finishes synchronously is settled synchronously too.
   * `check`: one under way (the replay guard's) that must pass before anything of this delivery
   * happens; only its claim goes out meanwhile (`claimBehind`).
   */
  run(key: string, budgetMs: number, work: (delivery: DeliveryInfo) => FirstAnswer | Promise<FirstAnswer>, check?: Promise<unknown>): DedupOutcome | Promise<DedupOutcome> {
    const local = this.store.local
    if (check !== undefined && local !== undefined) return check.then(() => this.run(key, budgetMs, work))
    if (local === undefined || this.running.has(key)) return this.runShared(key, budgetMs, work, check)
    const outer = this.working
    if (outer?.key === key) {
      // the same message delivered from inside its own handlers: it waits like a retry, on the claim written now
      outer.claimed ||= local.addLocal(outer.storeKey, outer.claim, this.ttlMs)
      return this.runShared(key, budgetMs, work)
    }
    const storeKey = `dedup:${key}`
    const since = this.now()
    // a retry, or a claim left behind: the general path sorts it out (its add fails the same way)
    if (local.getLocal(storeKey) !== undefined) return this.runShared(key, budgetMs, work)
    const claim: Claim = { state: 'pending', since, owner: this.owner }
    const delivery: DeliveryInfo = { number: 1, firstArrival: since }
    // no other delivery can come in while `work` runs, so the claim is written only when the work
    // goes on after it returns: an answer given at once is stored in its place (one record per
    // message instead of two), and a throw leaves nothing behind
    const working = { key, storeKey, claim, claimed: false }
    this.working = working
    let answer: FirstAnswer | Promise<FirstAnswer>
    try {
      answer = work(delivery)
    } catch (err) {
      if (working.claimed) local.deleteLocalIf(storeKey, claim) // let a retry run it
      throw err
    } finally {
      this.working = outer
    }
    if (answer instanceof Promise) {
      if (!working.claimed) local.addLocal(storeKey, claim, this.ttlMs)
      return this.finishLocal(key, storeKey, claim, delivery, answer, local)
    }
    if (isLapse(answer)) return this.lapsed(key, storeKey, claim, delivery, this.track(key, since), answer)
    if (isGated(answer)) return this.storeGated(key, storeKey, delivery, answer, local)
    // the records are never mutated, so the store keeps them as they are
    local.setLocal(storeKey, { state: 'done', response: answer } satisfies Done, this.ttlMs)
    return { kind: 'first', response: answer, delivery }
  }

  /**
   * A gated answer on a process-local store: stored now (its journal record goes with the
   * message log's record of the same turn) and handed back with the gate it waits for. No
   * promise per request: the bot waits for the gate, usually the turn's own.
   */
  private storeGated(key: string, storeKey: string, delivery: DeliveryInfo, answer: GatedAnswer, local: LocalStore): DedupOutcome {
    const { response } = answer
    local.setLocal(storeKey, { state: 'done', response } satisfies Done, this.ttlMs)
    const durable = local.whenDurable?.()
    // the journal's write is the same turn's as the record's (the common case): one gate
    const until = durable === undefined || durable === answer.until ? answer.until : Promise.all([answer.until, durable]).then(noop, noop)
    this.gates.hold(until)
    return { kind: 'first', response, delivery, until }
  }

  /**
   * Makes `response` the message's answer unless it already has one, atomically across
   * instances, and hands it to every delivery waiting for it. Resolves with the answer that
   * won (this one, or the one published before it).
   */
  publish(key: string, response: OutboundResponse): MaybePromise<Published> {
    const running = this.running.get(key)
    if (running?.marking !== undefined) return running.marking.then(() => this.publish(key, response))
    const storeKey = `dedup:${key}`
    const local = this.store.local
    if (local !== undefined) {
      const record = local.getLocal<Record_>(storeKey)
      if (record?.state === 'done') return this.published(key, { won: false, response: record.response })
      local.setLocal(storeKey, { state: 'done', response } satisfies Done, this.ttlMs)
      return this.published(key, { won: true, response })
    }
    return this.publishShared(key, storeKey, response)
  }

  private async publishShared(key: string, storeKey: string, response: OutboundResponse): Promise<Published> {
    if (await this.store.add(`${storeKey}:answer`, response, this.ttlMs)) {
      await this.store.set(storeKey, { state: 'done', response } satisfies Done, this.ttlMs)
      return this.published(key, { won: true, response })
    }
    const winner = (await this.store.get<OutboundResponse>(`${storeKey}:answer`)) ?? doneResponse(await this.store.get<Record_>(storeKey)) ?? response
    return this.published(key, { won: false, response: winner })
  }

  private published(key: string, result: Published): Published {
    const running = this.running.get(key)
    if (running !== undefined) {
      this.running.delete(key)
      running.settle(result.response)
    }
    return result
  }

  private track(key: string, since: number): Running {
    const running = new Running(since)
    this.running.set(key, running)
    return running
  }

  private async finishLocal(key: string, storeKey: string, claim: Claim, delivery: DeliveryInfo, pending: Promise<FirstAnswer>, local: LocalStore): Promise<DedupOutcome> {
    const running = this.track(key, claim.since)
    let answer: FirstAnswer
    try {
      answer = await pending
    } catch (err) {
      local.deleteLocalIf(storeKey, claim) // let a retry run it
      this.forget(key, running)
      throw err
    }
    if (isLapse(answer)) return this.lapsed(key, storeKey, claim, delivery, running, answer)
    if (isGated(answer)) {
      const outcome = this.storeGated(key, storeKey, delivery, answer, local)
      this.forget(key, running, answer.response) // a retry waiting here waits for the gate too (runShared)
      return outcome
    }
    local.setLocal(storeKey, { state: 'done', response: answer } satisfies Done, this.ttlMs)
    this.forget(key, running, answer)
    // a journaled store: the stored answer is on disk before the answer leaves (a retry after a crash gets it)
    await local.whenDurable?.()
    return { kind: 'first', response: answer, delivery }
  }

  /** The first delivery was left unanswered: the claim is marked, so later deliveries know the message is in its window. */
  private lapsed(key: string, storeKey: string, claim: Claim, delivery: DeliveryInfo, running: Running, lapse: Lapse, tookOver?: string): DedupOutcome | Promise<DedupOutcome> {
    running.window = true
    running.notice = lapse.notice
    // after WeChat's last delivery nobody waits here any more: a handler that never ends must not keep the entry
    setTimeout(() => this.forget(key, running), (WECHAT_DELIVERIES + 1) * WECHAT_RETRY_INTERVAL_MS).unref()
    const marked: Claim = { ...claim, window: 1, ...(lapse.notice === undefined ? {} : { notice: lapse.notice }) }
    const outcome: DedupOutcome = { kind: 'lapse', delivery, ...(tookOver === undefined ? {} : { tookOver }) }
    const local = this.store.local
    if (local !== undefined) {
      if (local.getLocal<Record_>(storeKey)?.state !== 'done') local.setLocal(storeKey, marked, this.ttlMs)
      return outcome
    }
    running.marking = this.store
      .get<Record_>(storeKey)
      .then((record) => (record?.state === 'done' ? undefined : this.store.set(storeKey, marked, this.ttlMs)))
      .catch(() => undefined)
      .finally(() => (running.marking = undefined))
    return running.marking.then(() => outcome)
  }

  private forget(key: string, running: Running, response?: OutboundResponse): void {
    if (this.running.get(key) === running) this.running.delete(key)
    running.settle(response)
  }

  /**
   * Any store: claims through the async API, waits for another delivery's answer when needed. A
   * retry's answer may be one still held by its gate (a first delivery's answer not yet allowed
   * to leave): it waits for the gates pending now, its own among them.
   */
  private async runShared(key: string, budgetMs: number, work: (delivery: DeliveryInfo) => FirstAnswer | Promise<FirstAnswer>, check?: Promise<unknown>): Promise<DedupOutcome> {
    const outcome = await this.claimOrWait(key, budgetMs, work, check)
    const gate = outcome.kind === 'retry' ? this.gates.settled() : undefined
    if (gate !== undefined) await gate
    return outcome
  }

  private async claimOrWait(key: string, budgetMs: number, work: (delivery: DeliveryInfo) => FirstAnswer | Promise<FirstAnswer>, check?: Promise<unknown>): Promise<DedupOutcome> {
    const arrived = this.now()
    const deadline = arrived + budgetMs
    const runningHere = this.running.get(key)
    if (runningHere !== undefined) {
      if (check !== undefined) await check
      return this.awaitLocal(runningHere, arrived, deadline)
    }
    const storeKey = `dedup:${key}`
    const shared = this.store.local === undefined
    if (shared) await this.heartbeat.beat()
    let claim: Claim = { state: 'pending', since: this.now(), owner: this.owner, ...(shared ? { hb: 1 as const } : {}) }
    let tookOver: string | undefined
    let delivery: DeliveryInfo = { number: 1, firstArrival: claim.since }
    if (!(await this.claimBehind(check, storeKey, claim))) {
      const again = this.running.get(key) // another local delivery may have claimed meanwhile
      if (again !== undefined) return this.awaitLocal(again, arrived, deadline)
      const seen = await this.awaitRemote(storeKey, arrived, deadline)
      if (!('claim' in seen)) return seen
      claim = seen.claim
      tookOver = seen.tookOver
      // this delivery is a retry that runs the message itself (the owner died, or the first run failed)
      delivery = { number: retryNumber(claim.since, arrived), firstArrival: claim.since }
    }
    const running = this.track(key, claim.since)
    if (this.store.local === undefined) this.heartbeat.keepBeating(() => this.running.size > 0)
    let answer: FirstAnswer
    try {
      answer = await promiseOf(() => work(delivery))
    } catch (err) {
      await this.store.deleteIf(storeKey, claim).catch(() => undefined) // let a retry run it
      this.forget(key, running)
      throw err
    }
    if (isLapse(answer)) return this.lapsed(key, storeKey, claim, delivery, running, answer, tookOver)
    // a shared store hands the answer to other instances: only once it may leave
    const response = isGated(answer) ? await answer.until.then(() => answer.response, () => answer.response) : answer
    try {
      await this.store.set(storeKey, { state: 'done', response } satisfies Done, this.ttlMs)
    } finally {
      this.forget(key, running, response)
    }
    return { kind: 'first', response, delivery, ...(tookOver === undefined ? {} : { tookOver }) }
  }

  /**
   * The claim, sent at once, and whether it won, once `check` has passed. At once: it goes in
   * the replay check's round trip (RedisStore sends a turn's operations in one call), one fewer
   * per message. Safe: whether it won is read only after the check passed, so a refused delivery
   * runs nothing, waits for nothing and is handed no answer (not even by naming an answered
   * MsgId); a claim it won is let go first, so the real message with that key still runs.
   */
  private async claimBehind(check: Promise<unknown> | undefined, storeKey: string, claim: Claim): Promise<boolean> {
    if (check === undefined) return this.store.add(storeKey, claim, this.ttlMs)
    const adding = promiseOf(() => this.store.add(storeKey, claim, this.ttlMs))
    adding.catch(noop) // a claim failing while the check is under way is read below, not left unhandled
    try {
      await check
    } catch (refusal) {
      if (await adding.catch(() => false)) await this.store.deleteIf(storeKey, claim).catch(noop)
      throw refusal
    }
    return adding
  }

  private async awaitLocal(running: Running, arrived: number, deadline: number): Promise<DedupOutcome> {
    const delivery: DeliveryInfo = { number: retryNumber(running.since, arrived), firstArrival: running.since }
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - this.now()), undefined)
    })
    try {
      const response = await Promise.race([running.answer, timeout])
      if (response !== undefined) return { kind: 'retry', response, delivery }
      return { kind: 'retry-timeout', window: running.window, notice: running.notice, delivery }
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Polls the shared record until the answer is there, the claim's owner is gone (then this
   * delivery claims the message and runs it), or the budget ends.
   */
  private async awaitRemote(storeKey: string, arrived: number, deadline: number): Promise<DedupOutcome | { claim: Claim; tookOver: string | undefined }> {
    // a retry's number: from its arrival (not from when its wait ends) since the first delivery's claim
    let ownerCheckedAt = -Infinity
    let since = arrived
    let window = false
    let notice: string | undefined
    for (;;) {
      const record = await this.store.get<Record_>(storeKey)
      if (record?.state === 'done') return { kind: 'retry', response: record.response, delivery: { number: retryNumber(since, arrived), firstArrival: since } }
      let gone: string | undefined
      if (record !== undefined) {
        since = record.since
        window = record.window === 1
        notice = record.notice
        if (record.hb === 1) {
          // the owner's heartbeat is checked a few times a second, not on every poll
          if (this.now() - ownerCheckedAt >= 250) {
            ownerCheckedAt = this.now()
            if (!(await this.heartbeat.alive(record.owner))) gone = record.owner
          }
        } else if (this.now() - record.since > this.staleClaimMs) gone = record.owner
      }
      if (record === undefined || gone !== undefined) {
        // the first delivery's owner vanished (crash, kill -9, restart): whoever replaces the claim runs it
        if (record !== undefined) await this.store.deleteIf(storeKey, record)
        await this.heartbeat.beat()
        const claim: Claim = { state: 'pending', since, owner: this.owner, hb: 1, ...(window ? { window: 1 as const } : {}), ...(notice === undefined ? {} : { notice }) }
        if (await this.store.add(storeKey, claim, this.ttlMs)) return { claim, tookOver: gone }
      }
      if (this.now() + this.pollMs > deadline) return { kind: 'retry-timeout', window, notice, delivery: { number: retryNumber(since, arrived), firstArrival: since } }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs))
    }
  }

  /** Stops the heartbeat timer (shutdown); the heartbeat then expires by itself. */
  close(): void {
    this.heartbeat.close()
  }
}

function noop(): void {}

function doneResponse(record: Record_ | undefined): OutboundResponse | undefined {
  return record?.state === 'done' ? record.response : undefined
}

/** A retry's number from the time since the first delivery: WeChat retries 5 s apart. */
function retryNumber(firstArrival: number, now: number): number {
  return Math.min(WECHAT_DELIVERIES, Math.max(2, 1 + Math.round((now - firstArrival) / WECHAT_RETRY_INTERVAL_MS)))
}

/** work() as a promise, a synchronous throw included. */
function promiseOf<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work())
  } catch (err) {
    return Promise.reject(err)
  }
}
