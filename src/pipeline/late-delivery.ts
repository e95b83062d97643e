/**
 * Everything that reaches the user outside the HTTP answer (protocol.md §7): a reply that
 * missed the passive window, messages a handler pushes with `ctx.send()`, and "typing…".
 *
 * Rules kept here, in one place:
 * - every customer-service send has one outcome (`sent`, `out-of-window`, `quota`,
 *   `no-permission`, `failed`, `dropped`), logged once, never retried in a loop (the API
 *   client's bounded retry on errcode -1 is the only retry);
 * - 45015 → out-of-window, 45047 → quota, 48001 → no-permission (explained once per process
 *   and account), 43004 and network errors → failed;
 * - one trigger allows few messages (a user message 5, a menu click, follow or QR scan 3):
 *   sends beyond that are not attempted (WeChat would answer 45047);
 * - a Typing request still in flight is awaited before a message goes out, so "typing…"
 *   never lands after the answer.
 */
import type { Context } from '../context.js'
import type { Logger } from '../logger.js'
import type { WechatMessage } from '../messages/types.js'
import { serializeReply } from '../reply/serialize.js'
import type { Reply } from '../reply/types.js'
import { resolveLateSettings, type DeliveryOutcome, type DeliveryStatus, type LateOptions, type LateSettings } from './late/settings.js'
import type { ReplySlot } from './reply-slot.js'
import { TypingIndicator, type TypingAccount } from './typing.js'

/** The slice of the API client late delivery needs (WechatApi has it; tests may pass a fake). */
export interface CustomerServiceSender {
  customerService: {
    sendReply(openid: string, reply: Reply): Promise<unknown>
    typing?(openid: string, on: boolean): Promise<unknown>
  }
}

export type { DeliveryOutcome, DeliveryStatus } from './late/settings.js'

/** What each failed status means, for the log line and the docs. */
export const DELIVERY_MEANINGS: Readonly<Record<Exclude<DeliveryStatus, 'sent'>, string>> = Object.freeze({
  'out-of-window': 'the customer-service window is closed (48 hours after the user\'s last message, 1 minute after a menu click, follow or scan): only template messages reach the user now',
  quota: 'the customer-service quota for this interaction is used up (5 messages per user message, 3 per menu click, follow or scan)',
  'no-permission': 'this account may not send customer-service messages (客服消息, errcode 48001): that needs a verified service account (认证服务号). Late replies cannot be delivered: keep handlers under the deadline, or set late: \'drop\'',
  failed: 'the message could not be sent',
  dropped: "late: 'drop' is set for this message, so the reply was not sent",
  pending: "the reply waits for the user's next message (pending answer)",
})

const ERRCODE_STATUS: Readonly<Record<number, DeliveryStatus>> = { 45015: 'out-of-window', 45047: 'quota', 48001: 'no-permission', 43004: 'failed' }

/**
 * The outcome of a failed customer-service send: WeChat's errcode decides (45015, 45047,
 * 48001, 43004…); anything without one (network, timeout, no API client) is `failed`.
 *
 * @example classifySendError(new WechatApiError({ errcode: 45015, errmsg: 'response out of time limit', path })).status // 'out-of-window'
 */
export function classifySendError(err: unknown): DeliveryOutcome {
  const errcode = (err as { errcode?: unknown } | null | undefined)?.errcode
  const error = err instanceof Error ? err.message : String(err)
  if (typeof errcode === 'number' && Number.isInteger(errcode)) return { status: ERRCODE_STATUS[errcode] ?? 'failed', errcode, error }
  return { status: 'failed', error }
}

/** Events after which WeChat opens a short customer-service window (3 messages, 1 minute). */
const WINDOW_EVENTS = new Set(['subscribe', 'SCAN', 'CLICK', 'scancode_push', 'scancode_waitmsg'])

/**
 * Customer-service messages one inbound message allows (protocol.md §7): 5 for a user message,
 * 3 for a menu click, follow or QR scan; undefined when this trigger opens no window of its
 * own (a message may still get through an earlier window: WeChat decides).
 */
export function sendAllowance(message: WechatMessage): number | undefined {
  if (message.MsgType !== 'event') return 5
  return WINDOW_EVENTS.has((message as { Event: string }).Event) ? 3 : undefined
}

/** Whether this trigger opens a customer-service window of its own (a late reply or "typing…" can follow). */
export function opensWindow(message: WechatMessage): boolean {
  return message.MsgType !== 'event' || WINDOW_EVENTS.has((message as { Event: string }).Event)
}

export interface LateListenerEvent {
  requestId: string
  openid: string
  reply: Reply
  via: 'customer-service' | 'none'
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
  /** Names the account in "once per account" notices. */
  accountKey: string
  /** Bot-level logger, for the once-per-account notices. */
  log: Logger
  now: () => number
  /** Every late reply's outcome (metrics, `bot.onLateReply`). */
  onLateReply(event: LateListenerEvent): void
}

