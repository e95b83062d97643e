/**
 * WeChat API faults against a scripted WeChat on loopback: 5xx answers, timeouts and "system
 * busy" are retried a bounded number of times with growing backoff, a non-idempotent call is
 * never sent twice after a timeout, and every failure is recorded: per-attempt metrics by
 * errcode, a log line per retry, and the late reply's failure in the message log.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WechatApi } from '../../src/api/client.js'
import { Bot } from '../../src/bot.js'
import { openRecords } from '../../src/records/open-records.js'
import { WxmpMetrics } from '../../src/server/metrics.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'

type Behaviour = 'ok' | '502' | 'busy' | 'hang'
interface Hit {
  path: string
  at: number
}

let wechat: Server
let baseUrl: string
const hits: Hit[] = []
const behaviour = new Map<string, Behaviour>()
const hanging = new Set<ServerResponse>()

function answer(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  hits.push({ path, at: performance.now() })
  req.resume()
  const json = (body: unknown) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (path === '/cgi-bin/stable_token' || path === '/cgi-bin/token') return json({ access_token: 'ACCESS_TOKEN_FAKE', expires_in: 7200 })
  switch (behaviour.get(path) ?? 'ok') {
    case 'ok':
      return json({ errcode: 0, errmsg: 'ok' })
    case '502':
      res.writeHead(502, { 'content-type': 'text/html' })
      return void res.end('<html>bad gateway</html>')
    case 'busy':
      return json({ errcode: -1, errmsg: 'system error rid: 6650f0e1-1234' })
    case 'hang':
      hanging.add(res)
      return
  }
}

function captureLog() {
  const warnings: Array<Record<string, unknown>> = []
  const errors: Array<Record<string, unknown>> = []
  const logger = { debug() {}, info() {}, warn: (o: object) => void warnings.push(o as Record<string, unknown>), error: (o: object) => void errors.push(o as Record<string, unknown>), child: () => logger }
  return { logger, warnings, errors }
}

function api(metrics: WxmpMetrics, logger: ReturnType<typeof captureLog>['logger'], extra: { timeoutMs?: number; retryDelayMs?: number } = {}): WechatApi {
  return new WechatApi({ appId: 'wx1234567890abcdef', appSecret: 'secret0123456789secret0123456789', baseUrl, logger, retries: 2, retryDelayMs: 100, timeoutMs: 1000, onCall: (info) => metrics.recordApiCall(info), ...extra })
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

function attemptsAt(path: string, since: number): Hit[] {
  return hits.slice(since).filter((h) => h.path === path)
}

describe('WeChat API faults', () => {
  before(async () => {
    wechat = createServer(answer)
    await new Promise<void>((resolve) => wechat.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(wechat.address() as AddressInfo).port}`
  })
  after(async () => {
    for (const res of hanging) res.destroy()
    wechat.closeAllConnections()
    await new Promise((resolve) => wechat.close(resolve))
  })

  test('HTTP 502 on an idempotent call: 3 attempts with growing backoff, then HttpError; each attempt counted', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    const log = captureLog()
    behaviour.set('/cgi-bin/get_api_domain_ip', '502')
    const since = hits.length
    await assert.rejects(api(metrics, log.logger).call('/cgi-bin/get_api_domain_ip'), (err: Error) => err.name === 'HttpError' && /HTTP 502/.test(err.message))
    const attempts = attemptsAt('/cgi-bin/get_api_domain_ip', since)
    assert.equal(attempts.length, 3, 'first try + 2 retries, no more')
    const gaps = attempts.slice(1).map((h, i) => h.at - attempts[i]!.at)
    // backoff 100 ms × 2^n with ±25 % jitter: at least 75 ms, then at least 150 ms
    assert.ok(gaps[0]! >= 70 && gaps[1]! >= 140, `backoff grows: ${gaps.map(Math.round).join(', ')} ms`)
    assert.equal(log.warnings.length, 2, 'one warning per retry')
    const text = await metrics.render()
    assert.equal(sample(text, 'wxmp_api_calls_total{path="/cgi-bin/get_api_domain_ip",errcode="http-5xx"}'), 3)
    assert.equal(sample(text, 'wxmp_api_retries_total{path="/cgi-bin/get_api_domain_ip"}'), 2)
  })

  test('a timeout on an idempotent call is retried a bounded number of times', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    const log = captureLog()
    behaviour.set('/cgi-bin/user/get', 'hang')
    const since = hits.length
    await assert.rejects(api(metrics, log.logger, { timeoutMs: 150, retryDelayMs: 20 }).call('/cgi-bin/user/get'), (err: Error & { timedOut?: boolean }) => err.name === 'HttpError' && err.timedOut === true)
    assert.equal(attemptsAt('/cgi-bin/user/get', since).length, 3)
    assert.equal(sample(await metrics.render(), 'wxmp_api_calls_total{path="/cgi-bin/user/get",errcode="no-answer"}'), 3)
  })

  test('a timeout on a message send is NOT retried: the user must not get the message twice', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    const log = captureLog()
    behaviour.set('/cgi-bin/message/custom/send', 'hang')
    const since = hits.length
    await assert.rejects(api(metrics, log.logger, { timeoutMs: 150 }).customerService.sendText('oUser', 'hello'), (err: Error) => err.name === 'HttpError')
    assert.equal(attemptsAt('/cgi-bin/message/custom/send', since).length, 1)
  })

  test('errcode -1 (WeChat busy) is retried even on a send, then reported with its errcode', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    const log = captureLog()
    behaviour.set('/cgi-bin/message/custom/send', 'busy')
    const since = hits.length
    await assert.rejects(api(metrics, log.logger, { retryDelayMs: 20 }).customerService.sendText('oUser', 'hello'), (err: Error & { errcode?: number }) => err.errcode === -1)
    assert.equal(attemptsAt('/cgi-bin/message/custom/send', since).length, 3)
    assert.equal(sample(await metrics.render(), 'wxmp_api_calls_total{path="/cgi-bin/message/custom/send",errcode="-1"}'), 3)
  })

  test('a late reply that WeChat keeps refusing is recorded in the message log with its error; the webhook answer was on time', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    const log = captureLog()
    behaviour.set('/cgi-bin/message/custom/send', '502')
    const records = await openRecords('memory:')
    const bot = new Bot({ token: 'apifault', logger: log.logger, replyTimeoutMs: 50, records: records.messages })
    const client = api(metrics, log.logger, { retryDelayMs: 20 })
    bot.setApiFactory(() => client)
    metrics.observe(bot)
    let deadlinePassed!: () => void
    const passed = new Promise<void>((resolve) => (deadlinePassed = resolve))
    bot.onOutcome((o) => o.kind === 'deadline' && deadlinePassed())
    bot.on('text', async (ctx) => {
      await passed // an LLM that takes longer than the passive window
      await ctx.reply('late answer')
    })
    try {
      const response = await bot.handle(signedRequest({ token: 'apifault', xml: sampleXml('text', { Content: 'question' }) }))
      assert.equal(response.status, 200)
      assert.equal(response.body, 'success')
      assert.equal(await bot.drain(10_000), true)
      const [row] = await records.messages.recent({ limit: 1 })
      assert.equal(row?.replyVia, 'customer-service')
      assert.equal(row?.replyStatus, 'failed')
      assert.match(row?.error ?? '', /HTTP 502/)
      assert.ok([...log.errors, ...log.warnings].some((line) => JSON.stringify(line).includes('HTTP 502')), 'a log line names the failure')
      const text = await metrics.render()
      assert.equal(sample(text, 'wxmp_late_replies_total{via="customer-service",status="failed"}'), 1)
      assert.equal(sample(text, 'wxmp_deadline_misses_total'), 1)
    } finally {
      await records.close()
    }
  })
})
