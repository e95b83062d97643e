/**
 * The deadline through the bot core, in process: what WeChat is answered, what goes through
 * the customer-service API, what the message log records and what is logged. Handlers wait on
 * gates the test opens after WeChat's answer went out, so "slower than the deadline" never
 * depends on the machine's speed; nothing here asserts a duration.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../../src/bot.js'
import type { BotOptions } from '../../src/bot-options.js'
import type { RequestOutcome } from '../../src/bot.js'
import { classifySendError, DELIVERY_MEANINGS, lateDeliveryProblem, sendAllowance } from '../../src/pipeline/late-delivery.js'
import { lateOptions } from '../../src/pipeline/late-options.js'
import { parseMessage } from '../../src/messages/parse.js'
import { readReply, signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { FakeSender, MemoryRecorder, gate, memoryLogger, wechatError } from './support.js'

const token = 'deadlinetoken'
let accounts = 0

/** A bot with a short deadline, a fake customer-service sender and an in-memory message log. */
function slowBot(options: Partial<BotOptions> = {}) {
  const logger = memoryLogger()
  const records = new MemoryRecorder()
  const sender = new FakeSender()
  // a fresh AppID per bot: "once per account" notices must not leak between tests
  const appId = `wxdeadline${String(++accounts).padStart(8, '0')}`
  const bot = new Bot({ token, appId, logger, records, replyTimeoutMs: 20, typingAfterMs: false, ...options })
  bot.setApiFactory(() => sender)
  const outcomes: RequestOutcome[] = []
  bot.onOutcome((o) => outcomes.push(o))
  return { bot, logger, records, sender, outcomes }
}

function message(content = 'question', openid = 'oDeadlineUser01') {
  return sampleXml('text', { Content: content }, { openid })
}

const post = (bot: Bot, xml: string) => bot.handle(signedRequest({ token, xml }))

describe('what a refused customer-service send means', () => {
  test('each errcode maps to its outcome; anything without an errcode is failed', () => {
    const cases: Array<[unknown, string]> = [
      [wechatError(45015), 'out-of-window'],
      [wechatError(45047), 'quota'],
      [wechatError(48001), 'no-permission'],
      [wechatError(43004), 'failed'],
      [wechatError(40003), 'failed'],
      [wechatError(-1), 'failed'],
      [new TypeError('fetch failed'), 'failed'],
      // hostile or odd throwables: never a crash, never a wrong outcome
      [{ errcode: '45015' }, 'failed'],
      [{ errcode: 45015.5 }, 'failed'],
      [null, 'failed'],
      [undefined, 'failed'],
      ['a string', 'failed'],
    ]
    for (const [err, status] of cases) assert.equal(classifySendError(err).status, status, String((err as { errcode?: unknown })?.errcode ?? err))
    assert.equal(classifySendError(wechatError(45047)).errcode, 45047)
    assert.match(DELIVERY_MEANINGS['no-permission'], /认证服务号/)
  })

  test('a user message allows 5 customer-service messages; a click, follow or scan 3; other events open no window', () => {
    assert.equal(sendAllowance(parseMessage(sampleXml('text'))), 5)
    assert.equal(sendAllowance(parseMessage(sampleXml('image'))), 5)
    assert.equal(sendAllowance(parseMessage(sampleXml('event:CLICK', { EventKey: 'K' }))), 3)
    assert.equal(sendAllowance(parseMessage(sampleXml('event:subscribe'))), 3)
    assert.equal(sendAllowance(parseMessage(sampleXml('event:SCAN', { EventKey: '42' }))), 3)
    assert.equal(sendAllowance(parseMessage(sampleXml('event:VIEW', { EventKey: 'https://a.b' }))), undefined)
    assert.equal(sendAllowance(parseMessage(sampleXml('event:unsubscribe'))), undefined)
  })

  test('the startup check warns only when late replies would go nowhere (customer service pinned without an API client)', () => {
    assert.match(lateDeliveryProblem({ apiConfigured: false, options: { late: 'customer-service' } }) ?? '', /WECHAT_APPID and WECHAT_APPSECRET/)
    assert.equal(lateDeliveryProblem({ apiConfigured: false, options: {} }), undefined, "auto: the retry window and pending answers carry late answers")
    assert.equal(lateDeliveryProblem({ apiConfigured: false, options: { late: 'drop' } }), undefined)
    assert.equal(lateDeliveryProblem({ apiConfigured: true, options: { late: 'customer-service' } }), undefined)
  })
})

