import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import { signedRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { WxmpMetrics } from './metrics.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wx2c2769f8efd9abc2'

/** The value of one sample line, e.g. sample(text, 'wxmp_requests_total{outcome="replied",code=""}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('Prometheus metrics', () => {
  test('counts requests by outcome, dedup hits, deadline misses, decrypt failures and latency', async () => {
    const bot = new Bot({ token: 'metrics', encodingAESKey: KEY, appId: APP_ID, logger: quiet, replyTimeoutMs: 50, late: 'drop' })
    // the slow handler waits until the core has answered "success" at the deadline: no race
    let deadlinePassed!: () => void
    const passed = new Promise<void>((resolve) => (deadlinePassed = resolve))
    bot.onOutcome((o) => o.kind === 'deadline' && deadlinePassed())
    bot.on('text', async (ctx) => {
      if (ctx.text === 'slow') await passed
      await ctx.reply('ok')
    })
    const metrics = new WxmpMetrics({ processMetrics: false }).observe(bot)
    const first = signedRequest({ token: 'metrics', xml: sampleXml('text', { Content: 'hi' }) })
    await bot.handle(first)
    await bot.handle(first) // WeChat's retry of the same delivery
    await bot.handle({ ...first, query: { ...first.query, signature: '0'.repeat(40) } })
    await bot.handle(signedRequest({ token: 'metrics', xml: sampleXml('text', { Content: 'slow' }) }))
    const encrypted = signedRequest({ token: 'metrics', xml: sampleXml('text'), mode: 'safe', encodingAESKey: KEY, appId: APP_ID })
    const tampered = encrypted.body.replace(/<Encrypt><!\[CDATA\[(.)/, (_m, c: string) => `<Encrypt><![CDATA[${c === 'A' ? 'B' : 'A'}`)
    await bot.handle({ ...encrypted, body: tampered })
    await bot.drain(1000)

    const text = await metrics.render()
    assert.equal(sample(text, 'wxmp_requests_total{outcome="replied",code=""}'), 1)
    assert.equal(sample(text, 'wxmp_requests_total{outcome="duplicate",code=""}'), 1)
    assert.equal(sample(text, 'wxmp_requests_total{outcome="deadline",code=""}'), 1)
    assert.equal(sample(text, 'wxmp_requests_total{outcome="rejected",code="WX_ERR_SIGNATURE_INVALID"}'), 1)
    assert.equal(sample(text, 'wxmp_dedup_hits_total'), 1)
    assert.equal(sample(text, 'wxmp_deadline_misses_total'), 1)
    assert.equal(sample(text, 'wxmp_decrypt_failures_total{code="WX_ERR_MSG_SIGNATURE_INVALID"}'), 1)
    assert.equal(sample(text, 'wxmp_handler_duration_seconds_count{outcome="replied"}'), 1)
    assert.equal(sample(text, 'wxmp_late_replies_total{via="none",status="dropped"}'), 1)
  })

  test('API calls are counted by path and errcode; retries and token refreshes too', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    metrics.recordApiCall({ path: '/cgi-bin/message/custom/send?access_token=SECRET', errcode: -1, status: 200, attempt: 0 })
    metrics.recordApiCall({ path: '/cgi-bin/message/custom/send', errcode: undefined, status: undefined, attempt: 1 })
    metrics.recordApiCall({ path: '/cgi-bin/message/custom/send', errcode: undefined, status: 502, attempt: 2 })
    metrics.recordApiCall({ path: '/cgi-bin/message/custom/send', errcode: 0, status: 200, attempt: 3 })
    metrics.recordApiCall({ path: '/cgi-bin/stable_token', errcode: 0, status: 200, attempt: 0 })
    metrics.recordApiCall({ path: '/cgi-bin/token', errcode: 40164, status: 200, attempt: 0 })
    const text = await metrics.render()
    assert.equal(sample(text, 'wxmp_api_calls_total{path="/cgi-bin/message/custom/send",errcode="-1"}'), 1)
    assert.equal(sample(text, 'wxmp_api_calls_total{path="/cgi-bin/message/custom/send",errcode="no-answer"}'), 1)
    assert.equal(sample(text, 'wxmp_api_calls_total{path="/cgi-bin/message/custom/send",errcode="http-5xx"}'), 1)
    assert.equal(sample(text, 'wxmp_api_calls_total{path="/cgi-bin/message/custom/send",errcode="0"}'), 1)
    assert.equal(sample(text, 'wxmp_api_retries_total{path="/cgi-bin/message/custom/send"}'), 3)
    assert.equal(sample(text, 'wxmp_token_refreshes_total{result="ok",errcode=""}'), 1)
    assert.equal(sample(text, 'wxmp_token_refreshes_total{result="failed",errcode="40164"}'), 1)
    assert.ok(!text.includes('SECRET'), 'the query string (access_token) never becomes a label')
  })

  test('hostile API paths cannot grow the number of series', async () => {
    const metrics = new WxmpMetrics({ processMetrics: false })
    for (let i = 0; i < 500; i++) metrics.recordApiCall({ path: `/cgi-bin/x${i}`, errcode: 0, status: 200, attempt: 0 })
    metrics.recordApiCall({ path: '"}\n evil', errcode: 0, status: 200, attempt: 0 })
    const text = await metrics.render()
    const series = text.split('\n').filter((l) => l.startsWith('wxmp_api_calls_total{'))
    assert.ok(series.length <= 201, `${series.length} series`)
    assert.ok(sample(text, 'wxmp_api_calls_total{path="other",errcode="0"}')! >= 300)
  })

  test('gauges are read at scrape time, and process metrics are exported by default', async () => {
    let degraded = 0
    const metrics = new WxmpMetrics()
    metrics.gauge('store_degraded', 'store runs on its fallback', () => degraded)
    assert.equal(sample(await metrics.render(), 'wxmp_store_degraded'), 0)
    degraded = 1
    const text = await metrics.render()
    assert.equal(sample(text, 'wxmp_store_degraded'), 1)
    assert.match(text, /^wxmp_process_cpu_seconds_total /m)
    assert.match(metrics.contentType, /^text\/plain/)
  })
})
