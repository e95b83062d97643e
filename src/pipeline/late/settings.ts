/**
 * The late-reply settings and the outcome types, in one leaf module: the context, the bot
 * options, the delivery code and the `lateOptions()` middleware all read them from here, so
 * settings and types flow one way (nothing here imports the context or the delivery code).
 *
 * What happens when handlers have not replied by the deadline is one small set of options that
 * applies per bot (BotOptions), per route (`lateOptions()` middleware) and per message
 * (`ctx.setLateOptions()`); the most specific wins. The core reads them when it needs them
 * (the typing delay when it schedules "typing…", the interim and the mode at the deadline), so
 * a route or a handler can still change them while the message is being handled.
 */
import { WxmpError } from '../../errors.js'

/**
 * What becomes of a reply that misses the passive window.
 * - `auto` (default): `customer-service` when the account may send customer-service messages,
 *   else `retry-window` (learned from the first 48001, or from `accountKind`).
 * - `customer-service`: WeChat is answered `success` (or the interim) at the deadline; the
 *   reply follows as a customer-service message (客服消息).
 * - `retry-window`: WeChat's three deliveries are used as one ~15 s window: the first two
 *   deliveries are left unanswered, the reply goes out passively on whichever delivery is open
 *   when it is ready; past the third delivery's deadline the user gets the pending notice and
 *   the reply waits for their next message.
 * - `next-message`: the pending notice at the first deadline; the reply waits for the next message.
 * - `drop`: WeChat is answered at the deadline; a later reply is logged and dropped.
 */
export type LateMode = 'auto' | 'customer-service' | 'drop' | 'retry-window' | 'next-message'
export const LATE_MODES: readonly LateMode[] = Object.freeze(['auto', 'customer-service', 'drop', 'retry-window', 'next-message'])

/** The strategy in force for one message once `auto` is resolved. */
export type LateStrategy = Exclude<LateMode, 'auto'>

export interface LateOptions {
  /** What becomes of a reply that misses the deadline (see LateMode). Default `auto`. */
  late?: LateMode
  /**
   * Text answered passively at the deadline instead of `success` when no reply is ready yet,
   * so the user sees something at once ("正在思考…"); the real answer follows as a
   * customer-service message. Not used by `retry-window` (an answer would end WeChat's retries).
   */
  interim?: string
  /**
   * Show "typing…" (客服输入状态) when a handler is still running this many ms after the
   * message arrived, and keep it on while it runs (at most every 15 s, up to 60 s).
   * Default 1000; `false` turns it off. Needs customer-service permission.
   */
  typingAfterMs?: number | false
  /**
   * Text answered when the reply will wait for the user's next message (the last delivery's
   * deadline passed, or `next-message`). Default: "内容较长，回复任意文字获取结果" (or the
   * keyword form, or English with `language: 'en'`).
   */
  pendingNotice?: string
}

/** The options in force for one message, defaults filled in. */
export interface LateSettings {
  late: LateMode
  interim: string | undefined
  typingAfterMs: number | false
  pendingNotice: string | undefined
}

export const LATE_DEFAULTS: Readonly<LateSettings> = Object.freeze({ late: 'auto', interim: undefined, typingAfterMs: 1000, pendingNotice: undefined })

/** What became of one customer-service message; the message log's `replyStatus`. */
export type DeliveryStatus = 'sent' | 'out-of-window' | 'no-permission' | 'quota' | 'failed' | 'dropped' | 'pending' | 'expired'

export interface DeliveryOutcome {
  status: DeliveryStatus
  /** WeChat's errcode when WeChat refused the message. */
  errcode?: number
  /** Why it was not sent. */
  error?: string
}

/** A passive text reply longer than this is refused by the serializer; an interim must fit. */
export const PASSIVE_TEXT_MAX_BYTES = 2048

/**
 * Checks late options where they are written (bot construction, route setup, a handler), so a
 * mistake fails there with the field named rather than silently at the deadline.
 */
export function validateLateOptions(options: LateOptions, where: string): void {
  const fail = (field: string, message: string): never => {
    throw new WxmpError('WX_ERR_CONFIG', `${where}: ${field} ${message}`, { details: { field } })
  }
  if (options === null || typeof options !== 'object') fail('options', 'must be an object such as { late: "drop" }')
  if (options.late !== undefined && !LATE_MODES.includes(options.late)) {
    fail('late', `must be one of ${LATE_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(options.late)}`)
  }
  for (const field of ['interim', 'pendingNotice'] as const) {
    const text = options[field]
    if (text === undefined) continue
    if (typeof text !== 'string' || text.trim() === '') fail(field, 'must be a non-empty text, e.g. "正在思考，请稍候…"')
    if (Buffer.byteLength(text) > PASSIVE_TEXT_MAX_BYTES) fail(field, `is ${Buffer.byteLength(text)} bytes: keep it short (at most ${PASSIVE_TEXT_MAX_BYTES}), the real answer follows`)
  }
  const typing = options.typingAfterMs
  if (typing !== undefined && typing !== false && (typeof typing !== 'number' || !Number.isFinite(typing) || typing < 0)) {
    fail('typingAfterMs', `must be a non-negative number of milliseconds or false, got ${JSON.stringify(typing)}`)
  }
}

/** Bot defaults overlaid with the route's and the handler's choices. */
export function resolveLateSettings(bot: LateOptions, message: LateOptions): LateSettings {
  return {
    late: message.late ?? bot.late ?? LATE_DEFAULTS.late,
    interim: message.interim ?? bot.interim,
    typingAfterMs: message.typingAfterMs ?? bot.typingAfterMs ?? LATE_DEFAULTS.typingAfterMs,
    pendingNotice: message.pendingNotice ?? bot.pendingNotice,
  }
}
