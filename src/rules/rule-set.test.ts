import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseMessage } from '../messages/parse.js'
import { sampleXml } from '../testing/samples.js'
import { RuleSet } from './rule-set.js'
import { normaliseKeyword } from './text.js'
import type { Rule, RuleTrigger } from './types.js'

let n = 0
function rule(trigger: RuleTrigger, priority: number, extra: Partial<Rule> = {}): Rule {
  const id = extra.id ?? `r${++n}`
  return { id, name: id, enabled: true, priority, trigger, reply: { type: 'text', content: id }, createdAt: 0, updatedAt: 0, ...extra }
}
const text = (content: string) => parseMessage(sampleXml('text', { Content: content }))
const ids = (set: RuleSet, message = text('')) => set.candidates(message).map((c) => c.compiled.rule.id)

describe('RuleSet matching', () => {
  test('exact keywords compare the whole message, after NFKC, lower case and trimming', () => {
    const set = new RuleSet([rule({ type: 'keyword', exact: ['Help?'] }, 1, { id: 'help' })])
    for (const hit of ['help?', '  HELP? ', 'ＨＥＬＰ？']) assert.deepEqual(ids(set, text(hit)), ['help'], hit)
    for (const miss of ['help', 'help? me', 'I need help?']) assert.deepEqual(ids(set, text(miss)), [], miss)
  })

  test('contains keywords match anywhere; candidates come best first, each rule once', () => {
    const set = new RuleSet([
      rule({ type: 'keyword', contains: ['价格', '多少钱'] }, 10, { id: 'price' }),
      rule({ type: 'keyword', contains: ['钱'] }, 20, { id: 'money' }),
      rule({ type: 'keyword', exact: ['价格多少钱'] }, 5, { id: 'exact' }),
    ])
    assert.deepEqual(ids(set, text('请问价格多少钱')), ['money', 'price'])
    assert.deepEqual(ids(set, text('价格多少钱')), ['money', 'price', 'exact'])
    assert.deepEqual(set.candidates(text('价格?')).map((c) => c.match), ['价格'])
  })

  test('regex rules run on the original text and report their match; disabled rules never match', () => {
    const set = new RuleSet([
      rule({ type: 'regex', pattern: '订单\\s*(\\d{6,20})' }, 3, { id: 'order' }),
      rule({ type: 'keyword', contains: ['订单'] }, 2, { id: 'off', enabled: false }),
    ])
    const [hit] = set.candidates(text('查询订单 1234567'))
    assert.equal(hit?.compiled.rule.id, 'order')
    assert.equal(hit?.match, '订单 1234567')
    assert.deepEqual(ids(set, text('订单')), [])
  })

  test('events: follow by scene or any, scan by scene, click by key; message types; defaults only for messages', () => {
    const set = new RuleSet([
      rule({ type: 'follow' }, 1, { id: 'follow-any' }),
      rule({ type: 'follow', scene: 'promo' }, 2, { id: 'follow-promo' }),
      rule({ type: 'scan', scene: 'promo' }, 3, { id: 'scan-promo' }),
      rule({ type: 'click', key: 'V1001' }, 4, { id: 'click' }),
      rule({ type: 'message', msgTypes: ['image', 'location'] }, 5, { id: 'media' }),
      rule({ type: 'default' }, 6, { id: 'default' }),
    ])
    const event = (kind: Parameters<typeof sampleXml>[0], fields: Record<string, string> = {}) => parseMessage(sampleXml(kind, fields))
    assert.deepEqual(ids(set, event('event:subscribe')), ['follow-any'])
    assert.deepEqual(ids(set, event('event:subscribe', { EventKey: 'qrscene_promo', Ticket: 't' })), ['follow-promo', 'follow-any'])
    assert.deepEqual(ids(set, event('event:subscribe', { EventKey: 'qrscene_other', Ticket: 't' })), ['follow-any'])
    assert.deepEqual(ids(set, event('event:SCAN', { EventKey: 'promo', Ticket: 't' })), ['scan-promo'])
    assert.deepEqual(ids(set, event('event:SCAN', { EventKey: 'qrscene_promo', Ticket: 't' })), [], 'SCAN keys carry no qrscene_ prefix')
    assert.deepEqual(ids(set, event('event:CLICK', { EventKey: 'V1001' })), ['click'])
    assert.deepEqual(ids(set, event('event:CLICK', { EventKey: 'v1001' })), [], 'menu keys are exact')
    assert.deepEqual(ids(set, event('image')), ['media'])
    assert.deepEqual(ids(set, event('voice')), [])
    assert.deepEqual(set.defaultCandidates(event('voice')).map((c) => c.compiled.rule.id), ['default'])
    assert.deepEqual(set.defaultCandidates(event('event:CLICK', { EventKey: 'x' })), [])
    assert.ok(set.hasDefaults)
  })

  test('property: the automaton finds exactly the rules a naive includes() would, over random keyword sets', () => {
    const alphabet = fc.constantFrom('a', 'b', '价', '格', 'Ａ', ' ', '?')
    const word = fc.array(alphabet, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''))
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), fc.array(alphabet, { maxLength: 30 }).map((cs) => cs.join('')), (keywords, message) => {
        const usable = keywords.filter((k) => normaliseKeyword(k) !== '')
        const rules = usable.map((k, i) => rule({ type: 'keyword', contains: [k] }, i + 1, { id: `k${i}` }))
        const set = new RuleSet(rules)
        const expected = rules
          .filter((r) => normaliseKeyword(message).includes(normaliseKeyword((r.trigger as { contains: string[] }).contains[0]!)))
          .sort((a, b) => b.priority - a.priority)
          .map((r) => r.id)
        assert.deepEqual(ids(set, text(message)), expected)
      }),
      { numRuns: 300 },
    )
  })

  test('5 000 keyword rules compile once and a message only meets the rules it contains', () => {
    const rules = Array.from({ length: 5000 }, (_, i) => rule({ type: 'keyword', contains: [`kw${i}x`] }, i + 1, { id: `k${i}` }))
    const set = new RuleSet(rules)
    assert.deepEqual(ids(set, text('hello kw4999x and kw12x')), ['k4999', 'k12'])
    assert.deepEqual(ids(set, text('nothing here')), [])
  })
})
