/**
 * The rules engine as middleware on the composer. Where it sits relative to the code handlers
 * is its `order`, and the whole protocol is `next()`:
 *
 * - `rules-first` (default): a matching rule answers and the code handlers never see the
 *   message; a `pass` rule, or no rule, calls `next()` (the code handlers); when they leave the
 *   message unanswered (`ctx.replied` still false), a `default` rule answers.
 * - `code-first`: `next()` runs the code handlers first; only when they leave the message
 *   unanswered do the rules (then the default rules) answer.
 *
 * Either way it must be `use`d before the code handlers. A rule that fails at run time (a store
 * error in its cooldown, a reply that cannot be written) is logged with its id and the message
 * goes on to the code handlers as if no rule had matched.
 *
 * @example
 * bot.use(rules(await compileRules([{ trigger: { type: 'keyword', exact: ['营业时间'] }, reply: { type: 'text', content: '9:00–18:00' } }])))
 * bot.on('text', ctx => ctx.reply('…'))   // everything the rules leave
 */
import { COMPLETED, type MiddlewareFn, type NextFunction } from '../composer.js'
import type { Context } from '../context.js'
import { toReply, type PlaceholderValues } from './render.js'
import type { Candidate } from './rule-set.js'
import { RuleSet } from './rule-set.js'
import type { RuleSingleReply, RulesOrder } from './types.js'

/** Where the middleware reads the rules from at each message: a fixed set, or a live cache (LiveRules). */
export interface RulesSource {
  readonly current: RuleSet
}

export interface RulesOptions {
  /** Default `rules-first`. */
  order?: RulesOrder
  /** Clock for time windows (Unix ms). Default Date.now. */
  now?: () => number
  /** For `random` replies, in [0, 1). Default Math.random. */
  random?: () => number
  /**
   * For `all` replies: how long after the passive reply the others start through customer
   * service. The passive answer leaves after the message log has the message, so a send started
   * at once can reach the user first. Default 500 ms.
   */
  followUpDelayMs?: number
}

/** What a phase of the engine did with the message. */
type Outcome = 'answered' | 'pass' | 'none'
type Maybe<T> = T | Promise<T>

/** Key under which the id of the rule that answered is left in `ctx.state` (logs, the operator console). */
export const RULE_STATE_KEY = 'ruleId'

/**
 * The rules middleware. `source` is a RuleSet (`await compileRules([...])`) or anything with a
 * `current` RuleSet that may change between messages (`LiveRules`, kept up to date from the
 * database).
 */
export function rules<C extends Context = Context>(source: RuleSet | RulesSource, options: RulesOptions = {}): MiddlewareFn<C> {
  const order = options.order ?? 'rules-first'
  if (order !== 'rules-first' && order !== 'code-first') throw new TypeError(`rules(): order must be 'rules-first' or 'code-first', got ${JSON.stringify(order)}`)
  const live: RulesSource = source instanceof RuleSet ? { current: source } : source
  const engine = new Engine(options.now ?? Date.now, options.random ?? Math.random, Math.max(0, options.followUpDelayMs ?? 500))
  if (order === 'rules-first') {
    return (ctx, next) => {
      const set = live.current
      return then(engine.run(ctx, set.candidates(ctx.message)), (outcome) => {
        if (outcome === 'answered') return undefined
        const handled = next()
        if (!set.hasDefaults) return handled
        return then(handled, () => (ctx.replied ? undefined : engine.run(ctx, set.defaultCandidates(ctx.message))))
      })
    }
  }
  return (ctx, next: NextFunction) =>
    then(next(), () => {
      if (ctx.replied) return undefined
      const set = live.current
      return then(engine.run(ctx, set.candidates(ctx.message)), (outcome) =>
        outcome === 'answered' || ctx.replied || !set.hasDefaults ? undefined : engine.run(ctx, set.defaultCandidates(ctx.message)),
      )
    })
}

/** Runs `f` now when `value` is already settled (keeps the core's synchronous fast path), else after it. */
function then<T>(value: Maybe<T>, f: (v: T) => unknown): unknown {
  if (value === (COMPLETED as unknown)) return f(undefined as T)
  return value instanceof Promise ? value.then(f) : f(value)
}

class Engine {
  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
    private readonly followUpDelayMs: number,
  ) {}

  /** The first candidate that is open now and out of its cooldown answers. */
  run(ctx: Context, candidates: Candidate[], from = 0): Maybe<Outcome> {
    for (let i = from; i < candidates.length; i++) {
      const candidate = candidates[i]!
      const { rule, schedule } = candidate.compiled
      try {
        if (schedule !== undefined && !schedule.isOpen(this.now())) continue
        if (rule.cooldownSec !== undefined) return this.afterCooldown(ctx, candidates, i)
        return this.execute(ctx, candidate)
      } catch (err) {
        return this.failed(ctx, rule.id, err)
      }
    }
    return 'none'
  }

  /** A rule with a cooldown answers only if this user has not had it within the cooldown. */
  private async afterCooldown(ctx: Context, candidates: Candidate[], i: number): Promise<Outcome> {
    const { rule } = candidates[i]!.compiled
    try {
      const first = await ctx.sharedStore.add(`rules:cooldown:${rule.id}:${ctx.openid}`, 1, rule.cooldownSec! * 1000)
      if (!first) return await this.run(ctx, candidates, i + 1)
      return await this.execute(ctx, candidates[i]!)
    } catch (err) {
      return this.failed(ctx, rule.id, err)
    }
  }

  private execute(ctx: Context, candidate: Candidate): Maybe<Outcome> {
    const { rule } = candidate.compiled
    const reply = rule.reply
    if (reply.type === 'pass') return 'pass'
    const values: PlaceholderValues = {
      text: ctx.text,
      scene: ctx.scene,
      key: ctx.eventKey,
      openid: ctx.openid,
      match: candidate.match,
    }
    ctx.state[RULE_STATE_KEY] = rule.id
    ctx.log.debug({ ruleId: rule.id }, 'answered by a rule')
    if (reply.type === 'all') return this.all(ctx, rule.id, reply.replies, values)
    const one: RuleSingleReply = reply.type === 'random' ? reply.replies[Math.min(reply.replies.length - 1, Math.floor(this.random() * reply.replies.length))]! : reply
    void ctx.reply(toReply(one, values))
    return 'answered'
  }

  /**
   * The console's 回复全部: the first reply passive, the others in order through customer
   * service. The returned promise keeps the handler running until they are sent, so the core
   * answers WeChat at once (the reply slot is written) and tracks the sends (drained on shutdown).
   */
  private async all(ctx: Context, ruleId: string, replies: RuleSingleReply[], values: PlaceholderValues): Promise<Outcome> {
    void ctx.reply(toReply(replies[0]!, values))
    if (replies.length === 1) return 'answered'
    await new Promise((resolve) => setTimeout(resolve, this.followUpDelayMs)) // the passive answer leaves first
    for (const r of replies.slice(1)) {
      const outcome = await ctx.send(toReply(r, values))
      if (outcome.status !== 'sent') {
        ctx.log.warn({ code: 'WX_ERR_RULE', ruleId, status: outcome.status }, 'rule: a reply after the first could not go through customer service; the rest are not sent')
        break
      }
    }
    return 'answered'
  }

  private failed(ctx: Context, ruleId: string, err: unknown): Outcome {
    ctx.log.error({ code: 'WX_ERR_RULE', ruleId, err: err instanceof Error ? err.message : String(err) }, 'rule failed at run time; the message goes on to the code handlers')
    return 'none'
  }
}
