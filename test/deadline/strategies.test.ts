/**
 * Late answers on accounts without customer service, through the bot core in process: the
 * retry window, pending answers, the keyword, deliver-and-handle, `next-message`, expiry,
 * paging, `auto` learning the permission, a reply after the handlers returned, and the store
 * failing. WeChat's deliveries are played on a virtual clock (their arrival times decide which
 * delivery is the last); handlers wait on gates the test opens, so nothing depends on speed.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot, type RequestOutcome } from '../../src/bot.js'
import type { BotOptions } from '../../src/bot-options.js'
import { lateOptions } from '../../src/pipeline/late-options.js'
import { readReply, signedRequest } from '../../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { MemoryStore } from '../../src/storage/memory.js'
import type { KeyValueStore } from '../../src/storage/types.js'
import { FakeSender, MemoryRecorder, gate, memoryLogger, wechatError } from './support.js'

const token = 'strategytoken'
let accounts = 0
const T0 = 1_800_000_000_000

/** A bot on a virtual clock; `deliver(xml, at)` plays one of WeChat's deliveries arriving at `at` ms. */
function windowBot(options: Partial<BotOptions> = {}, api?: FakeSender) {
  let clock = T0
  const logger = memoryLogger()
  const records = new MemoryRecorder()
  const appId = `wxstrategy${String(++accounts).padStart(8, '0')}`
  const bot = new Bot({ token, appId, logger, records, replyTimeoutMs: 30, timestampToleranceSec: 0, typingAfterMs: false, now: () => clock, ...options })
  if (api !== undefined) bot.setApiFactory(() => api)
  const outcomes: RequestOutcome[] = []
  bot.onOutcome((o) => outcomes.push(o))
  /** A delivery at `at` ms after T0. Held (lapsed) deliveries are released at once: the clock jumps past their hold right after they start. */
  const deliver = async (request: ReturnType<typeof signedRequest>, at: number) => {
    clock = T0 + at
    const answer = bot.handle(request)
    clock = T0 + at + 60_000
    const response = await answer
    clock = T0 + at
    return response
  }
  const text = (body: string) => (body === 'success' ? 'success' : String((readReply({ status: 200, body }, { token }).reply as { Content?: string }).Content))
  const setClock = (at: number) => (clock = T0 + at)
  return { bot, logger, records, outcomes, deliver, text, setClock, appId }
}

const message = (content: string, openid = 'oStrategyUser01', msgId = nextMsgId()) => signedRequest({ token, xml: sampleXml('text', { Content: content }, { openid, msgId }) })

