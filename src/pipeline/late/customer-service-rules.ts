/**
 * WeChat's rules for customer-service messages (客服消息), as data: what each refusal means,
 * how many messages one trigger allows, which triggers open a window, and the startup check.
 */
import type { Context } from '../../context.js'
import type { WechatMessage } from '../../messages/types.js'
import type { Reply } from '../../reply/types.js'
import type { DeliveryOutcome, DeliveryStatus, LateOptions } from './settings.js'

/** What each failed status means, for the log line and the docs. */
export const DELIVERY_MEANINGS: Readonly<Record<Exclude<DeliveryStatus, 'sent'>, string>> = Object.freeze({
  'out-of-window': 'the customer-service window is closed (48 hours after the user\'s last message, 1 minute after a menu click, follow or scan): only template messages reach the user now',
  quota: 'the customer-service quota for this interaction is used up (5 messages per user message, 3 per menu click, follow or scan)',
  'no-permission': "this account may not send customer-service messages (客服消息, errcode 48001): that needs a verified account (认证服务号 or 认证订阅号). With late: 'auto' (the default) late answers use WeChat's retries and pending answers instead",
  failed: 'the message could not be sent',
  dropped: "late: 'drop' is set for this message, so the reply was not sent",
  pending: "the reply waits for the user's next message (pending answer)",
  expired: "the pending answer expired before the user wrote again",
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
 * Customer-service messages one inbound message allows: 5 for a user message,
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

/**
 * One customer-service send with one outcome and one log line (info when sent, warn naming the
 * cause otherwise). The `attempt`-th message of a trigger beyond its allowance is not sent at all
 * (WeChat would answer 45047).
 */
export async function attemptSend(ctx: Context, reply: Reply, what: 'late reply' | 'message' | 'page', attempt: number, send: () => Promise<unknown>): Promise<DeliveryOutcome> {
  const allowance = sendAllowance(ctx.message)
  let outcome: DeliveryOutcome
  if (allowance !== undefined && attempt > allowance) {
    outcome = { status: 'quota', error: `not sent: this ${ctx.msgType === 'event' ? `${ctx.event} event` : 'message'} allows ${allowance} customer-service messages and ${allowance} were already sent (WeChat would answer 45047)` }
  } else {
    try {
      await send()
      outcome = { status: 'sent' }
    } catch (err) {
      outcome = classifySendError(err)
    }
  }
  const fields = { replyType: reply.type, status: outcome.status, ...(outcome.errcode === undefined ? {} : { errcode: outcome.errcode }) }
  if (outcome.status === 'sent') {
    ctx.log.info(fields, what === 'message' ? 'message sent through the customer-service API' : `${what} delivered through the customer-service API`)
  } else {
    const meaning = DELIVERY_MEANINGS[outcome.status as Exclude<DeliveryStatus, 'sent'>]
    ctx.log.warn({ ...fields, err: outcome.error }, `${what} not delivered (${outcome.status}): ${meaning}`)
  }
  return outcome
}

/**
 * The startup warning for a bot whose late replies could not reach anyone: late mode
 * `customer-service` pinned but no API client (no AppID/AppSecret). Undefined when fine: with
 * `auto` (the default) late answers use the retry window and pending answers instead.
 */
export function lateDeliveryProblem(bot: { apiConfigured: boolean; options: Pick<LateOptions, 'late'> }): string | undefined {
  if (bot.apiConfigured || bot.options.late !== 'customer-service') return undefined
  return "late replies cannot be delivered: late is 'customer-service' but the customer-service API needs WECHAT_APPID and WECHAT_APPSECRET (a verified account with 客服消息 permission). Set them, or leave WECHAT_LATE_REPLY unset (auto: WeChat's retries and pending answers carry slow answers)"
}
