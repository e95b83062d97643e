/**
 * Checks rules before anything is stored: the shape (zod, unknown fields refused so a typo
 * is not silently ignored), then what zod cannot see — WeChat's reply limits, placeholders,
 * the safe-regex guard, time windows — then the set as a whole (ids and priorities unique).
 * Every problem names the rule and the field; all problems are reported at once, and the
 * caller stores nothing when there is one (all or nothing).
 */
import { z } from 'zod'
import { WxmpError } from '../errors.js'
import { REPLY_LIMITS } from '../reply/serialize.js'
import { placeholderProblems } from './render.js'
import { regexProblem } from './regex-guard.js'
import { isKnownTimezone, parseHHMM } from './schedule.js'
import { normaliseKeyword } from './text.js'
import { RULE_MESSAGE_TYPES, RULE_REPLY_TYPES, RULE_TRIGGER_TYPES, WEEKDAYS, type RuleInput, type RuleReply, type RuleTrigger } from './types.js'

export interface RuleProblem {
  /** How the rule is named in the message: `"price"` or `#3` (position in the list, from 1). */
  rule: string
  /** Dotted path of the field, e.g. `trigger.contains[0]`; empty for the rule as a whole. */
  field: string
  message: string
}

/** A refused rule (or set of rules): `problems` lists every reason; nothing was stored. */
export class RuleValidationError extends WxmpError {
  override readonly name = 'RuleValidationError'
  readonly problems: RuleProblem[]

  constructor(problems: RuleProblem[]) {
    const lines = problems.slice(0, 20).map(formatProblem)
    const more = problems.length > 20 ? `\n… and ${problems.length - 20} more` : ''
    super('WX_ERR_RULE_INVALID', `${problems.length === 1 ? 'rule refused' : `${problems.length} problems, nothing stored`}: ${lines.join('\n')}${more}`, { details: { problems } })
    this.problems = problems
  }
}

export function formatProblem(p: RuleProblem): string {
  return `rule ${p.rule}${p.field === '' ? '' : ` ${p.field}`}: ${p.message}`
}

export const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
export const LIMITS = {
  nameChars: 60,
  keywordsPerRule: 200,
  keywordChars: 100,
  sceneChars: 64,
  clickKeyBytes: 128,
  mediaIdChars: 256,
  urlChars: 1024,
  textBytes: REPLY_LIMITS.textBytesWarning,
  repliesPerRule: 5,
  /** One passive + the customer-service quota of an event (3). */
  repliesForEvents: 4,
  windows: 20,
  priority: 1_000_000_000,
  cooldownSec: 30 * 86_400,
} as const

const nonEmpty = (what = 'must not be empty') => z.string().refine((s) => s.trim() !== '', what)
const mediaId = nonEmpty().refine((s) => s.length <= LIMITS.mediaIdChars && !/\s/.test(s), `must be a media_id (no spaces, at most ${LIMITS.mediaIdChars} characters)`)
const url = z.string().refine((s) => /^https?:\/\/[^\s]+$/i.test(s) && s.length <= LIMITS.urlChars, `must be an http(s) URL of at most ${LIMITS.urlChars} characters`)