describe('the retry window (an account without customer service)', () => {
  test('a reply ready during the second delivery is its passive answer: the first delivery lapsed, the handler ran once', async () => {
    const { bot, deliver, text, records, outcomes } = windowBot()
    const slow = gate()
    let runs = 0
    bot.on('text', async (ctx) => {
      runs++
      await slow.promise
      await ctx.reply('the answer')
    })
    const request = message('slow question')
    assert.equal(await deliver(request, 0).then((r) => r.body), 'success') // left unanswered, closed after WeChat gave up
    const second = deliver(request, 5000)
    setTimeout(() => slow.open(), 10)
    assert.equal(text((await second).body), 'the answer')
    assert.equal(runs, 1)
    assert.deepEqual(outcomes.map((o) => o.kind), ['lapsed', 'duplicate'])
    assert.ok(await bot.drain(2000))
    assert.equal(records.rows.length, 1)
    assert.equal(records.rows[0]?.deliveries, 2, 'the retry counted a delivery on the row')
    assert.equal(records.rows[0]?.outcome?.replyVia, 'passive')
  })

  test('past the third delivery: the pending notice, then the next message (any) gets the answer and is not handled further', async () => {
    const { bot, deliver, text, records, logger } = windowBot()
    const slow = gate()
    const handled: string[] = []
    bot.on('text', async (ctx) => {
      handled.push(ctx.text ?? '')
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    const request = message('slow')
    await deliver(request, 0)
    await deliver(request, 5000)
    assert.equal(text((await deliver(request, 10_000)).body), '内容较长，回复任意文字获取结果')
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(records.rows[0]?.outcome?.replyVia, 'next-message')
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'pending')
    assert.equal(records.rows[0]?.deliveries, 3)
    assert.equal(text((await deliver(message('hello'), 30_000)).body), 'answer to slow')
    assert.deepEqual(handled, ['slow'], 'the fetching message skipped the handlers')
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'sent', 'the origin row says the answer was delivered')
    assert.equal(text((await deliver(message('hello again'), 31_000)).body), 'answer to hello again', 'nothing pending any more')
    assert.ok(!logger.lines.some((l) => l.level === 'warn' && /deadline/.test(l.msg)), 'the retry window is the plan, not a warning')
  })

  test('a handler that throws after the first delivery: later deliveries get "success", the error is logged', async () => {
    const { bot, deliver, logger } = windowBot()
    const slow = gate()
    bot.on('text', async () => {
      await slow.promise
      throw new Error('model down')
    })
    const request = message('boom')
    await deliver(request, 0)
    const second = deliver(request, 5000)
    slow.open()
    assert.equal((await second).body, 'success')
    assert.ok(logger.lines.some((l) => l.obj.code === 'WX_ERR_HANDLER'))
    assert.equal((await deliver(request, 10_000)).body, 'success')
  })

  test('a second late reply is refused (WX_ERR_REPLY_TWICE), the first is the answer', async () => {
    const { bot, deliver, text, logger } = windowBot()
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('first')
      await ctx.reply('second')
    })
    const request = message('twice')
    await deliver(request, 0)
    const second = deliver(request, 5000)
    slow.open()
    assert.equal(text((await second).body), 'first')
    assert.ok(await bot.drain(2000))
    assert.ok(logger.lines.some((l) => /WX_ERR_REPLY_TWICE|already given/.test(String(l.obj.err))))
  })
})

describe('pending answers', () => {
  test("with a keyword, only the keyword fetches the answer; other messages are handled as usual", async () => {
    const { bot, deliver, text } = windowBot({ late: 'next-message', pendingAnswers: { keyword: '继续' } })
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    assert.equal(text((await deliver(message('slow'), 0)).body), '内容较长，回复"继续"获取结果')
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('other'), 20_000)).body), 'answer to other')
    assert.equal(text((await deliver(message('继续'), 21_000)).body), 'answer to slow')
  })

  test("then: 'handle': the pending answer is the passive reply and the message is handled too; its reply waits in turn", async () => {
    const { bot, deliver, text } = windowBot({ late: 'next-message', pendingAnswers: { then: 'handle' } })
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    await deliver(message('slow'), 0)
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('second'), 20_000)).body), 'answer to slow')
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('third'), 21_000)).body), 'answer to second')
  })

  test('a pending answer expires: the next message after its lifetime is handled normally and the origin row says expired', async () => {
    const { bot, deliver, text, records, setClock } = windowBot({ late: 'next-message', pendingAnswers: { ttlMs: 60_000 } })
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    await deliver(message('slow'), 0)
    setClock(1000)
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('much later'), 3_600_000)).body), 'answer to much later')
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'expired')
  })

  test('asking while the answer is still being prepared: the busy notice, and the answer on a later message', async () => {
    const { bot, deliver, text } = windowBot({ late: 'next-message' })
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    await deliver(message('slow'), 0)
    assert.equal(text((await deliver(message('继续'), 6000)).body), '仍在处理中，请稍后回复任意文字获取结果')
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('继续'), 9000)).body), 'answer to slow')
  })

  test('an English bot says it in English', async () => {
    const { bot, deliver, text } = windowBot({ late: 'next-message', language: 'en' })
    bot.on('text', () => new Promise(() => {}))
    assert.equal(text((await deliver(message('slow'), 0)).body), 'The answer is taking a while: send any message to get it.')
  })

  test('a route pendingNotice is used on the last delivery, even when it is answered by a retry', async () => {
    const { bot, deliver, text } = windowBot()
    bot.on('text', lateOptions({ pendingNotice: '稍后回复"1"查看结果' }), () => new Promise(() => {}))
    const request = message('slow')
    await deliver(request, 0)
    await deliver(request, 5000)
    assert.equal(text((await deliver(request, 10_000)).body), '稍后回复"1"查看结果')
  })
})

