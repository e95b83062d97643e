/**
 * The default server's request path (SQLite message log, journaled replay and dedup store, as
 * `npm start` wires them) answers a message in the event-loop turn it arrived in, after its
 * inbound record and its stored answer are written: src/pipeline/turn-end.ts. It used to take
 * three turns (the record, then the stored answer, then the answer's own write), which tripled
 * how long every request stayed in memory.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bot } from '../src/bot.js'
import { createLogger } from '../src/logger.js'
import { botOptionsFrom, startServer } from '../src/server/app.js'
import { loadConfig } from '../src/server/config.js'
import { installEchoBot } from '../src/server/echo-bot.js'
import { openServerStores } from '../src/server/stores.js'
import { sampleXml } from '../src/testing/samples.js'
import { readReply, signedRequest } from '../src/testing/signed-request.js'

const TOKEN = 'oneturntoken'

function bytesIn(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)
}

/** The kinds of the records in the message log's files (1 inbound, 3 outcome; 2 an outcome from before migration 6: src/records/logged-recorder.ts). */
function recordKinds(dir: string): number[] {
  const kinds: number[] = []
  for (const name of readdirSync(dir).sort()) {
    const bytes = readFileSync(join(dir, name))
    for (let at = 0; at + 6 <= bytes.length; at += bytes.readUInt32LE(at)) kinds.push(bytes[at + 4]!)
  }
  return kinds
}

test('the default server answers in the turn the message arrived in, its records written first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-one-turn-'))
  const logger = createLogger({ level: 'silent' })
  const config = loadConfig({ WECHAT_TOKEN: TOKEN, DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_LOG_LEVEL: 'silent' }, { cwd: dir, dotenv: false })
  const stores = await openServerStores(config, { logger })
  try {
    const bot = new Bot({ ...botOptionsFrom(config), ...stores.botOptions, logger })
    installEchoBot(bot)
    // the first message reads whether any pending answers wait (a store read, so its handlers
    // finish later); the next ones within a second know at once, as under load
    await bot.handle(signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: '热身' }, { openid: 'oTurn' }) }))
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (let i = 0; i < 3; i++) {
      const logged = bytesIn(join(dir, 'wxmp.db-log'))
      const journaled = bytesIn(join(dir, 'wxmp.db-store'))
      const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: `第 ${i} 条` }, { openid: 'oTurn' }) })
      let nextTurn = false
      const answered = bot.handle(req)
      setImmediate(() => (nextTurn = true))
      const response = await answered
      assert.equal(nextTurn, false, 'answered in the same turn')
      assert.equal(readReply(response, { token: TOKEN }).reply?.Content, `第 ${i} 条`)
      assert.ok(bytesIn(join(dir, 'wxmp.db-log')) > logged, 'the inbound record was written before the answer')
      assert.ok(bytesIn(join(dir, 'wxmp.db-store')) > journaled, 'the replay and dedup records were written before the answer')
      // answered at once: its outcome went in the same write as the message, nothing left for later
      assert.deepEqual(recordKinds(join(dir, 'wxmp.db-log')).slice(-2), [1, 3])
    }
    const rows = await stores.records.messages.recent({ limit: 10 })
    assert.deepEqual(rows.map((row) => row.replyVia), ['passive', 'passive', 'passive', 'passive'])
  } finally {
    await stores.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the ready-to-run server's own middleware (follower tracking, rules, pending answers) keeps a message answered at once on that path", async () => {
  // an async middleware in the server's chain made every handler finish later, so the outcome
  // went in a later turn's write and each request stayed alive until then
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-one-turn-'))
  const config = loadConfig({ WECHAT_TOKEN: TOKEN, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_LOG_LEVEL: 'silent' }, { cwd: dir, dotenv: false })
  const server = await startServer({ config, logger: createLogger({ level: 'silent' }) })
  try {
    const logDir = join(dir, 'wxmp.db-log')
    await server.bot.handle(signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: '热身' }, { openid: 'oServerTurn' }) }))
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (let i = 0; i < 3; i++) {
      const response = await server.bot.handle(signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: `第 ${i} 条` }, { openid: 'oServerTurn' }) }))
      assert.equal(readReply(response, { token: TOKEN }).reply?.Content, `第 ${i} 条`)
      assert.equal(server.bot.backgroundCount, 0, 'nothing left running after the answer')
      assert.deepEqual(recordKinds(logDir).slice(-2), [1, 3], 'the outcome went in the same write as the message')
    }
    // a subscribe still goes the follower-recording way, and is answered
    const welcome = await server.bot.handle(signedRequest({ token: TOKEN, xml: sampleXml('event:subscribe', {}, { openid: 'oServerTurnNew' }) }))
    assert.match(readReply(welcome, { token: TOKEN }).reply?.Content ?? '', /欢迎关注/)
    await server.bot.drain(1000)
    assert.equal((await server.records.followers.get(server.bot.options.appId ?? '', 'oServerTurnNew'))?.subscribed, true, 'the subscribe was recorded')
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
