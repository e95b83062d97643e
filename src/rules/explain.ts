/**
 * "Which rule answers this, and with what?" without WeChat: `wxmp rules test`, the operator
 * console and tests. The same RuleSet and the same order as the middleware; only the per-user
 * cooldown is not consulted (it is reported), since no real user is involved.
 */
import type { WechatMessage } from '../messages/types.js'
import { sampleXml } from '../testing/samples.js'
import { parseMessage } from '../messages/parse.js'
import type { Reply } from '../reply/types.js'
import { toReply } from './render.js'
import type { Candidate, RuleSet } from './rule-set.js'
import type { Rule, RuleMessageType } from './types.js'

/** A message to test: text, or an event or message type a person can name. */
export type RuleTestInput =
  | { text: string }
  | { follow: true; scene?: string }
  | { scan: string }
  | { click: string }
  | { msgType: Exclude<RuleMessageType, 'text'> }
  | { message: WechatMessage }

export interface RuleTestResult {
  /** The message as the rules saw it. */
  message: WechatMessage
  /** The rule that answers (a default rule answers only if the code handlers do not). */
  rule?: Rule
  /** `rule`: answered before the code handlers (rules-first); `default`: only when nothing else answers; `pass`: handed to the code. */
  outcome: 'rule' | 'default' | 'pass' | 'none'
  /** What was matched (keyword, regex match, key, scene). */
  match?: string
  /** `one`: this reply; `random`: one of these; `all`: these, the first passive and the rest through customer service. */
  mode?: 'one' | 'random' | 'all'
  replies: Reply[]
  /** Rules that matched but did not answer, and why. */
  skipped: Array<{ rule: Rule; why: string }>
  /** Set when the answering rule has a cooldown: it answers each user at most once in this many seconds. */
  cooldownSec?: number
}

const TEST_OPENID = 'oRulesTest000000000000000000'

/** The message for a test input (the same XML shapes the simulator sends). */
export function testMessage(input: RuleTestInput, now: number): WechatMessage {
  const options = { openid: TEST_OPENID, createTime: Math.floor(now / 1000) }
  if ('message' in input) return input.message
  if ('text' in input) return parseMessage(sampleXml('text', { Content: input.text }, options))
  if ('follow' in input) return parseMessage(sampleXml('event:subscribe', input.scene === undefined ? {} : { EventKey: `qrscene_${input.scene}`, Ticket: 'TICKET' }, options))
  if ('scan' in input) return parseMessage(sampleXml('event:SCAN', { EventKey: input.scan, Ticket: 'TICKET' }, options))
  if ('click' in input) return parseMessage(sampleXml('event:CLICK', { EventKey: input.click }, options))
  return parseMessage(sampleXml(input.msgType, {}, options))
}

/** Which rule would answer `message` at `now`, and its reply with the placeholders filled in. */
export function explain(set: RuleSet, message: WechatMessage, now: number): RuleTestResult {
  const skipped: RuleTestResult['skipped'] = []
  const pick = (candidates: Candidate[]) => {
    for (const c of candidates) {
      if (c.compiled.schedule !== undefined && !c.compiled.schedule.isOpen(now)) {
        skipped.push({ rule: c.compiled.rule, why: 'outside its time window' })
        continue
      }
      return c
    }
    return undefined
  }
  const answer = pick(set.candidates(message)) ?? undefined
  const fallback = answer === undefined || answer.compiled.rule.reply.type === 'pass' ? pick(set.defaultCandidates(message)) : undefined
  const chosen = answer !== undefined && answer.compiled.rule.reply.type !== 'pass' ? answer : fallback
  if (chosen === undefined) {
    return { message, outcome: answer === undefined ? 'none' : 'pass', ...(answer === undefined ? {} : { rule: answer.compiled.rule }), replies: [], skipped }
  }
  const rule = chosen.compiled.rule
  const values = {
    text: (message as { Content?: string }).Content,
    scene: sceneOf(message),
    key: (message as { EventKey?: string }).EventKey,
    openid: message.FromUserName,
    match: chosen.match,
  }
  const reply = rule.reply
  const mode = reply.type === 'random' ? 'random' : reply.type === 'all' ? 'all' : 'one'
  const replies = reply.type === 'random' || reply.type === 'all' ? reply.replies.map((r) => toReply(r, values)) : reply.type === 'pass' ? [] : [toReply(reply, values)]
  return {
    message,
    rule,
    outcome: chosen === fallback ? 'default' : 'rule',
    ...(chosen.match === undefined ? {} : { match: chosen.match }),
    mode,
    replies,
    skipped,
    ...(rule.cooldownSec === undefined ? {} : { cooldownSec: rule.cooldownSec }),
  }
}

function sceneOf(message: WechatMessage): string | undefined {
  if (message.MsgType !== 'event') return undefined
  const { Event: event, EventKey: key } = message as { Event?: string; EventKey?: string }
  if (key === undefined) return undefined
  if (event === 'subscribe') return key.startsWith('qrscene_') ? key.slice(8) : undefined
  return event === 'SCAN' ? key : undefined
}
