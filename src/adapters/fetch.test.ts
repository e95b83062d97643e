import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { wechatFetch } from './fetch.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { adapterSuite, echoBot, MAX_BODY, settle, TOKEN } from '../../test/support/adapter-suite.js'

const base = 'http://localhost'

describe('fetch: wechatFetch(bot) called with a standard Request', () => {
  adapterSuite(
    async (bot) => {
      const handle = wechatFetch(bot, { remoteAddress: () => '203.0.113.9' })
      return { fetch: (path, init) => handle(new Request(base + path, init)), close: async () => {} }
    },
    { path: '/wechat', allMethods: true, remoteAddress: /^203\.0\.113\.9$/ },
  )
})

describe("Hono: app.all('/wechat', (c) => handle(c.req.raw, c)) driven by app.request()", () => {
  adapterSuite(
    async (bot) => {
      const handle = wechatFetch(bot, { remoteAddress: (_req, c) => c.req.header('x-test-remote') ?? '198.51.100.7' })
      const app = new Hono()
      app.all('/wechat', (c) => handle(c.req.raw, c))
      return { fetch: async (path, init) => app.request(path, init), close: async () => {} }
    },
    { path: '/wechat', allMethods: true, remoteAddress: /^198\.51\.100\.7$/ },
  )

  test('a middleware that already read the body: 400 WX_ERR_BODY_NOT_RAW with the hint in the log', async () => {
    const { bot, logger } = echoBot()
    const handle = wechatFetch(bot)
    const app = new Hono()
    app.use(async (c, next) => {
      await c.req.text()
      await next()
    })
    app.post('/wechat', (c) => handle(c.req.raw))
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text') })
    const res = await settle(await app.request('/wechat' + req.search, { method: 'POST', body: req.body }))
    assert.deepEqual([res.status, res.body], [400, 'WX_ERR_BODY_NOT_RAW\n'])
    assert.match(String(logger.lines.find((l) => l.obj.code === 'WX_ERR_BODY_NOT_RAW')?.obj.err), /mount wxmp before it/)
  })
})

describe('fetch: hostile bodies', () => {
  test('a Content-Length above maxBodyBytes is 413 before a byte of the body is read', async () => {
    const { bot } = echoBot()
    let pulled = false
    const body = new ReadableStream<Uint8Array>({
      pull() {
        pulled = true
        throw new Error('the body must not be read')
      },
    }, { highWaterMark: 0 }) // pulls only when someone reads
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text') })
    const request = new Request(base + '/wechat' + req.search, { method: 'POST', body, headers: { 'content-length': String(MAX_BODY + 1) }, duplex: 'half' } as RequestInit)
    const res = await settle(await wechatFetch(bot)(request))
    assert.deepEqual([res.status, res.body, pulled], [413, 'WX_ERR_BODY_TOO_LARGE\n', false])
  })

  test('a body stream that fails mid-read is 400 WX_ERR_BODY_EMPTY, not a thrown error', async () => {
    const { bot, logger } = echoBot()
    let sent = false
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error('connection reset'))
        sent = true
        controller.enqueue(new TextEncoder().encode('<xml>'))
      },
    })
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text') })
    const res = await settle(await wechatFetch(bot)(new Request(base + '/wechat' + req.search, { method: 'POST', body, duplex: 'half' } as RequestInit)))
    assert.deepEqual([res.status, res.body], [400, 'WX_ERR_BODY_EMPTY\n'])
    assert.match(String(logger.lines.find((l) => l.obj.code === 'WX_ERR_BODY_EMPTY')?.obj.err), /connection reset/)
  })

  test('a body just under the limit is read whole and answered', async () => {
    const { bot } = echoBot({ maxBodyBytes: 64 * 1024 })
    const content = 'z'.repeat(60 * 1024)
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: content }) })
    const res = await settle(await wechatFetch(bot)(new Request(base + '/wechat' + req.search, { method: 'POST', body: req.body })))
    // the echo is longer than one passive reply: its first page comes back, and the page count says the whole body was read
    const first = String(readReply(res, { token: TOKEN }).reply?.Content)
    const [, page, left] = /^(z+)\n（回复"继续"查看剩余 (\d+) 页）$/.exec(first) ?? []
    assert.ok(page !== undefined && content.startsWith(page), first.slice(-40))
    assert.equal(Number(left), Math.ceil(content.length / page.length) - 1)
  })
})
