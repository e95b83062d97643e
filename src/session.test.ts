import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from './bot.js'
import type { Context } from './context.js'
import { session, type SessionFlavor } from './session.js'
import { MemoryStore } from './storage/memory.js'
import { readReply, signedRequest } from './testing/signed-request.js'
import { sampleXml } from './testing/samples.js'

type Ctx = Context & SessionFlavor<{ count: number }>
const token = 'tok'
const logger = { debug() {}, info() {}, warn() {}, error() {}, child() { return logger } }

async function say(bot: Bot<Ctx>, text: string, openid: string) {
  const res = await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: text }, { openid }) }))
  return readReply(res, { token }).reply?.Content
}

test('a session counts per user and persists in the shared store', async () => {
  const sharedStore = new MemoryStore()
  const bot = new Bot<Ctx>({ token, logger, sharedStore })
  bot.use(session({ initial: () => ({ count: 0 }) }))
  bot.on('text', (ctx) => {
    ctx.session.count++
    return ctx.reply(String(ctx.session.count))
  })
  assert.equal(await say(bot, 'a', 'oA'), '1')
  assert.equal(await say(bot, 'b', 'oA'), '2')
  assert.equal(await say(bot, 'c', 'oB'), '1')
  // a new bot on the same store (another instance, or after a restart) sees the same sessions
  const other = new Bot<Ctx>({ token, logger, sharedStore })
  other.use(session({ initial: () => ({ count: 0 }) }))
  other.on('text', (ctx) => ctx.reply(String(++ctx.session.count)))
  assert.equal(await say(other, 'd', 'oA'), '3')
})

test('a handler that throws does not write its changes back', async () => {
  const bot = new Bot<Ctx>({ token, logger })
  bot.catch(() => {})
  bot.use(session({ initial: () => ({ count: 0 }) }))
  bot.hears('boom', (ctx) => {
    ctx.session.count = 100
    throw new Error('boom')
  })
  bot.on('text', (ctx) => ctx.reply(String(++ctx.session.count)))
  assert.equal(await say(bot, 'x', 'oC'), '1')
  await say(bot, 'boom', 'oC')
  assert.equal(await say(bot, 'y', 'oC'), '2')
})

test('sessions expire after their TTL', async () => {
  let now = 1_000_000
  const sharedStore = new MemoryStore({ now: () => now })
  const bot = new Bot<Ctx>({ token, logger, sharedStore, timestampToleranceSec: 0, now: () => now })
  bot.use(session({ initial: () => ({ count: 0 }), ttlMs: 60_000 }))
  bot.on('text', (ctx) => ctx.reply(String(++ctx.session.count)))
  assert.equal(await say(bot, 'a', 'oD'), '1')
  now += 61_000
  assert.equal(await say(bot, 'b', 'oD'), '1')
})
