/**
 * Everything that reaches the user outside the first HTTP answer: a reply that missed the
 * passive window, messages a handler pushes with `ctx.send()`, and "typing…".
 *
 * A late reply goes the way the message's strategy says (settings.ts): passively on a later
 * delivery while the retry window is open, as customer-service messages (long text as
 * consecutive pages), or as pending answers for the user's next message. Rules kept here:
 * - every customer-service send has one outcome (`sent`, `out-of-window`, `quota`,
 *   `no-permission`, `failed`, `dropped`), logged once, never retried in a loop;
 * - one trigger allows few messages (a user message 5, a menu click, follow or QR scan 3):
 *   sends beyond that are not attempted (WeChat would answer 45047);
 * - with `late: 'auto'` a 48001 teaches the account's permission, and the reply becomes a
 *   pending answer instead of being lost;
 * - a Typing request still in flight is awaited before a message goes out.
 */
import type { Context } from '../context.js'
import type { Logger } from '../logger.js'
import { serializeReply } from '../reply/serialize.js'
import type { Reply } from '../reply/types.js'
import { attemptSend, DELIVERY_MEANINGS, opensWindow, sendAllowance } from './late/customer-service-rules.js'
import type { CustomerServicePermission } from './late/permission.js'
import type { PendingLog, PendingRoute } from './late/pending-route.js'
import { resolveLateSettings, type DeliveryOutcome, type DeliveryStatus, type LateOptions, type LateSettings, type LateStrategy } from './late/settings.js'
import type { ReplySlot } from './reply-slot.js'
import { TypingIndicator, type TypingAccount } from './typing.js'

export { classifySendError, DELIVERY_MEANINGS, lateDeliveryProblem, opensWindow, sendAllowance } from './late/customer-service-rules.js'
export type { DeliveryOutcome, DeliveryStatus } from './late/settings.js'
/** The slice of the API client late delivery needs (WechatApi has it; tests may pass a fake). */
export interface CustomerServiceSender {
  customerService: {
    sendReply(openid: string, reply: Reply): Promise<unknown>
    typing?(openid: string, on: boolean): Promise<unknown>
  }
}

/** How a late reply left: customer service, a later delivery of the message (passive), the user's next message, or not at all. */
export type LateVia = 'customer-service' | 'passive' | 'next-message' | 'none'

export interface LateListenerEvent {
  requestId: string
  openid: string
  reply: Reply
  via: LateVia
  status: DeliveryStatus
  error?: string
}

export interface LateDeliveryOptions {
  /** The API client; throws when none is configured. */
  api(): CustomerServiceSender
  /** Whether an API client is configured (no "typing…" without one). */
  hasApi(): boolean
  /** Bot-level late options. */
  defaults: LateOptions
  /** Names the account in "once per account" notices and pending-answer queues. */
  accountKey: string
  /** Bot-level logger, for the once-per-account notices. */
  log: Logger
  now: () => number
  /** Every late reply's outcome (metrics, `bot.onLateReply`). */
  onLateReply(event: LateListenerEvent): void
  permission: CustomerServicePermission
  route: PendingRoute
  /** The message's dedup key and its message-log row (when there is a log). */
  originOf(ctx: Context): { msgKey: string; recordId: Promise<string | number | undefined> | undefined }
}

/** What the message log records for a message whose answer did not (only) go out with the first delivery. */
export interface LateRecord {
  via: LateVia
  status: DeliveryStatus | undefined
  replyXml: string | undefined
  error: string | undefined
}

/** Per-message bookkeeping. */
interface Deliveries {
  ctx: Context
  /** Customer-service messages attempted for this trigger (late reply and ctx.send). */
  attempts: number
  pending: Set<Promise<unknown>>
  lateReply: (DeliveryOutcome & { reply: Reply; via: LateVia }) | undefined
  pushed: DeliveryOutcome[]
  typing: TypingIndicator | undefined
  /** While WeChat's retries can still carry the reply: hands it to the next delivery (false once too late). */
  window: ((reply: Reply) => Promise<boolean>) | undefined
  /** The user was told the answer waits for their next message. */
  noticeGiven: boolean
}

/** Customer-service pages wait this long after the passive first page, so the user reads them in order. */
const PAGE_AFTER_PASSIVE_MS = 500
/** 48001 explained once per process and account, however many messages meet it. */
const noPermissionExplained = new Set<string>()

/**
 * One per bot: delivers late replies and pushed messages, runs the typing indicator, and says
 * what the message log should record.
 */
export class LateDelivery {
  private readonly messages = new WeakMap<Context, Deliveries>()
  private readonly typingAccount: TypingAccount = { disabled: false }

  constructor(private readonly options: LateDeliveryOptions) {}

