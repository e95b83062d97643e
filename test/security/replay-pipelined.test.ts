/**
 * On a shared store the dedup claim goes out in the replay check's round trip, before the check
 * has answered (Deduper.run's `check`). These tests hold what that must not change: a delivery
 * the check refuses runs nothing, is handed no stored answer (not even by naming an answered
 * message's MsgId), leaves no claim behind, and the real message with that MsgId still runs.
 * Real Redis, behind the ResilientStore the server uses.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Bot } from '../../src/bot.js'
import type { KeyValueStore } from '../../src/storage/types.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { REDIS_URL, deleteRedisKeys, serviceAvailable } from '../support/services.js'
import { quiet, watchedRedisStore } from './support.js'

const available = await serviceAvailable('redis')
const skip = !available && 'Redis is not reachable'
const prefix = `wxmp-test:${randomUUID()}:`
const token = 'replaypipelinedtoken'
const openid = 'oFollowerPipelined'

after(async () => {
  if (available) await deleteRedisKeys(REDIS_URL, `${prefix}*`)
})

/** The server's Redis store; `claimsSentEarly` counts claims sent while a replay check was still unanswered. */
function watchedStore() {
  const unanswered = new Set<string>()
  const watched = { claims: 0, claimsSentEarly: 0 }
  const { store, raw, close } = watchedRedisStore(prefix, (call, key, result) => {
    if (call !== 'add') return
    if (key.startsWith('replay:')) {
      unanswered.add(key)
      void result.finally(() => unanswered.delete(key)).catch(() => undefined)
    } else if (key.startsWith('dedup:m:')) {
      watched.claims++
      if (unanswered.size > 0) watched.claimsSentEarly++
    }
  })
  return { store, watched, raw, close }
}

function plainBot(store: KeyValueStore, handled: string[], now?: () => number) {
  const bot = new Bot({ token, store, logger: quiet, ...(now === undefined ? {} : { now }) })
  bot.on('text', (ctx) => {
    handled.push(ctx.message.Content)
    return ctx.reply(`private answer for ${ctx.message.Content}`)
  })
  return bot
}

const xmlOf = (content: string, msgId: string) => sampleXml('text', { Content: content }, { openid, msgId })

test('on Redis the claim is sent while the replay check is under way, and the message is answered as before', { skip }, async (t) => {
  const { store, watched, close } = watchedStore()
  t.after(close)
  const handled: string[] = []
  // a clock that stands still: the owner's heartbeat, written before the first claim (a round
  // trip of its own, once per third of its life), stays fresh for the messages after it
  const startedAt = Date.now()
  const bot = plainBot(store, handled, () => startedAt)
  assert.match((await bot.handle(signedRequest({ token, xml: xmlOf('warm-up', nextMsgId()) }))).body, /private answer for warm-up/)
  watched.claims = 0
  watched.claimsSentEarly = 0
  for (const content of ['one', 'two', 'three']) {
    const res = await bot.handle(signedRequest({ token, xml: xmlOf(content, nextMsgId()) }))
    assert.match(res.body, new RegExp(`private answer for ${content}`))
  }
  assert.deepEqual(handled, ['warm-up', 'one', 'two', 'three'])
  assert.equal(watched.claims, 3)
  assert.equal(watched.claimsSentEarly, 3, 'each claim went out before its replay check answered (one round trip for both)')
})

test('on Redis a captured query with a forged body naming an answered message gets the refusal, never that answer', { skip }, async (t) => {
  const { store, close } = watchedStore()
  t.after(close)
  const handled: string[] = []
  const bot = plainBot(store, handled)
  const answeredId = nextMsgId()
  const answered = await bot.handle(signedRequest({ token, xml: xmlOf('secret', answeredId) }))
  assert.match(answered.body, /private answer for secret/)
  // the forger holds another message's captured query and sends, under it, a body with the answered MsgId
  const captured = signedRequest({ token, xml: xmlOf('captured', nextMsgId()) })
  assert.equal((await bot.handle(captured)).status, 200)
  const forged = await bot.handle({ ...captured, body: xmlOf('give me the answer', answeredId) })
  assert.deepEqual([forged.status, forged.body], [403, 'WX_ERR_REPLAY\n'])
  assert.doesNotMatch(forged.body, /secret/)
  assert.deepEqual(handled, ['secret', 'captured'])
})

test('on Redis a refused delivery leaves no claim behind: the real message with its MsgId runs when it comes', { skip }, async (t) => {
  const { store, raw, close } = watchedStore()
  t.after(close)
  const handled: string[] = []
  const bot = plainBot(store, handled)
  const captured = signedRequest({ token, xml: xmlOf('captured', nextMsgId()) })
  assert.equal((await bot.handle(captured)).status, 200)
  const futureId = nextMsgId()
  const forged = await bot.handle({ ...captured, body: xmlOf('forged first', futureId) })
  assert.deepEqual([forged.status, forged.body], [403, 'WX_ERR_REPLAY\n'])
  assert.equal(await raw.get(`dedup:m:${openid}:${futureId}`), undefined, 'the claim the refused delivery took was let go')
  const real = await bot.handle(signedRequest({ token, xml: xmlOf('the real one', futureId) }))
  assert.match(real.body, /private answer for the real one/)
  assert.deepEqual(handled, ['captured', 'the real one'])
})

test('on Redis a replayed query with a body that does not parse is refused as a replay, as when the check went first', { skip }, async (t) => {
  const { store, close } = watchedStore()
  t.after(close)
  const bot = plainBot(store, [])
  const captured = signedRequest({ token, xml: xmlOf('captured', nextMsgId()) })
  assert.equal((await bot.handle(captured)).status, 200)
  for (const body of ['<xml><broken', 'not xml at all', '']) {
    const res = await bot.handle({ ...captured, body })
    assert.deepEqual([res.status, res.body], [403, 'WX_ERR_REPLAY\n'], JSON.stringify(body))
  }
  // and a fresh query with a broken body is still the body's fault
  const fresh = signedRequest({ token, xml: xmlOf('fresh', nextMsgId()) })
  const broken = await bot.handle({ ...fresh, body: '<xml><broken' })
  assert.equal(broken.status, 400, broken.body)
})
