import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import { wechatExpress } from './express.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { abortMidUpload, adapterSuite, echoBot, listen, MAX_BODY, post, settle, TOKEN } from '../../test/support/adapter-suite.js'

// Express 4 is installed under the alias `express4`; its API is the same for what we use.
const express4 = ((await import('express4' as string)) as { default: typeof express }).default

for (const [name, framework] of [['Express 5', express], ['Express 4', express4]] as const) {
  describe(`${name}: app.all('/wechat', wechatExpress(bot))`, () => {
    adapterSuite(
      async (bot) => {
        const app = framework()
        app.all('/wechat', wechatExpress(bot))
        return listen(app)
      },
      { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ },
    )
  })

  describe(`${name}: body parsers mounted before wxmp`, () => {
    const working: Array<[string, () => express.RequestHandler]> = [
      ['express.json() (skips text/xml, leaves the stream unread)', () => framework.json()],
      ['express.urlencoded() (skips text/xml, leaves the stream unread)', () => framework.urlencoded({ extended: false })],
      ["express.text({ type: '*/*' }) (a string body)", () => framework.text({ type: '*/*' })],
      ["express.raw({ type: '*/*' }) (a Buffer body)", () => framework.raw({ type: '*/*' })],
    ]
    for (const [label, parser] of working) {
      test(`${label}: the echo still works`, async () => {
        const { bot } = echoBot()
        const driver = await listen(framework().use(parser()).post('/wechat', wechatExpress(bot)))
        try {
          const res = await settle(await post(driver, '/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'parsed?' }) })))
          assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'parsed?')
        } finally {
          await driver.close()
        }
      })
    }

    test("express.urlencoded({ type: '*/*' }) turned the XML into an object: 400 WX_ERR_BODY_NOT_RAW with the hint in the log", async () => {
      const { bot, logger } = echoBot()
      const driver = await listen(framework().use(framework.urlencoded({ type: '*/*', extended: false })).post('/wechat', wechatExpress(bot)))
      try {
        const res = await settle(await post(driver, '/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text') })))
        assert.deepEqual([res.status, res.body], [400, 'WX_ERR_BODY_NOT_RAW\n'])
        const line = logger.lines.find((l) => l.obj.code === 'WX_ERR_BODY_NOT_RAW')
        assert.match(String(line?.obj.err), /mount wxmp before it/)
      } finally {
        await driver.close()
      }
    })

    test("a string body from express.text({ type: '*/*' }) is still held to maxBodyBytes (413)", async () => {
      const { bot } = echoBot()
      const driver = await listen(framework().use(framework.text({ type: '*/*' })).post('/wechat', wechatExpress(bot)))
      try {
        const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'x'.repeat(MAX_BODY) }) })
        const res = await settle(await post(driver, '/wechat', req))
        assert.deepEqual([res.status, res.body], [413, 'WX_ERR_BODY_TOO_LARGE\n'])
      } finally {
        await driver.close()
      }
    })
  })

  describe(`${name}: routing`, () => {
    test('app.get + app.post on the same path, behind a router mounted at /hooks', async () => {
      const { bot } = echoBot()
      const router = framework.Router()
      router.get('/wechat', wechatExpress(bot))
      router.post('/wechat', wechatExpress(bot))
      const driver = await listen(framework().use('/hooks', router))
      try {
        const res = await settle(await post(driver, '/hooks/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'routed' }) })))
        assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'routed')
      } finally {
        await driver.close()
      }
    })

    test('a client that hangs up mid-upload leaves the server up and the core logs the failed read', async () => {
      const { bot, outcomes } = echoBot()
      let arrived!: () => void
      const arrival = new Promise<void>((resolve) => (arrived = resolve))
      const app = framework()
      app.use((_req, _res, next) => {
        arrived()
        next()
      })
      app.post('/wechat', wechatExpress(bot))
      const driver = await listen(app)
      try {
        await abortMidUpload(driver, '/wechat', arrival, outcomes)
        assert.deepEqual(outcomes.map((o) => [o.kind, o.code]), [['rejected', 'WX_ERR_BODY_EMPTY']])
        const res = await settle(await post(driver, '/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'still up' }) })))
        assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'still up')
      } finally {
        await driver.close()
      }
    })
  })
}

