import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import { wechatFastify } from './fastify.js'
import { isWxmpError } from '../errors.js'
import { readReply, signedRequest, verificationRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { adapterSuite, echoBot, post, settle, TOKEN, type Driver } from '../../test/support/adapter-suite.js'

async function fastifyDriver(app: FastifyInstance): Promise<Driver> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    fetch: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
    close: () => app.close(),
  }
}

describe("Fastify: app.register(wechatFastify(bot, { path: '/wechat' }))", () => {
  adapterSuite(
    async (bot) => {
      const app = Fastify()
      await app.register(wechatFastify(bot, { path: '/wechat' }))
      return fastifyDriver(app)
    },
    { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ },
  )
})

describe('Fastify: encapsulation and options', () => {
  test("the app's other routes keep Fastify's JSON parser", async () => {
    const { bot } = echoBot()
    const app = Fastify()
    app.post('/json', async (request) => ({ got: request.body }))
    await app.register(wechatFastify(bot))
    const driver = await fastifyDriver(app)
    try {
      const res = await driver.fetch('/json', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
      assert.deepEqual(await res.json(), { got: { a: 1 } })
      const reply = await settle(await post(driver, '/wechat', signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'beside json' }) })))
      assert.equal(readReply(reply, { token: TOKEN }).reply?.Content, 'beside json')
    } finally {
      await driver.close()
    }
  })

  test('registered with a prefix, the webhook answers under it', async () => {
    const { bot } = echoBot()
    const app = Fastify()
    await app.register(wechatFastify(bot, { path: '/wechat' }), { prefix: '/hooks' })
    const driver = await fastifyDriver(app)
    try {
      const res = await driver.fetch('/hooks/wechat' + verificationRequest({ token: TOKEN, echostr: 'prefixed' }).search)
      assert.equal(await res.text(), 'prefixed')
    } finally {
      await driver.close()
    }
  })

  test('HEAD URL check is answered by the core (200, no body)', async () => {
    const { bot, outcomes } = echoBot()
    const app = Fastify()
    await app.register(wechatFastify(bot))
    const driver = await fastifyDriver(app)
    try {
      const res = await settle(await driver.fetch('/wechat' + verificationRequest({ token: TOKEN, echostr: 'h' }).search, { method: 'HEAD' }))
      assert.deepEqual([res.status, res.body, outcomes[0]?.kind], [200, '', 'verified'])
    } finally {
      await driver.close()
    }
  })

  test('a path without a leading slash fails when the plugin is made', () => {
    const { bot } = echoBot()
    assert.throws(() => wechatFastify(bot, { path: 'wechat' }), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && /must start with '\/'/.test(err.message))
  })
})
