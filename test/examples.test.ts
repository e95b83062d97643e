import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
// the examples import the package by name (as a user's project does): so does this test
import { Bot } from 'wxmp'
import { readReply, sampleXml, signedRequest } from 'wxmp/testing'
import { formBot, type FormContext } from '../examples/form-session.js'
import { createBot } from '../examples/frameworks/bot.js'
import { createApp as expressApp } from '../examples/frameworks/express.js'
import { createApp as koaApp } from '../examples/frameworks/koa.js'
import { createApp as fastifyApp } from '../examples/frameworks/fastify.js'
import { createApp as honoApp } from '../examples/frameworks/hono.js'

const token = 'exampletoken'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

test('the two-question form example walks a user through both questions', async () => {
  const bot = new Bot<FormContext>({ token, logger: quiet })
  formBot(bot)
  const say = async (text: string, openid = 'oForm') =>
    readReply(await bot.handle(signedRequest({ token, xml: sampleXml('text', { Content: text }, { openid }) })), { token }).reply?.Content
  assert.equal(await say('你好'), '发送「报名」开始登记。')
  assert.equal(await say('报名'), '请问您的姓名？')
  assert.equal(await say('张三', 'oOther'), '发送「报名」开始登记。')
  assert.equal(await say('张三'), '张三，您在哪个城市？')
  assert.equal(await say('广州'), '已登记：张三，广州。谢谢！')
  assert.equal(await say('再来'), '发送「报名」开始登记。')
})

const frameworkToken = 'example-token'

/** WeChat's POST of a text message to `base`/wechat; returns what the user would read. */
async function ask(base: string, text: string): Promise<string | undefined> {
  const req = signedRequest({ token: frameworkToken, xml: sampleXml('text', { Content: text }) })
  const res = await fetch(`${base}/wechat${req.search}`, { method: 'POST', body: req.body as string, headers: { 'content-type': 'text/xml' } })
  return readReply({ status: res.status, body: await res.text() }, { token: frameworkToken }).reply?.Content
}

async function listening(listener: Parameters<typeof createServer>[1]): Promise<{ base: string; close: () => Promise<void> }> {
  const server = createServer(listener).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

test('the Express example answers WeChat', async () => {
  const app = await listening(expressApp(createBot({ WECHAT_TOKEN: frameworkToken })))
  try {
    assert.equal(await ask(app.base, '你好'), '你说：你好')
  } finally {
    await app.close()
  }
})

test('the Koa example answers WeChat', async () => {
  const app = await listening(koaApp(createBot({ WECHAT_TOKEN: frameworkToken })).callback())
  try {
    assert.equal(await ask(app.base, '你好'), '你说：你好')
  } finally {
    await app.close()
  }
})

test('the Fastify example answers WeChat', async () => {
  const app = await fastifyApp(createBot({ WECHAT_TOKEN: frameworkToken }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    assert.equal(await ask(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, '你好'), '你说：你好')
  } finally {
    await app.close()
  }
})

test('the Hono example answers WeChat through app.fetch', async () => {
  const app = honoApp(createBot({ WECHAT_TOKEN: frameworkToken }))
  const req = signedRequest({ token: frameworkToken, xml: sampleXml('text', { Content: '你好' }) })
  const res = await app.fetch(new Request(`http://localhost/wechat${req.search}`, { method: 'POST', body: req.body as string }))
  assert.equal(readReply({ status: res.status, body: await res.text() }, { token: frameworkToken }).reply?.Content, '你说：你好')
})