  /**
   * What to answer WeChat with now, instead of `success`, for a message without a reply: the
   * text given to `ctx.replyLater()`, else the configured interim — only for triggers that
   * open a window (an interim in answer to a LOCATION report or a notification would be noise).
   */
  interimFor(ctx: Context, slot: ReplySlot): string | undefined {
    return slot.deferredInterim ?? (opensWindow(ctx.message) ? this.settings(ctx).interim : undefined)
  }

  /** The late options in force for this message now. */
  settings(ctx: Context): LateSettings {
    return resolveLateSettings(this.options.defaults, ctx.lateOverrides)
  }

  /** The strategy in force for this message now: `auto` resolved by what is known of the account's permission. */
  strategy(ctx: Context): LateStrategy {
    const late = this.settings(ctx).late
    if (late !== 'auto') return late
    return this.options.permission.state() === 'no' ? 'retry-window' : 'customer-service'
  }

  /**
   * Whether the pages of a long reply after the first go out as customer-service messages (else
   * they wait for the next messages): only when the account is known to have the permission (or
   * customer service is pinned), since page 1 must already say whether more follow by itself.
   */
  pagesByCustomerService(ctx: Context): boolean {
    if (this.strategy(ctx) !== 'customer-service' || !opensWindow(ctx.message)) return false
    return this.settings(ctx).late === 'customer-service' || this.options.permission.state() === 'yes'
  }

  /** Handlers are about to run: start the bookkeeping and schedule "typing…". */
  begin(ctx: Context, slot: ReplySlot): void {
    // no typing indicator possible: keep nothing per message until a send needs it (entry() then)
    if (!this.options.hasApi() || this.typingAccount.disabled) return
    const entry = this.entry(ctx)
    entry.typing = this.typingFor(entry, slot)
    entry.typing?.schedule(this.settings(ctx).typingAfterMs)
  }

  /** A route or the handler changed the late options: the typing delay may have moved. */
  optionsChanged(ctx: Context): void {
    const entry = this.messages.get(ctx)
    entry?.typing?.schedule(this.settings(ctx).typingAfterMs)
  }

  /**
   * The HTTP answer went out. A reply ends "typing…" for good; an interim ends it too, but the
   * handler is still working, so typing starts over; `success` changes nothing.
   */
  passiveAnswered(ctx: Context, kind: 'reply' | 'interim' | 'success'): void {
    const typing = this.messages.get(ctx)?.typing
    if (kind === 'reply') typing?.messageSent()
    else if (kind === 'interim') typing?.resume()
  }

  /** The first delivery was left unanswered: until `publish` says it is too late, a reply goes out on a later delivery. */
  openWindow(ctx: Context, publish: (reply: Reply) => Promise<boolean>): void {
    this.entry(ctx).window = publish
  }

  /** True while the retry window can still carry this message's reply (no reply, no notice yet). */
  windowOpen(ctx: Context): boolean {
    const entry = this.messages.get(ctx)
    return entry?.window !== undefined && entry.lateReply === undefined
  }

  /** The user was told the answer waits for their next message: a reply from now on is queued for it. */
  noticeGiven(ctx: Context): void {
    const entry = this.entry(ctx)
    entry.noticeGiven = true
    entry.window = undefined
  }

  /** A reply after the passive window: a later delivery, customer service, the next message, or dropped. Never throws. */
  deliverLate(ctx: Context, reply: Reply, afterReturn: boolean): Promise<DeliveryOutcome> {
    const entry = this.entry(ctx)
    if (afterReturn) {
      ctx.log.warn(
        { code: 'WX_ERR_REPLY_AFTER_RETURN', replyType: reply.type },
        `ctx.reply() was called after the handlers had returned (a forgotten \`await\`?): WeChat was already answered, so this reply ${this.lateWay(ctx)}. Await the reply inside the handler`,
      )
    }
    const work = (async (): Promise<DeliveryOutcome> => {
      if (entry.window !== undefined) {
        if (await entry.window(reply)) {
          entry.lateReply = { status: 'sent', reply, via: 'passive' }
          this.emit(ctx, reply, 'passive', 'sent')
          return { status: 'sent' }
        }
        entry.window = undefined // the last delivery was answered meanwhile: the reply waits for the next message
        entry.noticeGiven = true
      }
      if (reply.type === 'success') return { status: 'sent' }
      const strategy = this.strategy(ctx)
      if (entry.noticeGiven || strategy === 'next-message' || strategy === 'retry-window') return this.queue(entry, reply, this.options.route.split(reply), 'next-message')
      if (strategy === 'drop') {
        ctx.log.warn({ replyType: reply.type, status: 'dropped' }, "late reply dropped (late: 'drop'): the user does not get it")
        entry.lateReply = { status: 'dropped', reply, via: 'none' }
        this.emit(ctx, reply, 'none', 'dropped')
        void entry.typing?.stop({ cancel: true })
        return { status: 'dropped' }
      }
      return this.sendPages(entry, reply, this.options.route.split(reply), 'late reply')
    })()
    return this.track(entry, work)
  }