describe('a reply after the deadline', () => {
  test('WeChat gets "success" at the deadline; the reply goes out once through customer service and is recorded as sent', async () => {
    const { bot, sender, records, outcomes } = slowBot()
    const slow = gate()
    let runs = 0
    bot.on('text', async (ctx) => {
      runs++
      await slow.promise
      await ctx.reply('the late answer')
    })
    const res = await post(bot, message())
    assert.equal(res.body, 'success')
    assert.equal(outcomes[0]?.kind, 'deadline')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(runs, 1)
    assert.deepEqual(sender.sends(), [{ type: 'text', content: 'the late answer' }])
    const outcome = records.rows[0]?.outcome
    assert.equal(outcome?.replyVia, 'customer-service')
    assert.equal(outcome?.replyStatus, 'sent')
    assert.match(outcome?.replyXml ?? '', /the late answer/)
  })

  for (const [errcode, status] of [[45015, 'out-of-window'], [45047, 'quota'], [48001, 'no-permission'], [43004, 'failed']] as const) {
    test(`errcode ${errcode} is recorded as ${status}, logged once and not retried (late: 'customer-service' pinned)`, async () => {
      const { bot, sender, records, logger } = slowBot({ late: 'customer-service' })
      sender.failNext('send', wechatError(errcode))
      const slow = gate()
      bot.on('text', async (ctx) => {
        await slow.promise
        await ctx.reply('too late')
      })
      assert.equal((await post(bot, message())).body, 'success')
      slow.open()
      assert.ok(await bot.drain(5000))
      assert.equal(sender.sends().length, 1, 'one attempt, no retry loop')
      assert.equal(records.rows[0]?.outcome?.replyStatus, status)
      assert.equal(records.rows[0]?.outcome?.replyVia, 'customer-service')
      assert.match(records.rows[0]?.outcome?.error ?? '', new RegExp(String(errcode)))
      const lines = logger.lines.filter((l) => l.obj.status === status && /late reply not delivered/.test(l.msg))
      assert.equal(lines.length, 1)
      assert.equal(lines[0]?.level, 'warn')
      assert.equal(lines[0]?.obj.errcode, errcode)
    })
  }

  test('a network failure is recorded as failed with the reason', async () => {
    const { bot, sender, records } = slowBot()
    sender.failNext('send', new TypeError('fetch failed: ECONNRESET'))
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('too late')
    })
    await post(bot, message())
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'failed')
    assert.match(records.rows[0]?.outcome?.error ?? '', /ECONNRESET/)
  })

  test('48001 is explained once per account, however many messages meet it', async () => {
    const { bot, sender, logger } = slowBot({ late: 'customer-service' })
    sender.failNext('send', wechatError(48001)).failNext('send', wechatError(48001))
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('late')
    })
    await post(bot, message('one', 'oUserNoPerm01'))
    await post(bot, message('two', 'oUserNoPerm02'))
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(logger.lines.filter((l) => /Logged once/.test(l.msg)).length, 1)
    assert.equal(logger.lines.filter((l) => l.obj.status === 'no-permission').length, 2, 'each message still has its own line')
  })

  test("late: 'drop' drops the reply: nothing is sent and the log says dropped", async () => {
    const { bot, sender, records } = slowBot({ late: 'drop' })
    const late: string[] = []
    bot.onLateReply((e) => late.push(`${e.via}/${e.status}`))
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('never seen')
    })
    assert.equal((await post(bot, message())).body, 'success')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(sender.sends().length, 0)
    assert.deepEqual(late, ['none/dropped'])
    assert.equal(records.rows[0]?.outcome?.replyVia, 'none')
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'dropped')
  })

  test("late: 'customer-service' without an API client: the late reply fails with a reason that names the missing settings", async () => {
    const logger = memoryLogger()
    const records = new MemoryRecorder()
    const bot = new Bot({ token, logger, records, replyTimeoutMs: 20, late: 'customer-service' })
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('nowhere to go')
    })
    await post(bot, message())
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'failed')
    assert.match(records.rows[0]?.outcome?.error ?? '', /WECHAT_APPID/)
  })

  test('a second late reply is refused like a second passive reply', async () => {
    const { bot, sender } = slowBot()
    const errors: unknown[] = []
    bot.catch((err) => errors.push(err))
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('first')
      await ctx.reply('second')
    })
    await post(bot, message())
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends(), [{ type: 'text', content: 'first' }])
    assert.match(String(errors[0]), /ctx\.send/)
  })

  test('a late reply nobody awaits is still delivered and recorded before drain resolves', async () => {
    const { bot, sender, records } = slowBot()
    const held = gate()
    sender.hold('send', held.promise)
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      void ctx.reply('fire and forget')
    })
    await post(bot, message())
    slow.open()
    const drained = bot.drain(5000)
    held.open()
    assert.ok(await drained)
    assert.equal(sender.sends().length, 1)
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'sent')
  })

  test('a retry of the message after the deadline gets the same answer; the handler runs once and one reply is sent', async () => {
    const { bot, sender, outcomes } = slowBot({ interim: '正在思考…' })
    let runs = 0
    const slow = gate()
    bot.on('text', async (ctx) => {
      runs++
      await slow.promise
      await ctx.reply('answer')
    })
    const xml = message()
    const first = await post(bot, xml)
    const retry = await post(bot, xml)
    assert.equal(retry.body, first.body)
    assert.equal(outcomes[1]?.kind, 'duplicate')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(runs, 1)
    assert.equal(sender.sends().length, 1)
  })
})

