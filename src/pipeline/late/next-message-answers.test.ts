import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../../bot.js'
import type { BotOptions } from '../../bot-options.js'
import { createLogger } from '../../logger.js'
import { readReply, signedRequest } from '../../testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../testing/samples.js'
import { MemoryStore } from '../../storage/memory.js'

const token = 'nextmessagetoken'
const T0 = 1_800_000_000_000
const log = createLogger({ level: 'silent' })

function bot(options: Partial<BotOptions> = {}) {
  let clock = T0
  const store = new MemoryStore({ now: () => clock })
  const b = new Bot({ token, appId: 'wxnextmessage0001', logger: log, store, replyTimeoutMs: 2000, timestampToleranceSec: 0, typingAfterMs: false, now: () => clock, ...options })
  const handled: string[] = []
  b.on('text', async (ctx) => {
    handled.push(ctx.text ?? '')
    await ctx.reply(`echo ${ctx.text}`)
  })
  const send = async (content: string, openid: string, account = 'gh_account_one') => {
    const response = await b.handle(signedRequest({ token, xml: sampleXml('text', { Content: content }, { openid, msgId: nextMsgId(), account }) }))
    return String((readReply(response, { token }).reply as { Content?: string }).Content)
  }
  return { bot: b, handled, send, setClock: (at: number) => (clock = T0 + at) }
}

test('an answer queued from outside a handler is the passive reply of the user next message, and its receipt says delivered', async () => {
  const { bot: b, handled, send } = bot()
  // no API client: nothing can go through customer service
  assert.deepEqual(await b.nextMessage.way(), { way: 'next-message', because: 'no-api' })
  const queued = await b.nextMessage.queue({ openid: 'oNextUser0001' }, { type: 'text', content: '人工客服：您好' }, 'console:1')
  assert.equal(queued.ahead, 0)
  assert.equal(queued.expiresAt, T0 + 24 * 3600_000)
  assert.equal((await b.nextMessage.receipts(['console:1'])).size, 0, 'still waiting')
  assert.equal(await send('someone else', 'oOtherUser001'), 'echo someone else')
  assert.equal(await send('在吗', 'oNextUser0001'), '人工客服：您好')
  assert.deepEqual(handled, ['someone else'], 'the message that fetched the answer is not handled further (then: skip)')
  assert.deepEqual(await b.nextMessage.receipts(['console:1', 'console:2']), new Map([['console:1', { status: 'delivered', at: T0 }]]))
  assert.equal(await send('再来', 'oNextUser0001'), 'echo 再来')
})

test('answers wait in order, one per message, behind what already waits', async () => {
  const { bot: b, send } = bot()
  await b.nextMessage.queue({ openid: 'oNextUser0002' }, { type: 'text', content: 'first' }, 'console:a')
  const second = await b.nextMessage.queue({ openid: 'oNextUser0002' }, { type: 'text', content: 'second' }, 'console:b')
  assert.equal(second.ahead, 1)
  assert.equal(await send('1', 'oNextUser0002'), 'first')
  assert.equal(await send('2', 'oNextUser0002'), 'second')
  assert.equal(await send('3', 'oNextUser0002'), 'echo 3')
})

test('an answer not fetched in time expires: the next message is handled, and the receipt says expired', async () => {
  const { bot: b, send, setClock } = bot({ pendingAnswers: { ttlMs: 60_000 } })
  const queued = await b.nextMessage.queue({ openid: 'oNextUser0003' }, { type: 'text', content: 'too late' }, 'console:late')
  assert.equal(queued.expiresAt, T0 + 60_000)
  setClock(61_000)
  assert.equal(await send('hello', 'oNextUser0003'), 'echo hello')
  assert.deepEqual(await b.nextMessage.receipts(['console:late']), new Map([['console:late', { status: 'expired', at: T0 + 61_000 }]]))
})

test('with a keyword only that word fetches the answer', async () => {
  const { bot: b, send } = bot({ pendingAnswers: { keyword: '继续' } })
  assert.equal(b.nextMessage.settings.keyword, '继续')
  await b.nextMessage.queue({ openid: 'oNextUser0004' }, { type: 'text', content: 'the answer' }, 'console:k')
  assert.equal(await send('hi', 'oNextUser0004'), 'echo hi')
  assert.equal(await send('继续', 'oNextUser0004'), 'the answer')
})

test('without an AppID the queue is named by the account the user wrote to', async () => {
  const { bot: b, send } = bot({ appId: undefined })
  await assert.rejects(b.nextMessage.queue({ openid: 'oNextUser0005' }, { type: 'text', content: 'x' }, 'console:n'), /AppID/)
  await b.nextMessage.queue({ openid: 'oNextUser0005', accountId: 'gh_account_two' }, { type: 'text', content: 'for account two' }, 'console:n')
  assert.equal(await send('a', 'oNextUser0005', 'gh_account_one'), 'echo a')
  assert.equal(await send('b', 'oNextUser0005', 'gh_account_two'), 'for account two')
})

test('the way follows the permission: customer service until configured or learned otherwise', async () => {
  const api = { customerService: { sendReply: async () => ({}) } }
  const unknown = bot()
  unknown.bot.setApiFactory(() => api)
  assert.deepEqual(await unknown.bot.nextMessage.way(), { way: 'customer-service' })
  unknown.bot.nextMessage.learnedNoPermission()
  assert.deepEqual(await unknown.bot.nextMessage.way(), { way: 'next-message', because: 'learned-48001' })

  const subscription = bot({ accountKind: 'subscription' })
  subscription.bot.setApiFactory(() => api)
  assert.deepEqual(await subscription.bot.nextMessage.way(), { way: 'next-message', because: 'account-kind' })
  const verified = bot({ accountKind: 'service-verified' })
  verified.bot.setApiFactory(() => api)
  assert.deepEqual(await verified.bot.nextMessage.way(), { way: 'customer-service' })
})