const article = z.strictObject({ title: nonEmpty(), description: z.string().optional(), picUrl: url.optional(), url: url.optional() })
const single = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text'), content: z.string() }),
    z.strictObject({ type: z.literal('image'), mediaId }),
    z.strictObject({ type: z.literal('voice'), mediaId }),
    z.strictObject({ type: z.literal('video'), mediaId, title: z.string().optional(), description: z.string().optional() }),
    z.strictObject({ type: z.literal('music'), thumbMediaId: mediaId, title: z.string().optional(), description: z.string().optional(), musicUrl: url.optional(), hqMusicUrl: url.optional() }),
    z.strictObject({ type: z.literal('news'), articles: z.array(article).min(1, 'needs at least one article').max(REPLY_LIMITS.newsArticles, `at most ${REPLY_LIMITS.newsArticles} articles`) }),
  ],
  { error: (issue) => unknownType('reply', issue.input, ['text', 'image', 'voice', 'video', 'music', 'news'], 'inside random/all') },
)
const replySchema = z.discriminatedUnion(
  'type',
  [
    ...single.options,
    z.strictObject({ type: z.literal('random'), replies: z.array(single).min(1, 'needs at least one reply').max(LIMITS.repliesPerRule, `at most ${LIMITS.repliesPerRule} replies (as in the console)`) }),
    z.strictObject({ type: z.literal('all'), replies: z.array(single).min(1, 'needs at least one reply').max(LIMITS.repliesPerRule, `at most ${LIMITS.repliesPerRule} replies (as in the console)`) }),
    z.strictObject({ type: z.literal('pass') }),
  ],
  { error: (issue) => unknownType('reply', issue.input, RULE_REPLY_TYPES) },
)
const keyword = z.array(z.string()).max(LIMITS.keywordsPerRule, `at most ${LIMITS.keywordsPerRule} keywords per rule`)
const triggerSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('keyword'), exact: keyword.optional(), contains: keyword.optional() }),
    z.strictObject({ type: z.literal('regex'), pattern: z.string(), flags: z.string().optional() }),
    z.strictObject({ type: z.literal('follow'), scene: z.string().optional() }),
    z.strictObject({ type: z.literal('scan'), scene: z.string().optional() }),
    z.strictObject({ type: z.literal('click'), key: z.string() }),
    z.strictObject({ type: z.literal('message'), msgTypes: z.array(z.enum(RULE_MESSAGE_TYPES, { error: (i) => `unknown message type ${JSON.stringify(i.input)}: use ${RULE_MESSAGE_TYPES.join(', ')}` })).min(1, 'name at least one message type') }),
    z.strictObject({ type: z.literal('default') }),
  ],
  { error: (issue) => unknownType('trigger', issue.input, RULE_TRIGGER_TYPES) },
)
const windowSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS, { error: (i) => `unknown day ${JSON.stringify(i.input)}: use ${WEEKDAYS.join(', ')}` })).min(1, 'name at least one day, or leave days out for every day').optional(),
  from: z.string(),
  to: z.string(),
})
const scheduleSchema = z.strictObject({ timezone: z.string().optional(), windows: z.array(windowSchema).min(1, 'needs at least one window').max(LIMITS.windows, `at most ${LIMITS.windows} windows`) })
const ruleSchema = z.strictObject({
  id: z.string().optional(),
  name: z.string().optional(),
  enabled: z.boolean().optional(),
  priority: z.number().int('must be a whole number').min(-LIMITS.priority, `must be at least -${LIMITS.priority}`).max(LIMITS.priority, `must be at most ${LIMITS.priority}`).optional(),
  trigger: triggerSchema,
  reply: replySchema,
  schedule: scheduleSchema.optional(),
  cooldownSec: z.number().int('must be a whole number of seconds').min(1, 'must be at least 1').max(LIMITS.cooldownSec, `must be at most ${LIMITS.cooldownSec} (30 days)`).optional(),
  source: z.strictObject({ kind: z.literal('console'), fingerprint: z.string() }).optional(),
})

function unknownType(what: string, input: unknown, known: readonly string[], where = ''): string {
  if (input === undefined) return 'is required'
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return `must be an object with a "type": one of ${known.join(', ')}`
  const type = (input as { type?: unknown }).type
  if (type === undefined) return `a ${what} needs a "type": one of ${known.join(', ')}`
  return `unknown ${what} type ${JSON.stringify(type)}${where === '' ? '' : ` ${where}`}: use ${known.join(', ')}`
}

/** A rule that passed every check; `id`, `name` and `enabled` filled in, `priority` maybe not yet. */
export type CheckedRule = Omit<RuleInput, 'id' | 'name' | 'enabled'> & { id: string; name: string; enabled: boolean }

export interface CheckOptions {
  /** Makes an id for rules without one. */
  newId: () => string
  /** Where the list came from, for positions in messages (`#3`); default 1-based positions. */
  label?: (index: number, input: unknown) => string
}

/** Checks a list of rules; throws RuleValidationError naming every problem. */
export async function checkRules(inputs: readonly unknown[], options: CheckOptions): Promise<CheckedRule[]> {
  const problems: RuleProblem[] = []
  const checked: CheckedRule[] = []
  const labels: string[] = []
  for (const [index, input] of inputs.entries()) {
    const rule = options.label?.(index, input) ?? labelOf(index, input)
    const found = await checkOne(input, (field, message) => problems.push({ rule, field, message }), options)
    if (found !== undefined) {
      checked.push(found)
      labels.push(rule)
    }
  }
  problems.push(...duplicates(checked, (i) => labels[i]!))
  if (problems.length > 0) throw new RuleValidationError(problems)
  return checked
}