  /**
   * The rest of a long reply whose first page went out passively: customer-service messages (a
   * moment later, so they land after the first page), or pending answers.
   */
  overflow(ctx: Context, reply: Reply, rest: Reply[], byCustomerService: boolean): void {
    if (rest.length === 0) return
    const entry = this.entry(ctx)
    const work = byCustomerService
      ? new Promise((resolve) => setTimeout(resolve, PAGE_AFTER_PASSIVE_MS)).then(() => this.sendPages(entry, reply, rest, 'page'))
      : this.queue(entry, reply, rest, 'passive')
    void this.track(entry, work)
  }

  /** `ctx.send()`: a customer-service message now, beside the reply. Never throws. */
  push(ctx: Context, reply: Reply): Promise<DeliveryOutcome> {
    const entry = this.entry(ctx)
    if (reply.type === 'success') return Promise.resolve({ status: 'sent' })
    const work = (async () => {
      await entry.typing?.pause()
      const outcome = await this.send(entry, reply, 'message')
      entry.pushed.push(outcome)
      if (entry.lateReply === undefined) entry.typing?.resume() // still working: "typing…" again later
      return outcome
    })()
    return this.track(entry, work)
  }

  /**
   * Handlers are done: waits for sends still in flight, ends "typing…", and returns what the
   * message log should record: the late reply, else (when there was no passive reply either)
   * the pushed messages; undefined when the passive answer is the record.
   */
  async finish(ctx: Context, passiveReply: boolean): Promise<LateRecord | undefined> {
    const entry = this.messages.get(ctx)
    if (entry === undefined) return undefined
    while (entry.pending.size > 0) await Promise.allSettled([...entry.pending])
    await entry.typing?.stop({ cancel: true })
    const late = entry.lateReply
    if (late === undefined && entry.noticeGiven) {
      // told to come back, but the handlers ended without an answer: nothing to wait for
      const { msgKey } = this.options.originOf(ctx)
      await this.options.route.clear(this.userOf(ctx), msgKey).catch(() => undefined)
    }
    if (late !== undefined) return { via: late.via, status: late.via === 'passive' && late.status === 'sent' ? undefined : late.status, replyXml: this.xmlOf(ctx, late.reply), error: late.error }
    if (passiveReply || entry.pushed.length === 0) return undefined
    const worst = entry.pushed.find((o) => o.status !== 'sent') ?? entry.pushed[0]!
    return { via: 'customer-service', status: worst.status, replyXml: undefined, error: worst.error }
  }

  /** True when anything was sent, scheduled or recorded for this message (finish() has work to do). */
  tracks(ctx: Context): boolean {
    return this.messages.has(ctx)
  }

  /** True while a send for this message is still running (the passive answer must not wait for it). */
  busy(ctx: Context): boolean {
    return (this.messages.get(ctx)?.pending.size ?? 0) > 0
  }

  /** The user's pending-answer queue name. */
  userOf(ctx: Context): string {
    return this.options.route.userOf(ctx, this.options.accountKey)
  }

  private lateWay(ctx: Context): string {
    const strategy = this.strategy(ctx)
    if (strategy === 'customer-service') return 'goes out through the customer-service API (it spends that quota)'
    if (strategy === 'drop') return "is dropped (late: 'drop')"
    return "waits for the user's next message (pending answer)"
  }

  private entry(ctx: Context): Deliveries {
    let entry = this.messages.get(ctx)
    if (entry === undefined) {
      entry = { ctx, attempts: 0, pending: new Set(), lateReply: undefined, pushed: [], typing: undefined, window: undefined, noticeGiven: false }
      this.messages.set(ctx, entry)
    }
    return entry
  }

  private track(entry: Deliveries, work: Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    entry.pending.add(work)
    void work.finally(() => entry.pending.delete(work))
    return work
  }

  private emit(ctx: Context, reply: Reply, via: LateVia, status: DeliveryStatus, error?: string): void {
    this.options.onLateReply({ requestId: ctx.request.id, openid: ctx.openid, reply, via, status, ...(error === undefined ? {} : { error }) })
  }