/** What the message log records for a message whose answer used the customer-service API. */
export interface LateRecord {
  via: 'customer-service' | 'none'
  status: DeliveryStatus
  replyXml: string | undefined
  error: string | undefined
}

/** Per-message bookkeeping. */
interface Deliveries {
  ctx: Context
  /** Customer-service messages attempted for this trigger (late reply and ctx.send). */
  attempts: number
  pending: Set<Promise<unknown>>
  lateReply: (DeliveryOutcome & { reply: Reply; via: LateRecord['via'] }) | undefined
  pushed: DeliveryOutcome[]
  typing: TypingIndicator | undefined
}

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

  /** A reply after the passive window: through the customer-service API, or dropped. Never throws. */
  deliverLate(ctx: Context, reply: Reply): Promise<DeliveryOutcome> {
    const entry = this.entry(ctx)
    if (reply.type === 'success') return Promise.resolve({ status: 'sent' })
    const base = { requestId: ctx.request.id, openid: ctx.openid, reply }
    if (this.settings(ctx).late === 'drop') {
      ctx.log.warn({ replyType: reply.type, status: 'dropped' }, "late reply dropped (late: 'drop'): the user does not get it")
      entry.lateReply = { status: 'dropped', reply, via: 'none' }
      this.options.onLateReply({ ...base, via: 'none', status: 'dropped' })
      void entry.typing?.stop({ cancel: true })
      return Promise.resolve({ status: 'dropped' })
    }
    const work = (async () => {
      await entry.typing?.stop() // the message ends "typing…"; never let a Typing land after it
      const outcome = await this.send(entry, reply, 'late reply')
      if (outcome.status === 'sent') entry.typing?.messageSent()
      entry.lateReply = { ...outcome, reply, via: 'customer-service' }
      this.options.onLateReply({ ...base, via: 'customer-service', status: outcome.status, ...(outcome.error === undefined ? {} : { error: outcome.error }) })
      return outcome
    })()
    return this.track(entry, work)
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
    if (late !== undefined) return { via: late.via, status: late.status, replyXml: this.xmlOf(ctx, late.reply), error: late.error }
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

  private entry(ctx: Context): Deliveries {
    let entry = this.messages.get(ctx)
    if (entry === undefined) {
      entry = { ctx, attempts: 0, pending: new Set(), lateReply: undefined, pushed: [], typing: undefined }
      this.messages.set(ctx, entry)
    }
    return entry
  }

  private track(entry: Deliveries, work: Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    entry.pending.add(work)
    void work.finally(() => entry.pending.delete(work))
    return work
  }

  /** One attempt, one outcome, one log line. */
  private async send(entry: Deliveries, reply: Reply, what: 'late reply' | 'message'): Promise<DeliveryOutcome> {
    const { ctx } = entry
    const allowance = sendAllowance(ctx.message)
    entry.attempts++
    let outcome: DeliveryOutcome
    if (allowance !== undefined && entry.attempts > allowance) {
      outcome = { status: 'quota', error: `not sent: this ${ctx.msgType === 'event' ? `${ctx.event} event` : 'message'} allows ${allowance} customer-service messages and ${allowance} were already sent (WeChat would answer 45047)` }
    } else {
      try {
        await this.options.api().customerService.sendReply(ctx.openid, reply)
        outcome = { status: 'sent' }
      } catch (err) {
        outcome = classifySendError(err)
      }
    }
    const fields = { replyType: reply.type, status: outcome.status, ...(outcome.errcode === undefined ? {} : { errcode: outcome.errcode }) }
    if (outcome.status === 'sent') {
      ctx.log.info(fields, what === 'late reply' ? 'late reply delivered through the customer-service API' : 'message sent through the customer-service API')
    } else {
      const meaning = DELIVERY_MEANINGS[outcome.status]
      ctx.log.warn({ ...fields, err: outcome.error }, `${what} not delivered (${outcome.status}): ${meaning}`)
      if (outcome.status === 'no-permission') this.explainNoPermission()
    }
    return outcome
  }

  private explainNoPermission(): void {
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
      // only while the user still waits for the answer: no passive reply, no late reply yet
      wanted: () => (this.settings(ctx).late === 'customer-service' || this.settings(ctx).late === 'auto') && slot.reply === undefined && entry.lateReply === undefined,
      account: this.typingAccount,
      onNoPermission: () => this.explainNoPermission(),
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

/**
 * The startup warning for a bot whose late replies could not reach anyone: late mode
 * `customer-service` (the default) but no API client (no AppID/AppSecret). Undefined when fine.
 */
export function lateDeliveryProblem(bot: { apiConfigured: boolean; options: Pick<LateOptions, 'late'> }): string | undefined {
  if (bot.apiConfigured || bot.options.late === 'drop') return undefined
  return "late replies cannot be delivered: a handler slower than the deadline (WECHAT_REPLY_TIMEOUT_MS, default 4500 ms) gets \"success\" and its reply goes nowhere, because the customer-service API needs WECHAT_APPID and WECHAT_APPSECRET (a verified service account with 客服消息 permission). Set them, or WECHAT_LATE_REPLY=drop to silence this"
}
