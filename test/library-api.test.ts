import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../src/bot.js'
import { startFakeWechat, FAKE_APP_ID, FAKE_APP_SECRET } from '../src/testing/fake-wechat/index.js'
import { signedRequest } from '../src/testing/signed-request.js'
import { sampleXml } from '../src/testing/samples.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

test('new Bot({ appId, appSecret }) gives ctx.api without further setup, and ctx.send reaches WeChat', async () => {
  const fake = await startFakeWechat()
  try {
    const errors: unknown[] = []
    const bot = new Bot({ token: 't', appId: FAKE_APP_ID, appSecret: FAKE_APP_SECRET, apiBaseUrl: fake.url, logger: quiet })
    bot.catch((err) => errors.push(err))
    bot.on('text', async (ctx) => {
      const sent = await ctx.send('pushed')
      if (sent.status !== 'sent') throw new Error(JSON.stringify(sent))
      await ctx.reply('passive')
    })
    const res = await bot.handle(signedRequest({ token: 't', xml: sampleXml('text', {}, { openid: 'oJqxQwYRyZMXFTc8sipB5TSe6Vw4' }) }))
    assert.deepEqual(errors, [])
    assert.match(res.body, /passive/)
    await bot.drain(2000)
    assert.ok(fake.sent.some((s) => JSON.stringify(s).includes('pushed')), JSON.stringify(fake.sent))
    assert.equal(typeof (await bot.api.token.get()), 'string')
  } finally {
    await fake.close()
  }
})

test('without credentials bot.api says which settings are missing', () => {
  const bot = new Bot({ token: 't', logger: quiet })
  assert.throws(() => bot.api, /WECHAT_APPID/)
})