describe('the interim message', () => {
  test('is the passive answer at the deadline; the reply follows through customer service', async () => {
    const { bot, sender, records, outcomes } = slowBot({ interim: '正在思考，请稍候…' })
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('思考完毕')
    })
    const res = await post(bot, message())
    assert.equal(readReply(res, { token }).reply?.Content, '正在思考，请稍候…')
    assert.equal(outcomes[0]?.kind, 'deadline')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends(), [{ type: 'text', content: '思考完毕' }])
    assert.equal(records.rows[0]?.outcome?.replyVia, 'customer-service')
    assert.match(records.rows[0]?.outcome?.replyXml ?? '', /思考完毕/)
  })

  test('is never shown when the handler replies in time', async () => {
    const { bot, sender } = slowBot({ interim: 'wait', replyTimeoutMs: 4000 })
    bot.on('text', (ctx) => ctx.reply('quick'))
    assert.equal(readReply(await post(bot, message()), { token }).reply?.Content, 'quick')
    assert.equal(sender.sends().length, 0)
  })

  test('a handler that ends after the interim without replying leaves the interim as what the user saw', async () => {
    const { bot, sender, records } = slowBot({ interim: 'hold on' })
    const slow = gate()
    bot.on('text', async () => {
      await slow.promise
    })
    await post(bot, message())
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(sender.sends().length, 0)
    assert.equal(records.rows[0]?.outcome?.replyVia, 'passive')
    assert.match(records.rows[0]?.outcome?.replyXml ?? '', /hold on/)
  })

  test('is not sent for events that open no window (a LOCATION report); an explicit replyLater() text still is', async () => {
    const { bot } = slowBot({ interim: 'thinking' })
    const slow = gate()
    bot.on('event:LOCATION', async (ctx) => {
      if (ctx.message.Precision === 1) ctx.replyLater('explicit')
      await slow.promise
    })
    const report = (precision: number) => sampleXml('event:LOCATION', { Latitude: 23.1, Longitude: 113.3, Precision: precision }, { openid: 'oLocationUser1', createTime: 1_700_000_000 + precision })
    assert.equal((await post(bot, report(0))).body, 'success')
    assert.equal(readReply(await post(bot, report(1)), { token }).reply?.Content, 'explicit')
    slow.open()
    assert.ok(await bot.drain(5000))
  })

  test('in safe mode the interim is encrypted like any passive reply', async () => {
    const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
    const { bot } = slowBot({ interim: '稍等', encodingAESKey })
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('done')
    })
    const appId = bot.options.appId as string
    const res = await bot.handle(signedRequest({ token, xml: message(), mode: 'safe', encodingAESKey, appId }))
    const read = readReply(res, { token, encodingAESKey, appId })
    assert.equal(read.encrypted, true)
    assert.equal(read.reply?.Content, '稍等')
    slow.open()
    assert.ok(await bot.drain(5000))
  })
})

