/**
 * What happens when handlers have not replied by the deadline: one small set of options that
 * applies per bot (BotOptions), per route (`lateOptions()` middleware) and per message
 * (`ctx.setLateOptions()`); the most specific wins. The core reads them when it needs them
 * (the typing delay when it schedules "typing…", the interim and the mode at the deadline),
 * so a route or a handler can still change them while the message is being handled.
 */
import { WxmpError } from '../errors.js'
import type { Context } from '../context.js'

/** What becomes of a reply that misses the passive window. */
export type LateMode = 'customer-service' | 'drop'

export interface LateOptions {
  /**
   * `customer-service` (default): the reply goes out through the customer-service API
   * (客服消息). `drop`: it is logged and dropped (for accounts without that permission).
   */
  late?: LateMode
  /**
   * Text answered passively at the deadline instead of `success` when no reply is ready yet,
   * so the user sees something at once ("正在思考…"); the real answer follows as a
   * customer-service message.
   */
  interim?: string
  /**
   * Show "typing…" (客服输入状态) when a handler is still running this many ms after the
   * message arrived, and keep it on while it runs (at most every 15 s, up to 60 s).
   * Default 1000; `false` turns it off. Needs customer-service permission; only with
   * `late: 'customer-service'`.
   */
  typingAfterMs?: number | false
}

/** The options in force for one message, defaults filled in. */
export interface LateSettings {
  late: LateMode
  interim: string | undefined
  typingAfterMs: number | false
}

export const LATE_DEFAULTS: Readonly<LateSettings> = Object.freeze({ late: 'customer-service', interim: undefined, typingAfterMs: 1000 })

/** A passive text reply longer than this is refused by the serializer; an interim must fit. */
const INTERIM_MAX_BYTES = 2048

/**
 * Checks late options where they are written (bot construction, route setup, a handler), so a
 * mistake fails there with the field named rather than silently at the deadline.
 */
export function validateLateOptions(options: LateOptions, where: string): void {
  const fail = (field: string, message: string): never => {
    throw new WxmpError('WX_ERR_CONFIG', `${where}: ${field} ${message}`, { details: { field } })
  }
  if (options === null || typeof options !== 'object') fail('options', 'must be an object such as { late: "drop" }')
  if (options.late !== undefined && options.late !== 'customer-service' && options.late !== 'drop') {
    fail('late', `must be 'customer-service' or 'drop', got ${JSON.stringify(options.late)}`)
  }
  if (options.interim !== undefined) {
    if (typeof options.interim !== 'string' || options.interim.trim() === '') fail('interim', 'must be a non-empty text, e.g. "正在思考，请稍候…"')
    if (Buffer.byteLength(options.interim) > INTERIM_MAX_BYTES) fail('interim', `is ${Buffer.byteLength(options.interim)} bytes: keep it short (at most ${INTERIM_MAX_BYTES}), the real answer follows`)
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
  }
}

/**
 * Middleware that sets the late options for the messages of one route. Options are checked
 * here, when the route is built.
 *
 * @example
 * bot.on('text', lateOptions({ interim: '正在思考，请稍候…' }), async (ctx) => {
 *   await ctx.reply(await askTheModel(ctx.text))
 * })
 * bot.click('REPORT', lateOptions({ late: 'drop', typingAfterMs: false }), buildReport)
 */
export function lateOptions<C extends Context>(options: LateOptions): (ctx: C, next: () => Promise<void>) => Promise<void> {
  validateLateOptions(options, 'lateOptions()')
  const frozen = Object.freeze({ ...options })
  return (ctx, next) => {
    ctx.setLateOptions(frozen)
    return next()
  }
}