describe('long replies', () => {
  const long = Array.from({ length: 5 }, (_, i) => `第${i + 1}段：` + '这是很长的回答，带表情😀。'.repeat(60)).join('\n\n')

  test('in pages: the first with a footer, the rest one per following message, complete and in order', async () => {
    const { bot, deliver, text } = windowBot()
    bot.hears('long', (ctx) => ctx.reply(long))
    bot.on('text', (ctx) => ctx.reply('handled'))
    const pages = [text((await deliver(message('long'), 0)).body)]
    assert.match(pages[0]!, /（回复"继续"查看剩余 \d+ 页）$/)
    assert.ok(await bot.drain(2000))
    for (let i = 1; i < 20 && /剩余/.test(pages.at(-1)!); i++) pages.push(text((await deliver(message('继续'), i * 1000)).body))
    const joined = pages.map((p) => p.replace(/\n（回复"继续"查看剩余 \d+ 页）$/, '')).join('')
    assert.equal(joined, long)
    assert.equal(text((await deliver(message('next'), 60_000)).body), 'handled')
  })

  test('with customer service: the first page passively, the rest as consecutive customer-service messages, beyond the quota as pending answers', async () => {
    const sender = new FakeSender()
    const { bot, deliver, text } = windowBot({ accountKind: 'service-verified' }, sender)
    bot.hears('long', (ctx) => ctx.reply(long))
    bot.hears('short', (ctx) => ctx.reply(long.slice(0, 3000)))
    const first = text((await deliver(message('short'), 0)).body)
    assert.ok(!/剩余/.test(first), 'no footer: the rest follows by itself')
    assert.ok(await bot.drain(2000))
    assert.equal(first + sender.sends().map((r) => (r as { content: string }).content).join(''), long.slice(0, 3000))
    // 7 pages: 1 passive, 5 customer-service messages (a user message allows 5), 1 for the next message
    sender.calls.length = 0
    const page1 = text((await deliver(message('long'), 1000)).body)
    assert.ok(await bot.drain(2000))
    const sent = sender.sends().map((r) => (r as { content: string }).content)
    assert.equal(sent.length, 5)
    assert.match(sent[4]!, /\n（回复"继续"查看剩余 1 页）$/, 'the last customer-service page says one more waits')
    const last = text((await deliver(message('继续'), 2000)).body)
    const strip = (p: string) => p.replace(/\n（回复"继续"查看剩余 \d+ 页）$/, '')
    assert.equal([page1, ...sent, last].map(strip).join(''), long)
  })
})

describe("late: 'auto' learns the account's permission", () => {
  test('48001 on "typing…" before the deadline: this very message uses the retry window', async () => {
    const sender = new FakeSender().failNext('typing', wechatError(48001))
    const { bot, deliver, text, setClock } = windowBot({ typingAfterMs: 0 }, sender)
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('the answer')
    })
    const request = message('slow')
    setClock(0)
    const first = bot.handle(request)
    await sender.waitFor((c) => c.kind === 'typing') // refused with 48001, well before the deadline
    setClock(60_000) // past the hold of the delivery left unanswered
    assert.equal((await first).body, 'success')
    const second = deliver(request, 5000)
    slow.open()
    assert.equal(text((await second).body), 'the answer')
    assert.equal(sender.sends().length, 0, 'no customer-service message attempted')
  })

  test('48001 on the late customer-service reply: the reply becomes a pending answer, and the account is remembered in the shared store', async () => {
    const sender = new FakeSender().failNext('send', wechatError(48001))
    const store = new MemoryStore()
    const { bot, deliver, text } = windowBot({ sharedStore: store }, sender)
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    assert.equal((await deliver(message('slow'), 0)).body, 'success')
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('anything'), 20_000)).body), 'answer to slow')
    const keys = [...(await Promise.all(['late:customer-service:' + bot.options.appId].map((k) => store.get<{ permission: string }>(k))))]
    assert.equal(keys[0]?.permission, 'no')
  })
})

