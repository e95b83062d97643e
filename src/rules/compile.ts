/**
 * From checked inputs to stored rules: priorities filled in, timestamps set. And the shortcut
 * for rules kept in code: `await compileRules([...])` checks them and returns a RuleSet for
 * the `rules()` middleware, no database involved.
 */
import { randomBytes } from 'node:crypto'
import { RuleSet } from './rule-set.js'
import { checkRules, type CheckedRule } from './validate.js'
import type { Rule, RuleInput } from './types.js'

/** Gap left between priorities the engine assigns, so a rule can be slotted in between later. */
export const PRIORITY_STEP = 10

/** A short random id (`r-1a2b3c4d`) for rules created without one. */
export function randomRuleId(): string {
  return `r-${randomBytes(4).toString('hex')}`
}

/**
 * Fills in missing priorities: those rules rank above every priority already taken (in the
 * list and in `taken`), in list order — the first of the list highest. Explicit ones stay.
 */
export function assignPriorities(rules: readonly CheckedRule[], taken: Iterable<number> = []): Array<CheckedRule & { priority: number }> {
  let top = 0
  for (const p of taken) top = Math.max(top, p)
  for (const r of rules) if (r.priority !== undefined) top = Math.max(top, r.priority)
  const missing = rules.filter((r) => r.priority === undefined).length
  let next = top + PRIORITY_STEP * missing
  return rules.map((r) => {
    if (r.priority !== undefined) return r as CheckedRule & { priority: number }
    const priority = next
    next -= PRIORITY_STEP
    return { ...r, priority }
  })
}

/** A stored rule from a checked input: createdAt kept from `previous` when it is an update. */
export function toRule(input: CheckedRule & { priority: number }, now: number, previous?: Rule): Rule {
  return {
    id: input.id,
    name: input.name,
    enabled: input.enabled,
    priority: input.priority,
    trigger: input.trigger,
    reply: input.reply,
    ...(input.schedule === undefined ? {} : { schedule: input.schedule }),
    ...(input.cooldownSec === undefined ? {} : { cooldownSec: input.cooldownSec }),
    ...(input.source === undefined ? {} : { source: input.source }),
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  }
}

/**
 * Checks rules written in code and compiles them for `rules()`. Rules without a priority rank
 * in list order (the first wins); every problem is reported at once (RuleValidationError).
 *
 * @example
 * bot.use(rules(await compileRules([
 *   { trigger: { type: 'follow' }, reply: { type: 'text', content: '欢迎关注' } },
 *   { trigger: { type: 'keyword', contains: ['价格'] }, reply: { type: 'text', content: '价格表见菜单' } },
 * ])))
 */
export async function compileRules(inputs: readonly RuleInput[], options: { now?: () => number } = {}): Promise<RuleSet> {
  let n = 0
  const checked = await checkRules(inputs, { newId: () => `rule-${++n}` })
  const now = (options.now ?? Date.now)()
  return new RuleSet(assignPriorities(checked).map((r) => toRule(r, now)))
}
