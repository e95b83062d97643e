import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import type { Logger } from '../logger.js'
import type { Reply } from '../reply/types.js'
import { MemoryStore } from '../storage/memory.js'
import type { KeyValueStore } from '../storage/types.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { sampleXml, type SampleKind } from '../testing/samples.js'
import { compileRules } from './compile.js'
import { rules, type RulesOptions } from './middleware.js'
import type { RuleInput, RulesOrder } from './types.js'

const token = 'rulestoken'
type Line = { level: string; obj: Record<string, unknown>; msg?: string }

function logger(lines: Line[]): Logger {
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: () => undefined,
    info: (obj, msg) => void lines.push({ level: 'info', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    error: (obj, msg) => void lines.push({ level: 'error', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    child: (more) => make({ ...bindings, ...more }),
  })
  return make({})
}

let users = 0
/** A bot with the rules, then a code handler that answers text starting with "code" (and records what it saw). */
async function botWith(list: RuleInput[], order: RulesOrder, options: RulesOptions & { sharedStore?: KeyValueStore } = {}) {
  const lines: Line[] = []
  const seen: string[] = []
  const sent: Reply[] = []
  const bot = new Bot({ token, logger: logger(lines), ...(options.sharedStore === undefined ? {} : { sharedStore: options.sharedStore }) })
  bot.setApiFactory(() => ({ customerService: { sendReply: async (_openid: string, r: Reply) => void sent.push(r) } }))
  bot.use(rules(await compileRules(list), { order, ...options }))
  bot.on('text', (ctx) => {
    seen.push(ctx.message.Content)
    if (ctx.message.Content.startsWith('code')) return ctx.reply(`code: ${ctx.message.Content}`)
    return undefined
  })
  const send = async (kind: SampleKind, fields: Record<string, string> = {}, openid = `oRules${++users}`) => {
    const res = await bot.handle(signedRequest({ token, xml: sampleXml(kind, fields, { openid }) }))
    const reply = readReply(res, { token }).reply
    return reply === undefined ? 'success' : String(reply.Content ?? reply.MsgType)
  }
  return { bot, send, seen, sent, lines }
}

const text = (content: string): Pick<RuleInput, 'reply'> => ({ reply: { type: 'text', content } })

describe('rules-first', () => {
  test('a matching rule answers and the code never sees the message; no match or "pass" goes on to the code', async () => {
    const { send, seen } = await botWith(
      [
        { trigger: { type: 'keyword', exact: ['营业时间'] }, ...text('9:00–18:00') },
        { trigger: { type: 'keyword', contains: ['code please'] }, reply: { type: 'pass' } },
      ],
      'rules-first',
    )
    assert.equal(await send('text', { Content: '营业时间' }), '9:00–18:00')
    assert.equal(await send('text', { Content: 'code one' }), 'code: code one')
    assert.equal(await send('text', { Content: 'code please' }), 'code: code please', 'pass hands on to the code')
    assert.deepEqual(seen, ['code one', 'code please'])
  })

  test('the default rule answers only what neither the rules nor the code answered (messages, not events)', async () => {
    const { send } = await botWith([{ trigger: { type: 'default' }, ...text('收到，稍后回复') }], 'rules-first')
    assert.equal(await send('text', { Content: 'code x' }), 'code: code x')
    assert.equal(await send('text', { Content: 'anything' }), '收到，稍后回复')
    assert.equal(await send('image'), '收到，稍后回复')
    assert.equal(await send('event:CLICK', { EventKey: 'K' }), 'success')
  })

  test('priority: the highest matching rule answers; a rule outside its time window gives way to the next', async () => {
    let now = Date.parse('2026-03-02T10:00:00+08:00') // a Monday, 10:00 in Shanghai
    const { send } = await botWith(
      [
        { priority: 30, trigger: { type: 'keyword', contains: ['客服'] }, ...text('人工客服在线'), schedule: { windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }] } },
        { priority: 20, trigger: { type: 'keyword', contains: ['客服'] }, ...text('客服下班了，明天 9 点见') },
        { priority: 10, trigger: { type: 'keyword', contains: ['服'] }, ...text('lower') },
      ],
      'rules-first',
      { now: () => now },
    )
    assert.equal(await send('text', { Content: '我要客服' }), '人工客服在线')
    now = Date.parse('2026-03-02T19:30:00+08:00')
    assert.equal(await send('text', { Content: '我要客服' }), '客服下班了，明天 9 点见')
    now = Date.parse('2026-03-07T10:00:00+08:00') // Saturday
    assert.equal(await send('text', { Content: '我要客服' }), '客服下班了，明天 9 点见')
  })

  test('placeholders are filled in; random picks with the injected randomness; follow by scene', async () => {
    const { send } = await botWith(
      [
        { trigger: { type: 'regex', pattern: '^查询\\s*(\\d+)$' }, ...text('你查询的是 {match}（原文 {text}）') },
        { trigger: { type: 'follow', scene: 'promo' }, ...text('欢迎，来自 {scene}') },
        { trigger: { type: 'follow' }, ...text('欢迎关注') },
        { trigger: { type: 'click', key: 'LUCK' }, reply: { type: 'random', replies: [{ type: 'text', content: 'A' }, { type: 'text', content: 'B' }] } },
      ],
      'rules-first',
      { random: () => 0.75 },
    )
    assert.equal(await send('text', { Content: '查询 42' }), '你查询的是 查询 42（原文 查询 42）')
    assert.equal(await send('event:subscribe', { EventKey: 'qrscene_promo', Ticket: 't' }), '欢迎，来自 promo')
    assert.equal(await send('event:subscribe'), '欢迎关注')
    assert.equal(await send('event:CLICK', { EventKey: 'LUCK' }), 'B')
  })

  test('"all": the first reply passive, the rest through customer service in order', async () => {
    const { bot, send, sent } = await botWith([{ trigger: { type: 'keyword', exact: ['全部'] }, reply: { type: 'all', replies: [{ type: 'text', content: '1' }, { type: 'text', content: '2' }, { type: 'image', mediaId: 'MEDIA3' }] } }], 'rules-first')
    assert.equal(await send('text', { Content: '全部' }), '1')
    assert.ok(await bot.drain(2000))
    assert.deepEqual(sent, [{ type: 'text', content: '2' }, { type: 'image', mediaId: 'MEDIA3' }])
  })

  test('a cooldown answers a user once within it; then the next rule (or the code) answers', async () => {
    const { send } = await botWith(
      [{ trigger: { type: 'default' }, ...text('我们已收到，1 小时内不再重复提示'), cooldownSec: 3600 }],
      'rules-first',
      { sharedStore: new MemoryStore() },
    )
    assert.equal(await send('text', { Content: 'hi' }, 'oSame'), '我们已收到，1 小时内不再重复提示')
    assert.equal(await send('text', { Content: 'hi again' }, 'oSame'), 'success')
    assert.equal(await send('text', { Content: 'hi' }, 'oOther'), '我们已收到，1 小时内不再重复提示')
  })

  test('a rule that fails at run time is logged with its id and the code handlers still get the message', async () => {
    const broken: KeyValueStore = Object.assign(new MemoryStore(), { add: async () => Promise.reject(new Error('store down')) })
    const { send, seen, lines } = await botWith([{ id: 'greeting', trigger: { type: 'keyword', contains: ['code'] }, ...text('from the rule'), cooldownSec: 60 }], 'rules-first', { sharedStore: broken })
    assert.equal(await send('text', { Content: 'code run' }), 'code: code run')
    assert.deepEqual(seen, ['code run'])
    const line = lines.find((l) => l.obj.code === 'WX_ERR_RULE')
    assert.equal(line?.obj.ruleId, 'greeting')
    assert.equal(line?.obj.err, 'store down')
  })
})

