/**
 * "typing…" while a slow handler runs: the indicator on its own (renewal, 45081, 48001,
 * failures, pause/resume, cancel, the 60 s cap) and through the bot (before the late reply,
 * never after it; cleared when the handler ends without replying; off where it has no use).
 * Delays are 0 or 1 ms and every wait is for an event, never for a duration.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { Bot } from '../../src/bot.js'
import type { BotOptions } from '../../src/bot-options.js'
import { TypingIndicator, type TypingAccount } from '../../src/pipeline/typing.js'
import { lateOptions } from '../../src/pipeline/late-options.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { FakeSender, gate, memoryLogger, wechatError } from './support.js'

const token = 'typingtoken'
let accounts = 0

function indicator(options: { fail?: unknown[]; wanted?: () => boolean; now?: () => number; account?: TypingAccount } = {}) {
  const commands: boolean[] = []
  const failures = [...(options.fail ?? [])]
  const waiters: Array<() => void> = []
  let noPermission = 0
  const account = options.account ?? { disabled: false }
  const typing = new TypingIndicator({
    send: async (on) => {
      commands.push(on)
      for (const wake of waiters.splice(0)) wake()
      const failure = failures.shift()
      if (failure !== undefined) throw failure
    },
    wanted: options.wanted ?? (() => true),
    account,
    onNoPermission: () => noPermission++,
    log: memoryLogger(),
    startedAt: Date.now(),
    now: options.now ?? Date.now,
    everyMs: 1,
  })
  /** Resolves once `n` commands were sent. */
  const sent = async (n: number) => {
    while (commands.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { typing, commands, sent, account, noPermissions: () => noPermission }
}

describe('the typing indicator', () => {
  test('shows typing after the delay and renews it while the work runs; nothing after stop', async () => {
    const { typing, commands, sent } = indicator()
    typing.schedule(0)
    await sent(3)
    await typing.stop()
    const count = commands.length
    await tick()
    await tick()
    assert.equal(commands.length, count)
    assert.ok(commands.every((on) => on === true))
  })

  test('45081 (already typing) counts as shown and renewal goes on', async () => {
    const { typing, sent } = indicator({ fail: [wechatError(45081), wechatError(45081)] })
    typing.schedule(0)
    await sent(3)
    assert.equal(typing.shown, true)
    await typing.stop()
  })

  test('48001 turns typing off for the whole account and is reported once', async () => {
    const account = { disabled: false }
    const first = indicator({ fail: [wechatError(48001)], account })
    first.typing.schedule(0)
    await first.sent(1)
    await first.typing.stop()
    assert.equal(account.disabled, true)
    assert.equal(first.noPermissions(), 1)
    const second = indicator({ account })
    second.typing.schedule(0)
    await tick()
    await tick()
    await second.typing.stop({ cancel: true })
    assert.deepEqual(second.commands, [], 'no further message tries')
  })

  test('any other failure ends typing for this message only, and never throws', async () => {
    const { typing, commands, sent, account } = indicator({ fail: [new TypeError('fetch failed')] })
    typing.schedule(0)
    await sent(1)
    await typing.stop({ cancel: true })
    assert.deepEqual(commands, [true], 'no renewal and no CancelTyping after a failure')
    assert.equal(account.disabled, false)
  })

  test('pause waits for a Typing in flight; resume shows typing again', async () => {
    const { typing, commands, sent } = indicator()
    typing.schedule(0)
    await sent(1)
    await typing.pause()
    const paused = commands.length
    await tick()
    await tick()
    assert.equal(commands.length, paused, 'held while paused')
    typing.resume()
    await sent(paused + 1)
    await typing.stop()
  })

  test('stop with cancel sends CancelTyping only while typing shows', async () => {
    const shown = indicator()
    shown.typing.schedule(0)
    await shown.sent(1)
    await shown.typing.stop({ cancel: true })
    assert.equal(shown.commands.at(-1), false)

    const ended = indicator()
    ended.typing.schedule(0)
    await ended.sent(1)
    ended.typing.messageSent() // a message ended the state: nothing to cancel
    await ended.typing.stop({ cancel: true })
    assert.ok(!ended.commands.includes(false))

    const never = indicator()
    never.typing.schedule(false)
    await tick()
    await never.typing.stop({ cancel: true })
    assert.deepEqual(never.commands, [])
  })

  test('nothing is sent when it is no longer wanted, or 60 s after the message', async () => {
    const unwanted = indicator({ wanted: () => false })
    unwanted.typing.schedule(0)
    await tick()
    await tick()
    await unwanted.typing.stop()
    assert.deepEqual(unwanted.commands, [])

    const start = Date.now()
    const old = indicator({ now: () => start + 61_000 })
    old.typing.schedule(0)
    await tick()
    await tick()
    await old.typing.stop()
    assert.deepEqual(old.commands, [])
  })
})

function typingBot(options: Partial<BotOptions> = {}) {
  const sender = new FakeSender()
  const appId = `wxtyping${String(++accounts).padStart(10, '0')}`
  const bot = new Bot({ token, appId, logger: memoryLogger(), replyTimeoutMs: 20, typingAfterMs: 0, ...options })
  bot.setApiFactory(() => sender)
  return { bot, sender }
}

const post = (bot: Bot, xml: string) => bot.handle(signedRequest({ token, xml }))

describe('typing through the bot', () => {
  test('a slow handler shows typing before its late reply, and no Typing lands after the reply', async () => {
    const { bot, sender } = typingBot()
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('late answer')
    })
    await post(bot, sampleXml('text', {}, { openid: 'oTypingUser001' }))
    await sender.waitFor((c) => c.kind === 'typing')
    slow.open()
    assert.ok(await bot.drain(5000))
    const kinds = sender.calls.map((c) => (c.kind === 'typing' ? (c.on ? 'Typing' : 'CancelTyping') : 'send'))
    assert.equal(kinds.at(-1), 'send', `the reply is the last call: ${kinds.join(', ')}`)
    assert.ok(!kinds.includes('CancelTyping'), 'the reply itself ends "typing…"')
    assert.equal(sender.calls.find((c) => c.kind === 'typing')?.openid, 'oTypingUser001')
  })

  test('a Typing still in flight is awaited before the late reply goes out', async () => {
    const { bot, sender } = typingBot()
    const typingHeld = gate()
    sender.hold('typing', typingHeld.promise)
    const replied = gate()
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      const done = ctx.reply('answer')
      replied.open()
      await done
    })
    // by the deadline the 0 ms typing timer has fired and its request is held
    await post(bot, sampleXml('text'))
    slow.open()
    await replied.promise
    typingHeld.open()
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.calls.map((c) => c.kind), ['typing', 'send'])
  })

  test('a handler that ends without replying clears typing with CancelTyping', async () => {
    const { bot, sender } = typingBot()
    bot.on('text', async () => {
      await sender.waitFor((c) => c.kind === 'typing')
    })
    await post(bot, sampleXml('text'))
    assert.ok(await bot.drain(5000))
    assert.deepEqual(sender.calls.map((c) => c.on), [true, false])
  })

  test("no typing with late: 'drop', typingAfterMs: false, for events without a window, or after a passive reply", async () => {
    const cases: Array<[string, Partial<BotOptions>, string, (bot: Bot, slow: Promise<void>) => void]> = [
      ['drop', { late: 'drop' }, sampleXml('text'), (bot, slow) => bot.on('text', () => slow)],
      ['typingAfterMs: false', { typingAfterMs: false }, sampleXml('text'), (bot, slow) => bot.on('text', () => slow)],
      ['route turns it off', {}, sampleXml('text'), (bot, slow) => bot.on('text', lateOptions({ typingAfterMs: false }), () => slow)],
      ['VIEW event', {}, sampleXml('event:VIEW', { EventKey: 'https://example.com' }), (bot, slow) => bot.use(() => slow)],
      ['unsubscribe', {}, sampleXml('event:unsubscribe'), (bot, slow) => bot.use(() => slow)],
      [
        'passive reply given',
        { replyTimeoutMs: 4000 },
        sampleXml('text'),
        (bot, slow) =>
          bot.on('text', async (ctx) => {
            await ctx.reply('in time')
            await slow
          }),
      ],
    ]
    for (const [name, options, xml, install] of cases) {
      const { bot, sender } = typingBot(options)
      const slow = gate()
      install(bot, slow.promise)
      // the 0 ms typing timer was set before the deadline's, so it has had its chance by the time WeChat is answered
      await post(bot, xml)
      await tick()
      slow.open()
      assert.ok(await bot.drain(5000))
      assert.deepEqual(sender.calls.filter((c) => c.kind === 'typing'), [], name)
    }
  })

  test("48001 on Typing never touches the reply, and the account stops trying (late: 'customer-service' pinned)", async () => {
    const { bot, sender } = typingBot({ late: 'customer-service' })
    sender.failNext('typing', wechatError(48001))
    const slow = gate()
    bot.on('text', async (ctx) => {
      await slow.promise
      await ctx.reply('still delivered')
    })
    await post(bot, sampleXml('text', {}, { openid: 'oNoPermTyping1' }))
    await sender.waitFor((c) => c.kind === 'typing')
    await post(bot, sampleXml('text', {}, { openid: 'oNoPermTyping2' }))
    slow.open()
    assert.ok(await bot.drain(5000))
    assert.equal(sender.calls.filter((c) => c.kind === 'typing').length, 1)
    assert.equal(sender.sends().length, 2)
  })
})
