/**
 * The rules engine's cases for `npm run bench:micro` (replies without code, docs/rules.md):
 * matching one text message against 5 000 keyword rules (half exact, half contains), and the
 * whole in-process pipeline with those rules in front of the echo bot. Matching must cost the
 * same with 5 rules or 5 000: the automaton and the exact map look at the message once.
 */
import { Bot } from '../src/bot.js'
import { createLogger } from '../src/logger.js'
import { parseMessage } from '../src/messages/parse.js'
import { RuleSet } from '../src/rules/rule-set.js'
import { rules } from '../src/rules/middleware.js'
import type { Rule } from '../src/rules/types.js'
import { installEchoBot } from '../src/server/echo-bot.js'
import { sampleXml } from '../src/testing/samples.js'
import { ACCOUNT, type PooledRequest } from './requests.js'

export const RULE_COUNT = 5000

/** 5 000 keyword rules the way an account grows them: Chinese phrases and product codes. */
export function benchRules(count = RULE_COUNT): Rule[] {
  const syllables = '价格订单发货退款营业时间地址客服会员积分优惠活动新品预约门店电话快递保修发票'
  return Array.from({ length: count }, (_, i) => {
    const word = `${syllables[i % syllables.length]}${syllables[(i * 7) % syllables.length]}${i}`
    const exact = i % 2 === 0
    return {
      id: `bench-${i}`,
      name: `bench ${i}`,
      enabled: true,
      priority: i + 1,
      trigger: exact ? { type: 'keyword', exact: [word] } : { type: 'keyword', contains: [word] },
      reply: { type: 'text', content: `answer ${i}` },
      createdAt: 0,
      updatedAt: 0,
    }
  })
}

/** Messages as followers send them: most match nothing, some hit an exact or a contained keyword. */
const MESSAGES = ['你好，请问今天营业到几点？', '我的订单什么时候发货', 'hello', '价订2', `请问 ${'会积'}1001 还有吗`, '退款怎么申请啊，东西坏了，快递单号 1234567890', '？', '客服在吗在吗在吗']

interface Stage {
  name: string
  run: (i: number) => unknown
}

export function rulesStages(plain: Array<PooledRequest & { query: Record<string, string> }>): Stage[] {
  const set = new RuleSet(benchRules())
  const messages = MESSAGES.map((content) => parseMessage(sampleXml('text', { Content: content })))
  const bot = new Bot({ token: ACCOUNT.token, appId: ACCOUNT.appId, logger: createLogger({ level: 'silent' }) })
  bot.use(rules(set))
  installEchoBot(bot)
  return [
    { name: `rules: match a text message against ${RULE_COUNT} keyword rules (exact map + Aho–Corasick)`, run: (i) => set.candidates(messages[i % messages.length]!) },
    { name: `pipeline plaintext: bot.handle, ${RULE_COUNT} keyword rules in front of the echo bot (no HTTP)`, run: (i) => bot.handle({ method: 'POST', query: plain[i % plain.length]!.query, body: Buffer.from(plain[i % plain.length]!.body) }) },
  ]
}
