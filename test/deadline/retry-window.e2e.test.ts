/**
 * Long answers on a 订阅号 without customer-service permission, end to end: the real server
 * (`startServer`, SQLite message log) on an ephemeral port, its API client pointed at the fake
 * WeChat server playing an account without customer service (48001), and the simulator playing
 * WeChat with real timing (5 s per delivery, 3 deliveries) and the user who writes "继续" when
 * told to. Handlers take 3, 8, 13, 20 and 60 s; all run at once, as different users' messages
 * do. For each: exactly one visible answer (passive on the delivery open when it is ready, or
 * on a later message), every HTTP answer inside WeChat's 5 s, the handler run once, and the
 * message log saying how the answer left. Then a 10 000-character Chinese reply with emoji
 * arrives complete and in order over "继续" messages. About 70 s of real time.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../../src/server/config.js'
import { startServer, type WxmpServer } from '../../src/server/app.js'
import type { Context } from '../../src/context.js'
import { simulate, type SimulateResult } from '../../src/testing/simulator.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { startFakeWechat, type FakeWechat } from '../../src/testing/fake-wechat/index.js'
import { memoryLogger } from './support.js'

const token = 'retrywindowE2E'
const NOTICE = '内容较长，回复任意文字获取结果'
let fake: FakeWechat
let server: WxmpServer
let dir: string
const runs = new Map<string, number>()
const logger = memoryLogger()

const answerTo = (openid: string) => `answer for ${openid}`
const LONG = buildLong()

/** About 10 000 characters of Chinese with emoji, in paragraphs. */
function buildLong(): string {
  const sentence = '微信公众号的被动回复最多两千零四十八个字节，长回答要分页送达😀。'
  const paragraphs: string[] = []
  for (let i = 1; paragraphs.join('\n\n').length < 10_000; i++) paragraphs.push(`第${i}段👨‍👩‍👧：${sentence.repeat(8)}`)
  return paragraphs.join('\n\n').slice(0, 10_000).replace(/[\uD800-\uDBFF]$/, '')
}

async function handler(ctx: Context): Promise<void> {
  if (ctx.text === 'long') return ctx.reply(LONG)
  runs.set(ctx.openid, (runs.get(ctx.openid) ?? 0) + 1)
  const ms = Number(/sleep (\d+)/.exec(ctx.text ?? '')?.[1] ?? 0)
  await sleep(ms)
  await ctx.reply(answerTo(ctx.openid))
}

before(async () => {
  fake = await startFakeWechat({ customerService: false })
  dir = mkdtempSync(join(tmpdir(), 'wxmp-retry-window-'))
  const config = loadConfig(
    { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}` },
    { cwd: dir, dotenv: false },
  )
  server = await startServer({ config, logger, setup: (bot) => void bot.on('text', handler) })
})

after(async () => {
  await server?.close({ drainMs: 2000 })
  await fake?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

function send(openid: string, content: string): Promise<SimulateResult> {
  return simulate({ url: server.http.url, token, xml: sampleXml('text', { Content: content }, { openid, msgId: nextMsgId() }), followUp: '继续', followUpWaitMs: 90_000 })
}

/** Every text the user saw, in order: the first message's answer, then each follow-up's. */
function shown(result: SimulateResult): string[] {
  const texts = [result, ...(result.followUps ?? [])].map((r) => (r.final.kind === 'reply' ? String(r.final.reply?.Content ?? '') : `(${r.final.kind})`))
  return texts
}

test('handlers of 3, 8, 13, 20 and 60 s on a 订阅号 without customer service: one visible answer each, the handler run once, the log says how', async () => {
  const cases = [
    { seconds: 3, openid: 'oRetryWindow003', attempts: 1, via: 'passive', deliveries: 1 },
    { seconds: 8, openid: 'oRetryWindow008', attempts: 2, via: 'passive', deliveries: 2 },
    { seconds: 13, openid: 'oRetryWindow013', attempts: 3, via: 'passive', deliveries: 3 },
    { seconds: 20, openid: 'oRetryWindow020', attempts: 3, via: 'next-message', deliveries: 3 },
    { seconds: 60, openid: 'oRetryWindow060', attempts: 3, via: 'next-message', deliveries: 3 },
  ]
  const results = await Promise.all(cases.map((c) => send(c.openid, `sleep ${c.seconds * 1000}`)))
  for (const [i, c] of cases.entries()) {
    const result = results[i]!
    const texts = shown(result)
    const name = `${c.seconds} s`
    assert.equal(texts.filter((t) => t === answerTo(c.openid)).length, 1, `${name}: the answer shows exactly once: ${texts.join(' | ')}`)
    assert.ok(!texts.includes('(error-banner)'), `${name}: never the error banner`)
    assert.equal(result.attempts.length, c.attempts, `${name}: answered on delivery ${c.attempts}`)
    for (const r of [result, ...(result.followUps ?? [])]) {
      for (const a of r.attempts) if (a.status !== undefined) assert.ok(a.latencyMs < 5000, `${name}: an answer after ${a.latencyMs} ms`)
    }
    if (c.via === 'next-message') {
      assert.equal(texts[0], NOTICE, `${name}: the pending notice on the last delivery`)
      assert.equal(texts.at(-1), answerTo(c.openid), `${name}: the answer on a later message`)
    } else {
      assert.equal(texts.length, 1, `${name}: no follow-up needed`)
    }
    assert.equal(runs.get(c.openid), 1, `${name}: the handler ran once`)
  }
  assert.ok(await server.bot.drain(5000))
  const rows = await server.records.messages.recent({ limit: 200 })
  for (const c of cases) {
    const row = rows.find((r) => r.openid === c.openid && /sleep/.test(r.rawXml))
    assert.ok(row !== undefined, `${c.seconds} s: a log row`)
    assert.equal(row.replyVia, c.via, `${c.seconds} s: reply_via`)
    assert.equal(row.deliveries, c.deliveries, `${c.seconds} s: deliveries`)
    if (c.via === 'next-message') assert.equal(row.replyStatus, 'sent', `${c.seconds} s: the pending answer was delivered`)
    assert.match(row.replyXml ?? '', new RegExp(answerTo(c.openid)))
  }
  assert.equal(fake.sent.filter((s) => s.kind === 'customer-service').length, 0, 'nothing went through customer service')
  assert.ok(fake.calls.some((c) => c.errcode === 48001), 'WeChat said 48001, and the account learned it')
  // nothing left hanging: no handler, no held delivery, no open connection
  assert.equal(server.bot.backgroundCount, 0)
  await sleep(500)
  const open = await new Promise<number>((resolve) => server.http.server.getConnections((_err, n) => resolve(n)))
  assert.equal(open, 0, 'no connection left open')
})

test('a 10 000-character Chinese reply with emoji arrives complete and in order over "继续" messages', async () => {
  const result = await send('oRetryWindowLong', 'long')
  const texts = shown(result)
  assert.ok(texts.length >= 10, `${texts.length} pages`)
  const pages = texts.map((t) => t.replace(/\n（回复"继续"查看剩余 \d+ 页）$/, ''))
  for (const [i, t] of texts.entries()) {
    assert.ok(Buffer.byteLength(t) <= 2048, `page ${i + 1} fits a passive reply`)
    if (i < texts.length - 1) assert.match(t, new RegExp(`（回复"继续"查看剩余 ${texts.length - 1 - i} 页）$`))
  }
  assert.equal(pages.join(''), LONG)
})