describe('per-route and per-message late options', () => {
  test('lateOptions() on a route overrides the bot: one route drops, another has its own interim', async () => {
    const { bot, sender } = slowBot({ interim: 'bot interim' })
    const slow = gate()
    bot.hears('report', lateOptions({ late: 'drop' }), async (ctx) => {
      await slow.promise
      await ctx.reply('report ready')
    })
    bot.hears('draw', lateOptions({ interim: '正在画图…' }), async (ctx) => {
      await slow.promise
      await ctx.reply('picture ready')
    })
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('other ready')
    })
    const report = await post(bot, message('report', 'oRouteUser0001'))
    const draw = await post(bot, message('draw', 'oRouteUser0002'))
    const other = await post(bot, message('other', 'oRouteUser0003'))
    assert.equal(readReply(report, { token }).reply?.Content, 'bot interim')
    assert.equal(readReply(draw, { token }).reply?.Content, '正在画图…')
    assert.equal(readReply(other, { token }).reply?.Content, 'bot interim')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends().map((r) => (r as { content: string }).content).sort(), ['other ready', 'picture ready'])
  })

  test('ctx.setLateOptions() in a handler applies to that message only', async () => {
    const { bot, sender } = slowBot()
    const slow = gate()
    bot.on('text', async (ctx) => {
      if (ctx.text === 'quiet') ctx.setLateOptions({ late: 'drop' })
      else ctx.setLateOptions({ interim: `working on ${ctx.text}` })
      await slow.promise
      await ctx.reply(`${ctx.text} done`)
    })
    const quiet = await post(bot, message('quiet', 'oSetLateUser01'))
    const loud = await post(bot, message('loud', 'oSetLateUser02'))
    assert.equal(quiet.body, 'success')
    assert.equal(readReply(loud, { token }).reply?.Content, 'working on loud')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends(), [{ type: 'text', content: 'loud done' }])
  })

  test('bad late options fail where they are written, naming the field', async () => {
    assert.throws(() => lateOptions({ late: 'later' as 'drop' }), /lateOptions\(\): late must be one of 'auto', 'customer-service', 'drop'/)
    assert.throws(() => lateOptions({ interim: '   ' }), /interim must be a non-empty text/)
    assert.throws(() => lateOptions({ interim: 'x'.repeat(3000) }), /interim is 3000 bytes/)
    assert.throws(() => lateOptions({ typingAfterMs: -1 }), /typingAfterMs must be a non-negative number/)
    assert.throws(() => lateOptions({ typingAfterMs: Number.NaN }), /typingAfterMs/)
    assert.throws(() => lateOptions(null as unknown as object), /options must be an object/)
    assert.throws(() => new Bot({ token, interim: '' }), /Bot options: interim/)
    assert.throws(() => new Bot({ token, typingAfterMs: true as unknown as number }), /Bot options: typingAfterMs/)
    const { bot } = slowBot({ replyTimeoutMs: 4000 })
    const errors: unknown[] = []
    bot.catch((err) => errors.push(err))
    bot.on('text', (ctx) => {
      if (ctx.text === 'a') ctx.setLateOptions({ late: 'sometimes' as 'drop' })
      else ctx.replyLater('')
    })
    await post(bot, message('a', 'oBadOptions001'))
    await post(bot, message('b', 'oBadOptions002'))
    assert.match(String(errors[0]), /ctx\.setLateOptions\(\): late/)
    assert.match(String(errors[1]), /ctx\.replyLater\(\): interim must be a non-empty text/)
  })
})

describe('ctx.replyLater()', () => {
  test('answers WeChat at once with the interim, before the handler is done; the reply follows through customer service', async () => {
    const { bot, sender, outcomes, records } = slowBot({ replyTimeoutMs: 4000 })
    const slow = gate()
    bot.on('text', async (ctx) => {
      ctx.replyLater('收到，正在查询…')
      await slow.promise
      await ctx.reply('查询结果')
    })
    // the handler is blocked on a gate only the test opens, so this answer came before it finished
    const res = await post(bot, message())
    assert.equal(readReply(res, { token }).reply?.Content, '收到，正在查询…')
    assert.notEqual(outcomes[0]?.kind, 'deadline', 'a deliberate early answer is not a missed deadline')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends(), [{ type: 'text', content: '查询结果' }])
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'sent')
  })

  test("without an interim it answers success; it delivers even when the bot's late mode is drop", async () => {
    const { bot, sender } = slowBot({ late: 'drop', replyTimeoutMs: 4000 })
    const slow = gate()
    bot.on('text', async (ctx) => {
      ctx.replyLater()
      await slow.promise
      await ctx.reply('delivered anyway')
    })
    assert.equal((await post(bot, message())).body, 'success')
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.sends(), [{ type: 'text', content: 'delivered anyway' }])
  })

  test('after a passive reply it is a programming error', async () => {
    const { bot } = slowBot({ replyTimeoutMs: 4000 })
    const errors: unknown[] = []
    bot.catch((err) => errors.push(err))
    bot.on('text', async (ctx) => {
      await ctx.reply('done already')
      ctx.replyLater()
    })
    assert.equal(readReply(await post(bot, message()), { token }).reply?.Content, 'done already')
    assert.match(String(errors[0]), /replyLater\(\) after a text reply/)
  })
})

