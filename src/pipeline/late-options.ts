/**
 * `lateOptions()`: the late-reply options for the messages of one route, as middleware. The
 * options themselves (types, defaults, checks) live in ./late/settings.ts.
 */
import type { Context } from '../context.js'
import { validateLateOptions, type LateOptions } from './late/settings.js'

export { LATE_DEFAULTS, LATE_MODES, resolveLateSettings, validateLateOptions } from './late/settings.js'
export type { LateMode, LateOptions, LateSettings, LateStrategy } from './late/settings.js'

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
