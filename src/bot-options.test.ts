import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from './bot.js'
import { isWxmpError } from './errors.js'
import { signedRequest } from './testing/signed-request.js'
import { sampleXml } from './testing/samples.js'

const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

test('an EncodingAESKey without an AppID is refused at construction, naming the fix', () => {
  assert.throws(
    () => new Bot({ token: 't', encodingAESKey, logger: quiet }),
    (err) => isWxmpError(err, 'WX_ERR_CONFIG') && /appId.*required.*allowAnyAppId/.test(err.message),
  )
})

test('allowAnyAppId: true accepts ciphertexts of any AppID, on purpose', async () => {
  const bot = new Bot({ token: 't', encodingAESKey, allowAnyAppId: true, logger: quiet })
  bot.on('text', (ctx) => ctx.reply('ok'))
  const res = await bot.handle(signedRequest({ token: 't', encodingAESKey, appId: 'wxSomeOtherAccount01', mode: 'safe', xml: sampleXml('text', { Content: 'hi' }) }))
  assert.equal(res.status, 200)
  // and with an AppID, another account's ciphertext is refused
  const strict = new Bot({ token: 't', encodingAESKey, appId: 'wx1234567890abcdef', logger: quiet })
  const refused = await strict.handle(signedRequest({ token: 't', encodingAESKey, appId: 'wxSomeOtherAccount01', mode: 'safe', xml: sampleXml('text', { Content: 'hi' }) }))
  // one answer for every failure behind msg_signature (no decryption oracle); the log names the AppID
  assert.equal(refused.status, 400)
  assert.equal(refused.body, 'WX_ERR_DECRYPT_FAILED\n')
})

test('options from process.env may be undefined (exactOptionalPropertyTypes users pass them as they are)', () => {
  const env: Record<string, string | undefined> = {}
  const bot = new Bot({ token: 't', appId: env.WECHAT_APPID, appSecret: env.WECHAT_APPSECRET, encodingAESKey: env.WECHAT_AES_KEY, interim: env.WECHAT_INTERIM, logger: quiet })
  assert.equal(bot.apiConfigured, false)
})