/** `"price"` when the input has an id, else its position. */
export function labelOf(index: number, input: unknown): string {
  const id = input !== null && typeof input === 'object' ? (input as { id?: unknown }).id : undefined
  return typeof id === 'string' && id !== '' ? JSON.stringify(id) : `#${index + 1}`
}

type Report = (field: string, message: string) => void

async function checkOne(input: unknown, report: Report, options: CheckOptions): Promise<CheckedRule | undefined> {
  const parsed = ruleSchema.safeParse(input)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) report(...describeIssue(issue))
    // the well-formed parts are still checked, so one pass shows every problem of the rule
    const parts = input !== null && typeof input === 'object' ? (input as { trigger?: unknown; reply?: unknown }) : {}
    const trigger = triggerSchema.safeParse(parts.trigger)
    if (trigger.success) {
      checkTrigger(trigger.data as RuleTrigger, report)
      await checkRegex(trigger.data as RuleTrigger, report)
      const reply = replySchema.safeParse(parts.reply)
      if (reply.success) checkReply(reply.data as RuleReply, trigger.data as RuleTrigger, report)
    }
    return undefined
  }
  const rule = parsed.data as RuleInput
  let ok = true
  const fail: Report = (field, message) => {
    ok = false
    report(field, message)
  }
  if (rule.id !== undefined && !RULE_ID.test(rule.id)) fail('id', 'must be 1–64 letters, digits or _ . : - (starting with a letter or digit)')
  if (rule.name !== undefined && (rule.name.trim() === '' || [...rule.name].length > LIMITS.nameChars)) fail('name', `must be 1–${LIMITS.nameChars} characters`)
  checkTrigger(rule.trigger, fail)
  await checkRegex(rule.trigger, fail)
  checkReply(rule.reply, rule.trigger, fail)
  if (rule.schedule !== undefined) {
    if (rule.schedule.timezone !== undefined && !isKnownTimezone(rule.schedule.timezone)) fail('schedule.timezone', `unknown time zone ${JSON.stringify(rule.schedule.timezone)}: use an IANA name such as Asia/Shanghai`)
    rule.schedule.windows.forEach((w, i) => {
      const from = parseHHMM(w.from)
      const to = parseHHMM(w.to)
      if (from === undefined || from === 1440) fail(`schedule.windows[${i}].from`, `must be HH:MM (00:00–23:59), got ${JSON.stringify(w.from)}`)
      if (to === undefined) fail(`schedule.windows[${i}].to`, `must be HH:MM (00:00–24:00), got ${JSON.stringify(w.to)}`)
      if (from !== undefined && from === to) fail(`schedule.windows[${i}]`, 'from and to are the same time: the window would be empty (leave the schedule out for "always")')
    })
  }
  if (!ok) return undefined
  const id = rule.id ?? options.newId()
  return { ...rule, id, name: rule.name ?? id, enabled: rule.enabled ?? true }
}

function checkTrigger(trigger: RuleTrigger, fail: Report): void {
  switch (trigger.type) {
    case 'keyword': {
      const exact = trigger.exact ?? []
      const contains = trigger.contains ?? []
      if (exact.length + contains.length === 0) fail('trigger', 'a keyword trigger needs at least one keyword in exact or contains')
      for (const [list, name] of [[exact, 'exact'], [contains, 'contains']] as const) {
        list.forEach((k, i) => {
          if (normaliseKeyword(k) === '') fail(`trigger.${name}[${i}]`, 'must not be empty')
          else if ([...k].length > LIMITS.keywordChars) fail(`trigger.${name}[${i}]`, `is longer than ${LIMITS.keywordChars} characters`)
        })
      }
      return
    }
    case 'follow':
    case 'scan':
      if (trigger.scene !== undefined && (trigger.scene === '' || trigger.scene.length > LIMITS.sceneChars)) fail('trigger.scene', `must be 1–${LIMITS.sceneChars} characters (leave it out for any scene)`)
      return
    case 'click':
      if (trigger.key.trim() === '') fail('trigger.key', 'must not be empty')
      else if (Buffer.byteLength(trigger.key) > LIMITS.clickKeyBytes) fail('trigger.key', `is ${Buffer.byteLength(trigger.key)} bytes; a menu key is at most ${LIMITS.clickKeyBytes}`)
      return
    case 'message':
      if (new Set(trigger.msgTypes).size !== trigger.msgTypes.length) fail('trigger.msgTypes', 'names a type twice')
      return
    default:
      return
  }
}

