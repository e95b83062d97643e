/** One line a person can read for a rule: when it answers and with what (`rules list`, `rules test`, the import plan). */
import { describeRuleReply } from './render.js'
import type { Rule, RuleInput, RuleReply, RuleTrigger } from './types.js'

export function describeTrigger(trigger: RuleTrigger): string {
  switch (trigger.type) {
    case 'keyword': {
      const parts: string[] = []
      if (trigger.exact?.length) parts.push(`is ${trigger.exact.map(quote).join(' | ')}`)
      if (trigger.contains?.length) parts.push(`contains ${trigger.contains.map(quote).join(' | ')}`)
      return `text ${parts.join(' or ')}`
    }
    case 'regex':
      return `text ~ /${trigger.pattern}/${trigger.flags ?? ''}`
    case 'follow':
      return trigger.scene === undefined ? 'follow' : `follow via QR scene ${quote(trigger.scene)}`
    case 'scan':
      return trigger.scene === undefined ? 'scan (any QR scene)' : `scan of QR scene ${quote(trigger.scene)}`
    case 'click':
      return `menu click ${quote(trigger.key)}`
    case 'message':
      return `any ${trigger.msgTypes.join(' | ')} message`
    case 'default':
      return 'default (nothing else answered)'
  }
}

export function describeReply(reply: RuleReply): string {
  if (reply.type === 'pass') return 'hand on to the code handlers'
  if (reply.type === 'random') return `one of: ${reply.replies.map(describeRuleReply).join('; ')}`
  if (reply.type === 'all') return `all: ${reply.replies.map(describeRuleReply).join('; then ')}`
  return describeRuleReply(reply)
}

/** `09:00–18:00 mon,tue Asia/Shanghai; once per user per 3600 s` — empty when neither. */
export function describeConditions(rule: Pick<RuleInput, 'schedule' | 'cooldownSec'>): string {
  const parts: string[] = []
  if (rule.schedule !== undefined) {
    const windows = rule.schedule.windows.map((w) => `${w.from}–${w.to}${w.days === undefined ? '' : ` ${w.days.join(',')}`}`).join(', ')
    parts.push(`only ${windows}${rule.schedule.timezone === undefined ? '' : ` (${rule.schedule.timezone})`}`)
  }
  if (rule.cooldownSec !== undefined) parts.push(`once per user per ${rule.cooldownSec} s`)
  return parts.join('; ')
}

/** `  120  price  text contains "价格" → text "…"  [off]  (only 09:00–18:00)` */
export function describeRule(rule: Rule | (RuleInput & { id: string })): string {
  const conditions = describeConditions(rule)
  return [
    String(rule.priority ?? '').padStart(6),
    ` ${rule.id}`,
    rule.enabled === false ? ' [off]' : '',
    `  ${describeTrigger(rule.trigger)} → ${describeReply(rule.reply)}`,
    conditions === '' ? '' : `  (${conditions})`,
  ].join('')
}

function quote(text: string): string {
  return JSON.stringify(text)
}
