import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { checkRules, RuleValidationError, type RuleProblem } from './validate.js'

let counter = 0
const options = { newId: () => `gen-${++counter}` }
const ok = { trigger: { type: 'keyword', exact: ['hi'] }, reply: { type: 'text', content: 'hello' } }

async function problems(inputs: unknown[]): Promise<RuleProblem[]> {
  try {
    await checkRules(inputs, options)
  } catch (err) {
    assert.ok(err instanceof RuleValidationError, String(err))
    assert.ok(isWxmpError(err, 'WX_ERR_RULE_INVALID'))
    return err.problems
  }
  assert.fail('expected the rules to be refused')
}

/** Asserts one problem on `field` whose message matches. */
async function refused(input: Record<string, unknown>, field: string, message: RegExp) {
  const found = await problems([input])
  assert.ok(
    found.some((p) => p.field === field && message.test(p.message)),
    `expected ${field} ~ ${message}; got ${JSON.stringify(found)}`,
  )
}

describe('rule validation names the rule and the field', () => {
  test('a valid rule gets an id, a name and enabled', async () => {
    const [rule] = await checkRules([ok], options)
    assert.match(rule!.id, /^gen-\d+$/)
    assert.equal(rule!.name, rule!.id)
    assert.equal(rule!.enabled, true)
  })

  test('unknown trigger and reply types list the known ones; unknown fields are refused, not ignored', async () => {
    await refused({ ...ok, trigger: { type: 'keywords', exact: ['a'] } }, 'trigger.type', /unknown trigger type "keywords": use keyword, regex, follow, scan, click, message, default/)
    await refused({ ...ok, reply: { type: 'gif', mediaId: 'x' } }, 'reply.type', /unknown reply type "gif"/)
    await refused({ ...ok, trigger: { type: 'keyword', exact: ['a'], exactt: ['b'] } }, 'trigger', /unknown field "exactt"/)
    await refused({ ...ok, prority: 3 }, '', /unknown field "prority"/)
    await refused({ reply: ok.reply }, 'trigger', /is required/)
  })

  test('empty keywords, a keyword trigger without keywords, unknown message types', async () => {
    await refused({ ...ok, trigger: { type: 'keyword', contains: ['价格', '  '] } }, 'trigger.contains[1]', /must not be empty/)
    await refused({ ...ok, trigger: { type: 'keyword' } }, 'trigger', /at least one keyword/)
    await refused({ ...ok, trigger: { type: 'message', msgTypes: ['image', 'gif'] } }, 'trigger.msgTypes[1]', /unknown message type "gif"/)
  })

  test('invalid and unsafe regular expressions', async () => {
    await refused({ ...ok, trigger: { type: 'regex', pattern: '(' } }, 'trigger.pattern', /not a valid regular expression/)
    await refused({ ...ok, trigger: { type: 'regex', pattern: '(a+)+$' } }, 'trigger.pattern', /catastrophically.*exponential/)
    await refused({ ...ok, trigger: { type: 'regex', pattern: '^(a|aa)+$' } }, 'trigger.pattern', /exponential backtracking/)
    await refused({ ...ok, trigger: { type: 'regex', pattern: '(a)\\1' } }, 'trigger.pattern', /backreference/)
    await refused({ ...ok, trigger: { type: 'regex', pattern: 'a', flags: 'gg' } }, 'trigger.flags', /use any of i, m, s, u/)
    const [safe] = await checkRules([{ ...ok, trigger: { type: 'regex', pattern: '^订单\\s*(\\d{6,20})$' } }], options)
    assert.equal(safe?.trigger.type, 'regex')
  })

  test('replies over WeChat limits: long text, several articles to a message, too many replies for an event', async () => {
    await refused({ ...ok, reply: { type: 'text', content: '字'.repeat(700) } }, 'reply.content', /2100 bytes.*over 2048/)
    await refused({ ...ok, reply: { type: 'text', content: ' ' } }, 'reply.content', /must not be empty/)
    const article = { title: 't', url: 'https://example.com/a' }
    await refused({ ...ok, reply: { type: 'news', articles: [article, article] } }, 'reply.articles', /WeChat allows 1 in a reply to a message/)
    const [click] = await checkRules([{ trigger: { type: 'click', key: 'K' }, reply: { type: 'news', articles: [article, article] } }], options)
    assert.equal(click?.reply.type, 'news', 'a click may get up to 8 articles')
    await refused({ ...ok, reply: { type: 'news', articles: [{ title: 't', url: 'javascript:alert(1)' }] } }, 'reply.articles[0].url', /http\(s\) URL/)
    const texts = Array.from({ length: 5 }, (_, i) => ({ type: 'text', content: String(i) }))
    await refused({ trigger: { type: 'follow' }, reply: { type: 'all', replies: texts } }, 'reply.replies', /3 customer-service messages/)
    await refused({ ...ok, reply: { type: 'random', replies: [...texts, ...texts] } }, 'reply.replies', /at most 5 replies/)
    await refused({ ...ok, reply: { type: 'random', replies: [{ type: 'pass' }] } }, 'reply.replies[0].type', /inside random\/all/)
    await refused({ ...ok, reply: { type: 'image', mediaId: 'has space' } }, 'reply.mediaId', /media_id/)
    await refused({ trigger: { type: 'default' }, reply: { type: 'pass' } }, 'reply', /must answer something/)
  })

  test('placeholders: known ones pass, unknown ones and lone braces are refused', async () => {
    const [good] = await checkRules([{ ...ok, reply: { type: 'text', content: '你说了 {text}，场景 {scene} {{literal}}' } }], options)
    assert.ok(good)
    await refused({ ...ok, reply: { type: 'text', content: '你好 {nickname}' } }, 'reply.content', /unknown placeholder \{nickname\}/)
    await refused({ ...ok, reply: { type: 'text', content: 'a } b' } }, 'reply.content', /lone "}"/)
  })

  test('schedules: time format, empty windows, unknown zones and days', async () => {
    const at = (schedule: unknown) => ({ ...ok, schedule })
    await refused(at({ windows: [{ from: '9:00', to: '18:00' }] }), 'schedule.windows[0].from', /HH:MM/)
    await refused(at({ windows: [{ from: '09:00', to: '09:00' }] }), 'schedule.windows[0]', /same time/)
    await refused(at({ timezone: 'Mars/Olympus', windows: [{ from: '09:00', to: '18:00' }] }), 'schedule.timezone', /unknown time zone/)
    await refused(at({ windows: [{ days: ['monday'], from: '09:00', to: '18:00' }] }), 'schedule.windows[0].days[0]', /unknown day "monday"/)
    await refused(at({ windows: [] }), 'schedule.windows', /at least one window/)
  })

  test('a list: every problem at once, duplicate ids and priorities named with both rules', async () => {
    const found = await problems([
      { ...ok, id: 'a', priority: 10 },
      { ...ok, id: 'b', priority: 10 },
      { ...ok, id: 'a', priority: 20 },
      { ...ok, trigger: { type: 'keyword', exact: [''] } },
    ])
    assert.deepEqual(
      found.map((p) => `${p.rule} ${p.field}`),
      ['#4 trigger.exact[0]', '"b" priority', '"a" id'],
    )
    assert.match(found[1]!.message, /also the priority of rule "a"/)
  })

  test('bad ids, names and numbers', async () => {
    await refused({ ...ok, id: 'has space' }, 'id', /letters, digits/)
    await refused({ ...ok, priority: 1.5 }, 'priority', /whole number/)
    await refused({ ...ok, priority: '5' }, 'priority', /must be a number, got string/)
    await refused({ ...ok, cooldownSec: 0 }, 'cooldownSec', /at least 1/)
    await refused({ ...ok, name: 'x'.repeat(61) }, 'name', /1–60 characters/)
  })
})
