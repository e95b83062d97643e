/**
 * The rules page's model: the rule shapes (the engine's own types and lists, src/rules/types.ts,
 * bundled as they are), blank triggers and replies for the editor, a one-line summary in the
 * operator's language, and which form field a refusal names. The checks themselves run on the
 * server, in the very RuleStore the CLI uses, so the page shows the CLI's words.
 */
import { RULE_MESSAGE_TYPES, RULE_REPLY_TYPES, RULE_TRIGGER_TYPES, WEEKDAYS } from '../../rules/types.js'
import type { Rule, RuleInput, RuleReply, RuleReplyType, RuleSingleReply, RuleTrigger, RuleTriggerType, Weekday } from '../../rules/types.js'
import { t, tMaybe } from './i18n.js'

export { RULE_MESSAGE_TYPES, RULE_REPLY_TYPES, RULE_TRIGGER_TYPES, WEEKDAYS }
export type { Rule, RuleInput, RuleReply, RuleReplyType, RuleSingleReply, RuleTrigger, RuleTriggerType, Weekday }

/** A rule as the page edits it: the input shape, with lists always present where the form shows lists. */
export type Draft = RuleInput

/** The single reply types (what `random` and `all` hold). */
export const SINGLE_REPLY_TYPES = ['text', 'image', 'voice', 'video', 'music', 'news'] as const satisfies readonly RuleSingleReply['type'][]

export function blankTrigger(type: RuleTriggerType): RuleTrigger {
  switch (type) {
    case 'keyword':
      return { type, exact: [], contains: [] }
    case 'regex':
      return { type, pattern: '' }
    case 'click':
      return { type, key: '' }
    case 'message':
      return { type, msgTypes: ['image'] }
    default:
      return { type } as RuleTrigger
  }
}

export function blankReply(type: RuleReplyType): RuleReply {
  switch (type) {
    case 'text':
      return { type, content: '' }
    case 'image':
    case 'voice':
    case 'video':
      return { type, mediaId: '' }
    case 'music':
      return { type, thumbMediaId: '' }
    case 'news':
      return { type, articles: [{ title: '' }] }
    case 'random':
    case 'all':
      return { type, replies: [{ type: 'text', content: '' }] }
    case 'pass':
      return { type }
  }
}

export function newDraft(): Draft {
  return { name: '', enabled: true, trigger: blankTrigger('keyword'), reply: blankReply('text') }
}

/** A stored rule as a draft (what PUT sends back: no timestamps, no import fingerprint). */
export function toDraft(rule: Rule): Draft {
  const { createdAt: _c, updatedAt: _u, source: _s, ...rest } = rule as Rule & { summary?: unknown }
  delete (rest as { summary?: unknown }).summary
  return structuredClone(rest)
}

/** What the page sends: empty optional texts left out, so the engine's defaults and checks apply. */
export function cleanDraft(draft: Draft): Draft {
  const copy = structuredClone(draft) as Draft & Record<string, unknown>
  const prune = (o: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(o)) if (v === '' && k !== 'content' && k !== 'pattern' && k !== 'key' && k !== 'mediaId' && k !== 'thumbMediaId' && k !== 'title') delete o[k]
  }
  prune(copy)
  if (copy.id === undefined || copy.id === '') delete copy.id
  prune(copy.trigger as unknown as Record<string, unknown>)
  if (copy.trigger.type === 'keyword') {
    if (copy.trigger.exact?.length === 0) delete copy.trigger.exact
    if (copy.trigger.contains?.length === 0) delete copy.trigger.contains
  }
  const replies = copy.reply.type === 'random' || copy.reply.type === 'all' ? copy.reply.replies : [copy.reply]
  for (const r of replies as unknown as Array<Record<string, unknown>>) {
    prune(r)
    if (Array.isArray(r.articles)) for (const a of r.articles as Array<Record<string, unknown>>) prune(a)
  }
  return copy
}