  /**
   * Customer-service messages for `pages`, in order. Pages beyond this trigger's allowance, and
   * (with `auto`) every page after a 48001, wait for the user's next messages instead; the last
   * page sent then says how many follow.
   */
  private async sendPages(entry: Deliveries, reply: Reply, pages: Reply[], what: 'late reply' | 'page'): Promise<DeliveryOutcome> {
    const { ctx } = entry
    const allowance = sendAllowance(ctx.message)
    const fit = allowance === undefined ? pages.length : Math.max(0, Math.min(pages.length, allowance - entry.attempts))
    await entry.typing?.stop() // the message ends "typing…"; never let a Typing land after it
    for (let i = 0; i < pages.length; i++) {
      const overQuota = i >= fit && pages.length > 1
      const outcome = overQuota ? undefined : await this.send(entry, i === fit - 1 && fit < pages.length ? this.options.route.shown(pages[i]!, pages.length - fit) : pages[i]!, what)
      if (outcome?.status === 'sent') continue
      const noPermission = outcome?.status === 'no-permission' && this.settings(ctx).late === 'auto'
      if (noPermission) this.options.permission.learnedNo('customer-service')
      if (overQuota || noPermission) return this.queue(entry, reply, pages.slice(i), i === 0 && what === 'late reply' ? 'next-message' : what === 'page' ? 'passive' : 'customer-service')
      const failed = outcome as DeliveryOutcome
      entry.lateReply = { ...failed, reply, via: 'customer-service' }
      this.emit(ctx, reply, 'customer-service', failed.status, failed.error)
      return failed
    }
    entry.typing?.messageSent()
    if (what === 'late reply' || entry.lateReply === undefined) entry.lateReply = { status: 'sent', reply, via: what === 'page' ? 'passive' : 'customer-service' }
    if (what === 'late reply') this.emit(ctx, reply, 'customer-service', 'sent')
    return { status: 'sent' }
  }

  /** Pending answers for the user's next messages. */
  private async queue(entry: Deliveries, reply: Reply, pages: Reply[], via: LateVia): Promise<DeliveryOutcome> {
    const { ctx } = entry
    const origin = this.options.originOf(ctx)
    const recordId = await origin.recordId
    const log: PendingLog = { via: via === 'passive' || via === 'customer-service' ? via : 'next-message', replyXml: this.xmlOf(ctx, reply) }
    const user = this.userOf(ctx)
    await this.options.route.enqueue(ctx, user, pages, { msgKey: origin.msgKey, recordId, log })
    await this.options.route.clear(user, origin.msgKey).catch(() => undefined)
    ctx.log.info({ replyType: reply.type, pages: pages.length, status: 'pending' }, `the answer waits for the user's next message${pages.length > 1 ? ` (${pages.length} pages, one per message)` : ''}`)
    void entry.typing?.stop({ cancel: true })
    entry.lateReply = { status: 'pending', reply, via: log.via }
    this.emit(ctx, reply, 'next-message', 'pending')
    return { status: 'pending' }
  }

  /** One attempt, one outcome, one log line. */
  private async send(entry: Deliveries, reply: Reply, what: 'late reply' | 'message' | 'page'): Promise<DeliveryOutcome> {
    const { ctx } = entry
    entry.attempts++
    const outcome = await attemptSend(ctx, reply, what, entry.attempts, () => this.options.api().customerService.sendReply(ctx.openid, reply))
    if (outcome.status === 'sent') this.options.permission.learnedYes()
    if (outcome.status === 'no-permission') this.explainNoPermission()
    return outcome
  }

  private explainNoPermission(): void {
    if (this.options.defaults.late === 'auto' || this.options.defaults.late === undefined) this.options.permission.learnedNo('customer-service')
    if (noPermissionExplained.has(this.options.accountKey)) return
    noPermissionExplained.add(this.options.accountKey)
    this.options.log.warn(
      { code: 'WX_ERR_API', errcode: 48001, account: this.options.accountKey || undefined },
      `WeChat refused a customer-service call with 48001: ${DELIVERY_MEANINGS['no-permission']}. "typing…" is off for this account from now on. (Logged once.)`,
    )
  }

  private typingFor(entry: Deliveries, slot: ReplySlot): TypingIndicator | undefined {
    const { ctx } = entry
    const message = ctx.message
    if (!this.options.hasApi() || this.typingAccount.disabled || !opensWindow(message)) return undefined
    return new TypingIndicator({
      send: async (on) => {
        const customerService = this.options.api().customerService
        if (customerService.typing === undefined) throw new Error('this API client has no customerService.typing')
        await customerService.typing(ctx.openid, on)
      },
      // only while the user still waits for a customer-service answer: no passive reply, no late reply yet
      wanted: () => this.strategy(ctx) === 'customer-service' && slot.reply === undefined && entry.lateReply === undefined,
      account: this.typingAccount,
      onNoPermission: () => this.explainNoPermission(),
      onAllowed: () => this.options.permission.learnedYes(),
      log: ctx.log,
      startedAt: ctx.request.receivedAt,
      now: this.options.now,
    })
  }

  /** The reply as XML, for the message log (what the user was told, whichever way it went). */
  private xmlOf(ctx: Context, reply: Reply): string | undefined {
    try {
      return serializeReply(reply, { toUser: ctx.openid, fromUser: ctx.accountId, createTime: this.options.now() / 1000 })
    } catch {
      return undefined
    }
  }
}
