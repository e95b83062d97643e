/**
 * A compiled, immutable set of rules: indexes built once per version so matching a message
 * costs the same with 5 rules or 5 000.
 *
 * - exact keywords: one Map lookup of the normalised message;
 * - contains keywords: one pass of an Aho–Corasick automaton over the message
 *   (@monyone/aho-corasick, see docs/rules.md for why this one), whatever the number of keywords;
 * - clicks by key, follows and scans by scene: Map lookups and short lists;
 * - regular expressions: tested one by one (they cannot share an automaton); keep them few.
 *
 * Every lookup returns the candidate rules best first (highest priority). Which one answers is
 * decided by the caller, which also checks the time window and the per-user cooldown.
 */
import { AhoCorasick } from '@monyone/aho-corasick'
import type { WechatMessage } from '../messages/types.js'
import { compileRuleRegex } from './regex-guard.js'
import { CompiledSchedule } from './schedule.js'
import { MATCH_INPUT_LIMIT, normaliseKeyword, normaliseMessage } from './text.js'
import type { Rule } from './types.js'

/** A rule ready to run: its schedule and regex compiled once. */
export interface CompiledRule {
  readonly rule: Rule
  readonly schedule: CompiledSchedule | undefined
  readonly regex: RegExp | undefined
}

/** A rule that matched a message, and what matched (the keyword, or the regex's match). */
export interface Candidate {
  readonly compiled: CompiledRule
  readonly match: string | undefined
}

const byPriority = (a: CompiledRule, b: CompiledRule) => b.rule.priority - a.rule.priority

function push<K>(map: Map<K, CompiledRule[]>, key: K, rule: CompiledRule): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [rule])
  else if (!list.includes(rule)) list.push(rule)
}

export class RuleSet {
  /** Every rule, enabled or not, best first. */
  readonly rules: readonly Rule[]
  private readonly exact = new Map<string, CompiledRule[]>()
  private readonly containsRules = new Map<string, CompiledRule[]>()
  private readonly automaton: AhoCorasick | undefined
  private readonly regexes: CompiledRule[] = []
  private readonly follows: CompiledRule[] = []
  private readonly scans: CompiledRule[] = []
  private readonly clicks = new Map<string, CompiledRule[]>()
  private readonly byType = new Map<string, CompiledRule[]>()
  private readonly defaults: CompiledRule[] = []

  /** `rules` must be valid (checked by validate.ts); `version` says which stored state this is. */
  constructor(
    rules: readonly Rule[],
    readonly version = 0,
  ) {
    this.rules = [...rules].sort((a, b) => b.priority - a.priority)
    for (const rule of this.rules) {
      if (!rule.enabled) continue
      const trigger = rule.trigger
      const compiled: CompiledRule = {
        rule,
        schedule: rule.schedule === undefined ? undefined : new CompiledSchedule(rule.schedule),
        regex: trigger.type === 'regex' ? compileRuleRegex(trigger.pattern, trigger.flags) : undefined,
      }
      switch (trigger.type) {
        case 'keyword':
          for (const k of trigger.exact ?? []) push(this.exact, normaliseKeyword(k), compiled)
          for (const k of trigger.contains ?? []) push(this.containsRules, normaliseKeyword(k), compiled)
          break
        case 'regex':
          this.regexes.push(compiled)
          break
        case 'follow':
          this.follows.push(compiled)
          break
        case 'scan':
          this.scans.push(compiled)
          break
        case 'click':
          push(this.clicks, trigger.key, compiled)
          break
        case 'message':
          for (const t of trigger.msgTypes) push(this.byType, t, compiled)
          break
        case 'default':
          this.defaults.push(compiled)
          break
      }
    }
    // rules were added best first, so every list is already in priority order
    this.automaton = this.containsRules.size === 0 ? undefined : new AhoCorasick([...this.containsRules.keys()])
  }

  /** True when some enabled rule is a default (the middleware then waits for the code handlers). */
  get hasDefaults(): boolean {
    return this.defaults.length > 0
  }

  get size(): number {
    return this.rules.length
  }

  /** The rules (other than defaults) whose trigger matches, best first. */
  candidates(message: WechatMessage): Candidate[] {
    if (message.MsgType === 'event') return this.eventCandidates(message)
    const typed = this.byType.get(message.MsgType)
    if (message.MsgType !== 'text') return typed === undefined ? [] : typed.map((compiled) => ({ compiled, match: undefined }))
    if (this.exact.size === 0 && this.automaton === undefined && this.regexes.length === 0 && typed === undefined) return []
    const content = (message as { Content?: unknown }).Content
    if (typeof content !== 'string') return []
    const found: Candidate[] = []
    const text = normaliseMessage(content)
    for (const compiled of this.exact.get(text) ?? []) found.push({ compiled, match: text })
    if (this.automaton !== undefined) {
      const seen = new Set<string>()
      for (const hit of this.automaton.matchInText(text)) {
        if (seen.has(hit.keyword)) continue
        seen.add(hit.keyword)
        for (const compiled of this.containsRules.get(hit.keyword)!) found.push({ compiled, match: hit.keyword })
      }
    }
    if (this.regexes.length > 0) {
      const bounded = content.length > MATCH_INPUT_LIMIT ? content.slice(0, MATCH_INPUT_LIMIT) : content
      for (const compiled of this.regexes) {
        const m = compiled.regex!.exec(bounded)
        if (m !== null) found.push({ compiled, match: m[0] })
      }
    }
    if (typed !== undefined) for (const compiled of typed) found.push({ compiled, match: undefined })
    return found.length < 2 ? found : dedupe(found)
  }

  /** The default rules for an ordinary message (none for events), best first. */
  defaultCandidates(message: WechatMessage): Candidate[] {
    if (message.MsgType === 'event' || this.defaults.length === 0) return []
    return this.defaults.map((compiled) => ({ compiled, match: undefined }))
  }

  private eventCandidates(message: WechatMessage): Candidate[] {
    const { Event: event, EventKey: key } = message as { Event?: string; EventKey?: unknown }
    const eventKey = typeof key === 'string' ? key : undefined
    if (event === 'subscribe') {
      const scene = eventKey?.startsWith('qrscene_') ? eventKey.slice('qrscene_'.length) : undefined
      return sceneMatches(this.follows, scene)
    }
    if (event === 'SCAN') return sceneMatches(this.scans, eventKey)
    if (event === 'CLICK' && eventKey !== undefined) return (this.clicks.get(eventKey) ?? []).map((compiled) => ({ compiled, match: eventKey }))
    return []
  }
}

function sceneMatches(rules: CompiledRule[], scene: string | undefined): Candidate[] {
  const found: Candidate[] = []
  for (const compiled of rules) {
    const wanted = (compiled.rule.trigger as { scene?: string }).scene
    if (wanted === undefined || wanted === scene) found.push({ compiled, match: scene })
  }
  return found
}

/** Best first, each rule once (a rule may match by several keywords). */
function dedupe(found: Candidate[]): Candidate[] {
  found.sort((a, b) => byPriority(a.compiled, b.compiled))
  const out: Candidate[] = [found[0]!]
  for (let i = 1; i < found.length; i++) if (found[i]!.compiled !== found[i - 1]!.compiled) out.push(found[i]!)
  return out
}
