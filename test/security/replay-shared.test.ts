/**
 * The replay guard on Redis, through bot.handle with a real Redis behind the same
 * ResilientStore the server uses (the server tests run on the default setup, whose store is
 * in process): a captured query with another body is refused whatever the body (another
 * message's, garbage, one that dedups like a message still being handled), a retry gets the
 * first reply byte for byte and runs nothing again, and the query of a URL check signs no
 * message.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Bot } from '../../src/bot.js'
import type { KeyValueStore } from '../../src/storage/types.js'
import { readReply, signedRequest, verificationRequest, type SignedRequest } from '../../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { REDIS_URL, deleteRedisKeys, serviceAvailable } from '../support/services.js'
import { quiet, watchedRedisStore } from './support.js'

const available = await serviceAvailable('redis')
const skip = !available && 'Redis is not reachable'
const prefix = `wxmp-test:${randomUUID()}:`
const token = 'replaysharedtoken'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wx5823bf96d3bd56c7'

after(async () => {
  if (available) await deleteRedisKeys(REDIS_URL, `${prefix}*`)
})

/** The store as the server builds it for Redis, with every call counted by name. */
function countedStore(): { store: KeyValueStore; calls: string[]; close(): Promise<void> } {
  const calls: string[] = []
  const { store, close } = watchedRedisStore(prefix, (call, key) => void calls.push(`${call} ${key}`))
  return { store, calls, close }
}

function botOn(store: KeyValueStore, handled: string[], slowMs = 0, plaintext = false) {
  const bot = new Bot({ token, ...(plaintext ? {} : { encodingAESKey: AES_KEY, appId: APP_ID }), store, logger: quiet })
  bot.on('text', async (ctx) => {
    handled.push(ctx.message.Content)
    if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs))
    return ctx.reply(`echo ${ctx.message.Content}`)
  })
  return bot
}

function message(content: string, msgId = nextMsgId(), openid = 'oFollowerShared'): { xml: string; req: SignedRequest } {
  const xml = sampleXml('text', { Content: content }, { openid, msgId })
  return { xml, req: signedRequest({ token, xml, mode: 'safe', encodingAESKey: AES_KEY, appId: APP_ID }) }
}

/** The captured query with another body: the query string is all a forger has. */
function withBody(req: SignedRequest, body: string): SignedRequest {
  return { ...req, body }
}

const read = (res: { status: number; body: string }) => readReply(res, { token, encodingAESKey: AES_KEY, appId: APP_ID }).reply?.Content

test('on Redis a retry gets the first reply byte for byte; the replay check goes first, before the claim', { skip }, async (t) => {
  const { store, calls, close } = countedStore()
  t.after(close)
  const handled: string[] = []
  const bot = botOn(store, handled)
  assert.equal(read(await bot.handle(message('warm-up').req)), 'echo warm-up')
  calls.length = 0 // the first message also read the pending answers' marker (then once a second)
  const msgId = nextMsgId()
  const { req } = message('hello shared', msgId)
  const first = await bot.handle(req)
  assert.equal(read(first), 'echo hello shared')
  const claim = `dedup:m:oFollowerShared:${msgId}`
  assert.deepEqual(
    calls.filter((c) => !c.includes('dedup-owner:')).map((c) => c.replace(/replay:[0-9a-f]{40}/, 'replay:<signature>')),
    ['add replay:<signature>', `add ${claim}`, `set ${claim}`],
    'the replay record, the claim, the stored answer',
  )
  const retry = await bot.handle(req)
  assert.equal(retry.body, first.body, 'byte for byte')
  assert.deepEqual(handled, ['warm-up', 'hello shared'])
})

test('on Redis a captured query is refused with any other body: valid, garbage, or the MsgId of a message still running', { skip }, async (t) => {
  const { store, close } = countedStore()
  t.after(close)
  const handled: string[] = []
  const bot = botOn(store, handled, 300)
  const genuine = message('genuine', nextMsgId())
  const running = bot.handle(genuine.req)
  await new Promise((resolve) => setTimeout(resolve, 50)) // its handler is running now
  // the forger's body: its own message, encrypted with a key it does not have (so refused as undecryptable) or in plaintext
  const forgedSameMsgId = sampleXml('text', { Content: 'forged, same MsgId' }, { openid: 'oFollowerShared', msgId: /<MsgId>(\d+)</.exec(genuine.xml)![1]! })
  const other = message('forged').req // another message's encrypted body, which its msg_signature does not cover here
  for (const body of [other.body, 'garbage, not XML', forgedSameMsgId, genuine.req.body.replace('<Encrypt><![CDATA[', '<Encrypt><![CDATA[x')]) {
    const res = await bot.handle(withBody(genuine.req, body))
    assert.deepEqual([res.status, res.body], [403, 'WX_ERR_REPLAY\n'], `body ${body.slice(0, 40)}`)
  }
  assert.equal(read(await running), 'echo genuine')
  assert.deepEqual(handled, ['genuine'], 'no forged body reached a handler')
})

test('on Redis a query whose body failed is used up by it, and the query of a URL check signs no message', { skip }, async (t) => {
  const { store, close } = countedStore()
  t.after(close)
  const bot = botOn(store, [])
  const { req } = message('first with a broken body')
  const broken = await bot.handle(withBody(req, '<xml><broken'))
  assert.equal(broken.status, 400, broken.body)
  const then = await bot.handle(req)
  assert.deepEqual([then.status, then.body], [403, 'WX_ERR_REPLAY\n'], 'the query was used, by the broken body')
  const check = verificationRequest({ token, echostr: 'e-shared' })
  assert.equal((await bot.handle(check)).body, 'e-shared')
  const { req: message2 } = message('after a check')
  const reused = await bot.handle({ ...message2, query: { ...message2.query, signature: check.query.signature!, timestamp: check.query.timestamp!, nonce: check.query.nonce! } })
  assert.equal(reused.status, 403, reused.body)
})

test('on Redis, in plaintext, a forged body with the MsgId of a message still running is refused, not answered with its reply', { skip }, async (t) => {
  const { store, close } = countedStore()
  t.after(close)
  const handled: string[] = []
  const bot = botOn(store, handled, 300, true)
  const msgId = nextMsgId()
  const xml = sampleXml('text', { Content: 'genuine plain' }, { openid: 'oFollowerShared', msgId })
  const genuine = signedRequest({ token, xml })
  const running = bot.handle(genuine)
  await new Promise((resolve) => setTimeout(resolve, 50))
  // plaintext bodies are not signed: the forger can send any, here one that dedups like the running message
  const forged = sampleXml('text', { Content: 'forged plain' }, { openid: 'oFollowerShared', msgId })
  const res = await bot.handle(withBody(genuine, forged))
  assert.deepEqual([res.status, res.body], [403, 'WX_ERR_REPLAY\n'])
  const answered = await running
  assert.match(answered.body, /echo genuine plain/)
  assert.deepEqual(handled, ['genuine plain'])
})