describe('code-first', () => {
  test('the code answers first; the rules (then the default) answer only what it left', async () => {
    const { send, seen } = await botWith(
      [
        { trigger: { type: 'keyword', contains: ['code', '价格'] }, ...text('rule answer') },
        { trigger: { type: 'default' }, ...text('default answer') },
        { trigger: { type: 'keyword', exact: ['交给代码'] }, reply: { type: 'pass' } },
      ],
      'code-first',
    )
    assert.equal(await send('text', { Content: 'code wins' }), 'code: code wins')
    assert.equal(await send('text', { Content: '价格' }), 'rule answer')
    assert.equal(await send('text', { Content: '随便' }), 'default answer')
    assert.equal(await send('text', { Content: '交给代码' }), 'default answer', 'pass in code-first: the code already ran, the default answers')
    assert.deepEqual(seen, ['code wins', '价格', '随便', '交给代码'])
  })
})

test('the middleware keeps the synchronous path: a rule answer needs no deadline timer', async () => {
  const { bot } = await botWith([{ trigger: { type: 'keyword', exact: ['x'] }, ...text('y') }], 'rules-first')
  const outcomes: string[] = []
  bot.onOutcome((o) => outcomes.push(o.kind))
  const res = await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: 'x' }) }))
  assert.equal(readReply(res, { token }).reply?.Content, 'y')
  assert.deepEqual(outcomes, ['replied'])
})