describe('ctx.send()', () => {
  test('pushes messages beside the passive reply and resolves with each outcome', async () => {
    const { bot, sender } = slowBot({ replyTimeoutMs: 4000 })
    sender.failNext('send', wechatError(45015)) // the first push is refused
    const statuses: string[] = []
    bot.on('text', async (ctx) => {
      statuses.push((await ctx.send('refused')).status)
      statuses.push((await ctx.sendText('part 2')).status)
      statuses.push((await ctx.sendNews({ title: 'T', url: 'https://example.com' })).status)
      await ctx.reply('the reply')
    })
    assert.equal(readReply(await post(bot, message()), { token }).reply?.Content, 'the reply')
    assert.deepEqual(statuses, ['out-of-window', 'sent', 'sent'])
    assert.equal(sender.sends().length, 3)
  })

  test('one user message allows 5 customer-service messages, the late reply included: the 6th is not attempted', async () => {
    const { bot, sender, records } = slowBot()
    const slow = gate()
    const statuses: string[] = []
    bot.on('text', async (ctx) => {
      for (let i = 1; i <= 5; i++) statuses.push((await ctx.send(`part ${i}`)).status)
      await slow.promise
      await ctx.reply('over the quota')
    })
    await post(bot, message())
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(statuses, ['sent', 'sent', 'sent', 'sent', 'sent'])
    assert.equal(sender.sends().length, 5)
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'quota')
    assert.match(records.rows[0]?.outcome?.error ?? '', /allows 5/)
  })

  test('a menu click allows 3', async () => {
    const { bot, sender } = slowBot({ replyTimeoutMs: 4000 })
    const statuses: string[] = []
    bot.click('MENU', async (ctx) => {
      for (let i = 1; i <= 4; i++) statuses.push((await ctx.send(`n${i}`)).status)
    })
    await post(bot, sampleXml('event:CLICK', { EventKey: 'MENU' }, { openid: 'oClickUser0001' }))
    assert.deepEqual(statuses, ['sent', 'sent', 'sent', 'quota'])
    assert.equal(sender.sends().length, 3)
  })

  test('a send still running does not hold up the passive answer; drain waits for it and the log records it', async () => {
    const { bot, sender, records } = slowBot({ replyTimeoutMs: 4000 })
    const held = gate()
    sender.hold('send', held.promise)
    bot.on('text', async (ctx) => {
      void ctx.send('extra')
      await ctx.reply('passive')
    })
    // the send is held until after the answer, so the answer did not wait for it
    assert.equal(readReply(await post(bot, message()), { token }).reply?.Content, 'passive')
    assert.equal(bot.backgroundCount, 1)
    held.open()
    assert.ok(await bot.drain(5000))
    assert.equal(sender.sends().length, 1)
    assert.equal(records.rows[0]?.outcome?.replyVia, 'passive', 'the reply was passive; the push was extra')
  })

  test('after replyLater() with no reply, the pushed messages are what the log records', async () => {
    const { bot, sender, records } = slowBot({ replyTimeoutMs: 4000 })
    sender.failNext('send', new Error('socket hang up'))
    bot.on('text', async (ctx) => {
      ctx.replyLater()
      await ctx.send('one')
      await ctx.send('two')
    })
    await post(bot, message())
    assert.ok(await bot.drain(5000))
    assert.equal(records.rows[0]?.outcome?.replyVia, 'customer-service')
    assert.equal(records.rows[0]?.outcome?.replyStatus, 'failed')
    assert.match(records.rows[0]?.outcome?.error ?? '', /socket hang up/)
    assert.equal(sender.sends().length, 2)
  })
})
