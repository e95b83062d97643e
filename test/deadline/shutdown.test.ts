/**
 * Graceful shutdown with slow handlers in flight: the server stops accepting, lets them
 * finish (bounded by drainMs) and delivers their late replies before it is gone — in process
 * (`server.close()`) and as a real process receiving SIGTERM. The reply budget is 300 ms here
 * so a 1.5 s handler is "late" without making the suite slow.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../../src/server/config.js'
import { startServer } from '../../src/server/app.js'
import { simulate } from '../../src/testing/simulator.js'
import { sampleXml } from '../../src/testing/samples.js'
import { startFakeWechat, type FakeWechat } from '../../src/testing/fake-wechat/index.js'
import { startServerProcess } from '../hardening/support/server-process.js'
import { memoryLogger } from './support.js'

const token = 'shutdownToken'
let fake: FakeWechat

before(async () => {
  fake = await startFakeWechat()
})
after(() => fake.close())

function tempDb(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'wxmp-shutdown-')), 'wxmp.db')}`
}

function env(): Record<string, string> {
  return { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, DATABASE_URL: tempDb(), WECHAT_REPLY_TIMEOUT_MS: '300' }
}

const sentTo = (openid: string) => fake.sent.filter((s) => s.kind === 'customer-service' && s.touser === openid).map((s) => (s.body.text as { content: string }).content)

describe('graceful shutdown', () => {
  test('close() stops accepting, waits for the slow handler and delivers its late reply before it resolves', async () => {
    const logger = memoryLogger()
    const config = loadConfig({ ...env(), PORT: '0', HOST: '127.0.0.1' }, { dotenv: false })
    const server = await startServer({
      config,
      logger,
      setup: (bot) => {
        bot.on('text', async (ctx) => {
          await sleep(1500)
          await ctx.reply('finished during shutdown')
        })
      },
    })
    const openid = 'oShutdownInProcess'
    const first = await simulate({ url: server.http.url, token, xml: sampleXml('text', {}, { openid }) })
    assert.equal(first.final.kind, 'no-reply', 'answered "success" at the 300 ms deadline')
    assert.equal(server.bot.backgroundCount, 1)
    assert.deepEqual(sentTo(openid), [])

    const closing = server.close({ drainMs: 5000 })
    const refused = await simulate({ url: server.http.url, token, xml: sampleXml('text', {}, { openid: 'oShutdownLate' }), attempts: 1, timeoutMs: 1000 })
    assert.equal(refused.attempts[0]?.outcome, 'network-error', 'no new messages once shutdown began')
    await closing
    assert.deepEqual(sentTo(openid), ['finished during shutdown'])
    assert.ok(logger.lines.some((l) => /late reply delivered/.test(l.msg)))
  })

  test('the drain is bounded: a handler slower than drainMs does not hold the shutdown', async () => {
    const logger = memoryLogger()
    const config = loadConfig({ ...env(), PORT: '0', HOST: '127.0.0.1' }, { dotenv: false })
    let release!: () => void
    const stuck = new Promise<void>((resolve) => (release = resolve))
    const server = await startServer({
      config,
      logger,
      setup: (bot) => {
        bot.on('text', async () => {
          await stuck
        })
      },
    })
    await simulate({ url: server.http.url, token, xml: sampleXml('text', {}, { openid: 'oShutdownStuck' }) })
    await server.close({ drainMs: 100 })
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /still running after the drain timeout/.test(l.msg)))
    release()
  })

  test('SIGTERM: the server process delivers the late reply of a handler in flight, then exits 0', async () => {
    const proc = await startServerProcess({ ...env(), HARDENING_SLOW_MS: '1500' })
    try {
      const openid = 'oShutdownSigterm'
      const result = await simulate({ url: proc.url, token, xml: sampleXml('text', { Content: 'slow' }, { openid }) })
      assert.equal(result.final.kind, 'no-reply')
      await proc.waitForLog((l) => l.msg === 'slow handler started')
      proc.child.kill('SIGTERM')
      assert.equal(await proc.exited, 0)
      assert.deepEqual(sentTo(openid), ['slow done'])
    } finally {
      await proc.stop()
    }
  })
})