const quote = (words: readonly string[]) => words.map((w) => `“${w}”`).join(t('rules.sum.or'))

export function triggerSummary(trigger: RuleTrigger): string {
  switch (trigger.type) {
    case 'keyword': {
      const parts: string[] = []
      if (trigger.exact?.length) parts.push(t('rules.sum.exact', { words: quote(trigger.exact) }))
      if (trigger.contains?.length) parts.push(t('rules.sum.contains', { words: quote(trigger.contains) }))
      return parts.join(t('rules.sum.or'))
    }
    case 'regex':
      return t('rules.sum.regex', { pattern: trigger.pattern, flags: trigger.flags ?? '' })
    case 'follow':
      return trigger.scene === undefined ? t('rules.sum.follow') : t('rules.sum.followScene', { scene: trigger.scene })
    case 'scan':
      return trigger.scene === undefined ? t('rules.sum.scan') : t('rules.sum.scanScene', { scene: trigger.scene })
    case 'click':
      return t('rules.sum.click', { key: trigger.key })
    case 'message':
      return t('rules.sum.message', { types: trigger.msgTypes.map((m) => tMaybe(`msg.${m}`, m)).join('、') })
    case 'default':
      return t('rules.sum.default')
  }
}

export function replySummary(reply: RuleReply): string {
  if (reply.type === 'pass') return t('rules.reply.pass')
  if (reply.type === 'random') return `${t('rules.sum.random', { n: reply.replies.length })}${t('rules.sum.sep')}${reply.replies.map(replySummary).join(' / ')}`
  if (reply.type === 'all') return `${t('rules.sum.all', { n: reply.replies.length })}${t('rules.sum.sep')}${reply.replies.map(replySummary).join(' → ')}`
  const label = t(`rules.reply.${reply.type}`)
  if (reply.type === 'text') return `${label} “${reply.content.length > 60 ? reply.content.slice(0, 60) + '…' : reply.content}”`
  if (reply.type === 'news') return `${label} “${reply.articles[0]?.title ?? ''}”${reply.articles.length > 1 ? ` +${reply.articles.length - 1}` : ''}`
  if (reply.type === 'music') return `${label} ${reply.title ?? reply.thumbMediaId}`
  return `${label} ${reply.mediaId}`
}

export function conditionsSummary(rule: Pick<Rule, 'schedule' | 'cooldownSec'>): string {
  const parts: string[] = []
  if (rule.schedule !== undefined) {
    const windows = rule.schedule.windows.map((w) => `${w.from}–${w.to}${w.days === undefined ? '' : ` ${w.days.map((d) => t(`rules.day.${d}`)).join('')}`}`).join(', ')
    parts.push(t('rules.sum.windows', { windows }) + (rule.schedule.timezone === undefined ? '' : ` (${rule.schedule.timezone})`))
  }
  if (rule.cooldownSec !== undefined) parts.push(t('rules.sum.cooldown', { n: rule.cooldownSec }))
  return parts.join(' · ')
}

/**
 * The form field a refusal names: the exact path when the form has it (`reply.replies[1].content`),
 * else the nearest enclosing one (`trigger.contains[0]` → `trigger.contains` → `trigger`).
 */
export function fieldFor(path: string, present: ReadonlySet<string>): string | undefined {
  let p = path
  for (;;) {
    if (present.has(p)) return p
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['))
    if (cut <= 0) return undefined
    p = p.slice(0, cut)
  }
}

export interface RuleProblemView {
  rule: string
  field: string
  message: string
  /** The problem as the CLI prints it: `rule #1 trigger.pattern: …` */
  text: string
}

export interface RuleTestView {
  outcome: 'rule' | 'default' | 'pass' | 'none'
  rule: { id: string; name: string; priority: number } | null
  match: string | null
  mode: 'one' | 'random' | 'all' | null
  replies: Array<{ type: string; text: string }>
  skipped: Array<{ id: string; name: string; why: string }>
  cooldownSec: number | null
}
