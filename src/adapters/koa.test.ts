import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Koa from 'koa'
import bodyParser from 'koa-bodyparser'
import { wechatKoa } from './koa.js'
import { isWxmpError } from '../errors.js'
import { readReply, signedRequest, verificationRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { abortMidUpload, adapterSuite, echoBot, listen, post, settle, TOKEN, type Driver } from '../../test/support/adapter-suite.js'

function koaDriver(app: Koa): Promise<Driver> {
  return listen(app.callback())
}

async function echoes(driver: Driver, path: string, content: string): Promise<string | undefined> {
  const res = await settle(await post(driver, path, signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: content }) })))
  return String(readReply(res, { token: TOKEN }).reply?.Content)
}

describe("Koa: app.use(wechatKoa(bot, { path: '/wechat' }))", () => {
  adapterSuite(async (bot) => koaDriver(new Koa().use(wechatKoa(bot, { path: '/wechat' }))), { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ })
})

describe('Koa: paths', () => {
  test('other paths go to the next middleware; the webhook path with a trailing slash is answered', async () => {
    const { bot } = echoBot()
    const app = new Koa().use(wechatKoa(bot, { path: '/wechat' })).use((ctx) => {
      ctx.body = `next:${ctx.path}`
    })
    const driver = await koaDriver(app)
    try {
      assert.equal(await (await driver.fetch('/other')).text(), 'next:/other')
      assert.equal(await (await driver.fetch('/wechatx')).text(), 'next:/wechatx')
      assert.equal(await echoes(driver, '/wechat/', 'slash'), 'slash')
    } finally {
      await driver.close()
    }
  })

  test('without a path every request is the webhook (for a router route)', async () => {
    const { bot } = echoBot()
    const driver = await koaDriver(new Koa().use(wechatKoa(bot)))
    try {
      const res = await driver.fetch('/anything' + verificationRequest({ token: TOKEN, echostr: 'e1' }).search)
      assert.equal(await res.text(), 'e1')
    } finally {
      await driver.close()
    }
  })

  test('a path without a leading slash fails when the middleware is made', () => {
    const { bot } = echoBot()
    assert.throws(() => wechatKoa(bot, { path: 'wechat' }), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && /must start with '\/'/.test(err.message))
  })
})

describe('Koa: body parsers mounted before wxmp', () => {
  test('koa-bodyparser with its defaults (json, form) skips text/xml: the stream is read and the echo works', async () => {
    const { bot } = echoBot()
    const driver = await koaDriver(new Koa().use(bodyParser()).use(wechatKoa(bot, { path: '/wechat' })))
    try {
      assert.equal(await echoes(driver, '/wechat', 'default parser'), 'default parser')
    } finally {
      await driver.close()
    }
  })

  test("koa-bodyparser with enableTypes ['xml'] keeps ctx.request.rawBody: the echo works", async () => {
    const { bot } = echoBot()
    const driver = await koaDriver(new Koa().use(bodyParser({ enableTypes: ['xml'] })).use(wechatKoa(bot, { path: '/wechat' })))
    try {
      assert.equal(await echoes(driver, '/wechat', 'xml parser'), 'xml parser')
    } finally {
      await driver.close()
    }
  })

  test('koa-bodyparser parsing text/xml as a form still leaves rawBody: the echo works', async () => {
    const { bot } = echoBot()
    const driver = await koaDriver(new Koa().use(bodyParser({ extendTypes: { form: ['text/xml'] } })).use(wechatKoa(bot, { path: '/wechat' })))
    try {
      assert.equal(await echoes(driver, '/wechat', 'form parser'), 'form parser')
    } finally {
      await driver.close()
    }
  })

  test('a parser that consumed the stream into an object without rawBody: 400 WX_ERR_BODY_NOT_RAW with the hint in the log', async () => {
    const { bot, logger } = echoBot()
    const objectParser: Koa.Middleware = async (ctx, next) => {
      for await (const chunk of ctx.req) void chunk
      ;(ctx.request as { body?: unknown }).body = { parsed: true }
      await next()
    }
    const driver = await koaDriver(new Koa().use(objectParser).use(wechatKoa(bot, { path: '/wechat' })))
    try {
      const res = await settle(await post(driver, '/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text') })))
      assert.deepEqual([res.status, res.body], [400, 'WX_ERR_BODY_NOT_RAW\n'])
      assert.match(String(logger.lines.find((l) => l.obj.code === 'WX_ERR_BODY_NOT_RAW')?.obj.err), /mount wxmp before it/)
    } finally {
      await driver.close()
    }
  })
})

test('Koa: a client that hangs up mid-upload leaves the server up and the core logs the failed read', async () => {
  const { bot, outcomes } = echoBot()
  let arrived!: () => void
  const arrival = new Promise<void>((resolve) => (arrived = resolve))
  const app = new Koa()
    .use((_ctx, next) => {
      arrived()
      return next()
    })
    .use(wechatKoa(bot, { path: '/wechat' }))
  app.silent = true // Koa would print the socket's parse error; the core's outcome is what we check
  const driver = await koaDriver(app)
  try {
    await abortMidUpload(driver, '/wechat', arrival, outcomes)
    assert.deepEqual(outcomes.map((o) => [o.kind, o.code]), [['rejected', 'WX_ERR_BODY_EMPTY']])
    assert.equal(await echoes(driver, '/wechat', 'still up'), 'still up')
  } finally {
    await driver.close()
  }
})