describe('a reply after the handlers returned (a forgotten await)', () => {
  test('is named in the log, not misdiagnosed as a missing API client, and still reaches the user', async () => {
    const { bot, deliver, text, logger } = windowBot()
    bot.on('text', (ctx) => {
      void new Promise((resolve) => setTimeout(resolve, 5)).then(() => ctx.reply('forgotten'))
    })
    assert.equal((await deliver(message('q'), 0)).body, 'success')
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(await bot.drain(2000))
    const line = logger.lines.find((l) => l.obj.code === 'WX_ERR_REPLY_AFTER_RETURN')
    assert.ok(line, 'warned')
    assert.match(line.msg, /forgotten `await`/)
    assert.ok(!logger.lines.some((l) => /no WeChat API client/.test(String(l.obj.err ?? '') + l.msg)))
    assert.equal(text((await deliver(message('next'), 20_000)).body), 'forgotten')
  })
})

describe('failures around pending answers', () => {
  test('the shared store fails: pending answers wait in the process (one warning), and are still delivered', async () => {
    const broken: KeyValueStore = {
      kind: 'broken',
      get: async () => Promise.reject(new Error('ECONNREFUSED')),
      set: async () => Promise.reject(new Error('ECONNREFUSED')),
      delete: async () => Promise.reject(new Error('ECONNREFUSED')),
      add: async () => Promise.reject(new Error('ECONNREFUSED')),
      deleteIf: async () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => undefined,
      ping: async () => Promise.reject(new Error('ECONNREFUSED')),
    }
    const { bot, deliver, text, logger } = windowBot({ late: 'next-message', sharedStore: broken })
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await slow.promise
      await ctx.reply(`answer to ${ctx.text}`)
    })
    await deliver(message('slow'), 0)
    slow.open()
    assert.ok(await bot.drain(2000))
    assert.equal(text((await deliver(message('again'), 20_000)).body), 'answer to slow')
    assert.equal(logger.lines.filter((l) => /pending answers: the shared store failed/.test(l.msg)).length, 1)
  })
})

test('two users whose messages carry the same MsgId each get their own reply', async () => {
  const { bot, deliver, text } = windowBot()
  bot.on('text', (ctx) => ctx.reply(`hello ${ctx.openid}`))
  const msgId = nextMsgId()
  assert.equal(text((await deliver(message('hi', 'oUserAlpha0001', msgId), 0)).body), 'hello oUserAlpha0001')
  assert.equal(text((await deliver(message('hi', 'oUserBravo0002', msgId), 10)).body), 'hello oUserBravo0002')
})

test('an interim the bot configured is logged as the plan (info); a deadline missed without one is a warning', async () => {
  const sender = new FakeSender()
  const { bot, deliver, logger } = windowBot({ accountKind: 'service-verified' }, sender)
  bot.hears('with', lateOptions({ interim: '正在思考…' }), () => new Promise(() => {}))
  bot.hears('without', () => new Promise(() => {}))
  await deliver(message('with'), 0)
  await deliver(message('without'), 100)
  const deadline = logger.lines.filter((l) => /deadline/.test(l.msg))
  assert.deepEqual(deadline.map((l) => l.level), ['info', 'warn'])
})

test('a retry answered "success" because its budget ran out says so: it never claims the first delivery\'s reply was given', async () => {
  const sender = new FakeSender()
  const { bot, logger } = windowBot({ accountKind: 'service-verified', replyTimeoutMs: 40 }, sender)
  const slow = gate()
  bot.on('text', async (ctx) => {
    await slow.promise
    await ctx.reply('late')
  })
  const request = message('q')
  // a retry while the first delivery is still inside its budget (its answer got lost on the way)
  const first = bot.handle(request)
  const retry = bot.handle(request)
  assert.equal((await retry).body, 'success')
  await first
  slow.open()
  assert.ok(await bot.drain(2000))
  const lines = logger.lines.filter((l) => /retry/i.test(l.msg))
  assert.ok(lines.some((l) => /no reply was given/.test(l.msg)), lines.map((l) => l.msg).join('\n'))
  assert.ok(!lines.some((l) => /first delivery's reply/.test(l.msg)))
})
