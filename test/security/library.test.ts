/**
 * The same protections for a library user who runs `serve()` (or any adapter) on their own:
 * options of the Bot, no server configuration involved.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { Bot, RejectionLog, SourceRateLimit } from '../../src/index.js'
import { serve } from '../../src/adapters/node.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { keepingLogger } from './support.js'

function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'text/xml', ...headers }, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test('new Bot({ rateLimit, trustedProxies, rejectionLogger }) behind serve(): junk is limited apart, lines are summarised, the client is named', async () => {
  const logger = keepingLogger()
  const rejections = new RejectionLog({ logger, perCode: 2 })
  const bot = new Bot({ token: 'libToken', logger, rateLimit: new SourceRateLimit({ perMinute: 3 }), trustedProxies: ['127.0.0.1'], rejectionLogger: rejections })
  bot.on('text', (ctx) => ctx.reply('ok'))
  const server = await serve(bot, { port: 0, host: '127.0.0.1' })
  try {
    const from = { 'x-forwarded-for': '203.0.113.9' }
    const junk = []
    for (let i = 0; i < 6; i++) junk.push(await post(`${server.url}?signature=${'0'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=${i}`, '<xml/>', from))
    assert.deepEqual(junk, [401, 401, 401, 429, 429, 429])
    for (let i = 0; i < 3; i++) {
      const req = signedRequest({ token: 'libToken', xml: sampleXml('text') })
      assert.equal(await post(server.url + req.search, req.body, from), 200)
    }
    const lines = logger.lines.filter((l) => l.obj.code === 'WX_ERR_SIGNATURE_INVALID')
    assert.equal(lines.length, 2, 'two in full, the third summarised')
    assert.equal(lines[0]?.obj.remote, '203.0.113.9')
  } finally {
    await server.close()
    rejections.close()
  }
  assert.ok(logger.lines.some((l) => l.obj.rejected === 1))
})