async function checkRegex(trigger: RuleTrigger, fail: Report): Promise<void> {
  if (trigger.type !== 'regex') return
  const problem = await regexProblem(trigger.pattern, trigger.flags ?? '')
  if (problem !== undefined) fail(problem.startsWith('flags') ? 'trigger.flags' : 'trigger.pattern', problem)
}

/** Triggers answered in reply to an ordinary message (news: one article). */
const MESSAGE_TRIGGERS = new Set(['keyword', 'regex', 'message', 'default'])

function checkReply(reply: RuleReply, trigger: RuleTrigger, fail: Report): void {
  const toMessage = MESSAGE_TRIGGERS.has(trigger.type)
  const checkSingle = (r: RuleReply, field: string) => {
    if (r.type === 'text') {
      if (r.content.trim() === '') fail(`${field}.content`, 'must not be empty (to answer nothing, leave the message to code or use no rule)')
      const bytes = Buffer.byteLength(r.content)
      if (bytes > LIMITS.textBytes) fail(`${field}.content`, `is ${bytes} bytes of UTF-8; WeChat cuts or refuses text replies over ${LIMITS.textBytes}`)
      for (const p of placeholderProblems(r.content)) fail(`${field}.content`, p)
    }
    if (r.type === 'news' && toMessage && r.articles.length > REPLY_LIMITS.newsArticlesForMessages) {
      fail(`${field}.articles`, `has ${r.articles.length} articles; WeChat allows ${REPLY_LIMITS.newsArticlesForMessages} in a reply to a message (up to ${REPLY_LIMITS.newsArticles} for follow, click and scan)`)
    }
  }
  if (reply.type === 'random' || reply.type === 'all') {
    reply.replies.forEach((r, i) => {
      checkSingle(r, `reply.replies[${i}]`)
      // after the first, replies go through customer service, which takes one article (45008)
      if (reply.type === 'all' && i > 0 && r.type === 'news' && r.articles.length > 1) fail(`reply.replies[${i}].articles`, `has ${r.articles.length} articles; a reply after the first goes through customer service, which sends one`)
    })
    if (reply.type === 'all' && !toMessage && reply.replies.length > LIMITS.repliesForEvents) {
      fail('reply.replies', `has ${reply.replies.length} replies; after a ${trigger.type} WeChat lets one passive reply and 3 customer-service messages through (${LIMITS.repliesForEvents} in all)`)
    }
  } else if (reply.type === 'pass') {
    if (trigger.type === 'default') fail('reply', 'a default rule must answer something: "pass" would hand on a message nothing answered')
  } else checkSingle(reply, 'reply')
}

function duplicates(rules: CheckedRule[], label: (index: number) => string): RuleProblem[] {
  const problems: RuleProblem[] = []
  const ids = new Map<string, number>()
  const priorities = new Map<number, number>()
  rules.forEach((r, i) => {
    const sameId = ids.get(r.id)
    if (sameId !== undefined) problems.push({ rule: label(i), field: 'id', message: `the same id as rule ${label(sameId)}` })
    else ids.set(r.id, i)
    if (r.priority === undefined) return
    const same = priorities.get(r.priority)
    if (same !== undefined) problems.push({ rule: label(i), field: 'priority', message: `${r.priority} is also the priority of rule ${label(same)}: priorities are unique, so which rule answers is never a tie` })
    else priorities.set(r.priority, i)
  })
  return problems
}

/** A zod issue as (field, message) in our words. */
function describeIssue(issue: z.core.$ZodIssue): [string, string] {
  const field = pathText(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ')
    return [field, `unknown field${issue.keys.length === 1 ? '' : 's'} ${keys}${field === '' ? '' : ` in ${field}`}`]
  }
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    const received = /received (\w+)/.exec(issue.message)?.[1] ?? 'something else'
    if (received === 'undefined') return [field, 'is required']
    return [field, `must be ${article_(issue.expected)}, got ${received === 'array' ? 'a list' : received}`]
  }
  return [field, issue.message]
}

function article_(expected: string): string {
  if (expected === 'array') return 'a list'
  if (expected === 'int') return 'a whole number'
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}

function pathText(path: readonly PropertyKey[]): string {
  let text = ''
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? String(part) : `.${String(part)}`
  return text
}
