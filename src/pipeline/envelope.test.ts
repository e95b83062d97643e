import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { SAMPLE_KINDS, sampleXml } from '../testing/samples.js'
import { sha1Sorted } from './signature.js'
import type { Logger } from '../logger.js'

const token = 'spamtest'
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx2c2769f8efd9abc2'
const oldKey = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'
const codes: string[] = []
const logger: Logger = { debug() {}, info() {}, warn: (o: object) => void codes.push(String((o as { code?: string }).code)), error() {}, child: () => logger }

function safeBot(extra: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const bot = new Bot({ token, encodingAESKey, appId, logger, ...extra })
  bot.on('text', (ctx) => ctx.reply(`${ctx.request.encrypted ? 'enc' : 'plain'}:${ctx.message.Content}`))
  bot.on('event', (ctx) => ctx.reply(`event ${ctx.event}`))
  return bot
}

describe('safe and compatible mode', () => {
  for (const mode of ['safe', 'compat'] as const) {
    test(`${mode} mode: every message and event type is verified, decrypted, routed and answered encrypted`, async () => {
      const bot = safeBot()
      for (const kind of SAMPLE_KINDS) {
        const req = signedRequest({ token, encodingAESKey, appId, mode, xml: sampleXml(kind, { Content: '你好 ]]> 😀' }) })
        const res = await bot.handle(req)
        assert.equal(res.status, 200, kind)
        const read = readReply(res, { token, encodingAESKey, appId })
        if (kind === 'text') {
          assert.equal(read.encrypted, true)
          assert.equal(read.reply?.Content, 'enc:你好 ]]> 😀')
        } else if (kind.startsWith('event:')) {
          assert.equal(read.reply?.Content, `event ${kind.slice(6)}`)
        } else assert.equal(read.noReply, true)
      }
    })
  }

  test('compatible mode trusts the decrypted copy, not the unauthenticated plaintext fields', async () => {
    const bot = safeBot()
    const req = signedRequest({ token, encodingAESKey, appId, mode: 'compat', xml: sampleXml('text', { Content: 'real' }) })
    const tampered = { ...req, body: req.body.replace('<![CDATA[real]]>', '<![CDATA[forged]]>') }
    assert.equal(readReply(await bot.handle(tampered), { token, encodingAESKey, appId }).reply?.Content, 'enc:real')
  })

  test('plaintext keeps working unless encryption is required', async () => {
    const plain = signedRequest({ token, xml: sampleXml('text', { Content: 'p' }) })
    assert.equal(readReply(await safeBot().handle(plain), { token }).reply?.Content, 'plain:p')
    const strict = safeBot({ requireEncryption: true })
    assert.equal((await strict.handle(signedRequest({ token, xml: sampleXml('text') }))).status, 403)
  })

  test('each failure has its own code and status', async () => {
    const cases: Array<[string, () => ReturnType<typeof signedRequest>, Bot, number, string]> = []
    const enc = () => signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
    cases.push(['no key configured', enc, new Bot({ token, logger }), 400, 'WX_ERR_NO_AES_KEY'])
    cases.push(['msg_signature missing', () => {
      const r = enc()
      delete (r.query as Record<string, string | undefined>).msg_signature
      return r
    }, safeBot(), 401, 'WX_ERR_MSG_SIGNATURE_MISSING'])
    cases.push(['msg_signature wrong', () => {
      const r = enc()
      return { ...r, query: { ...r.query, msg_signature: sha1Sorted(['forged']) } }
    }, safeBot(), 401, 'WX_ERR_MSG_SIGNATURE_INVALID'])
    cases.push(['ciphertext for another AppID', () => signedRequest({ token, encodingAESKey, appId: 'wxb11529c136998cb6', mode: 'safe', xml: sampleXml('text') }), safeBot(), 403, 'WX_ERR_APPID_MISMATCH'])
    cases.push(['wrong key', () => signedRequest({ token, encodingAESKey: oldKey, appId, mode: 'safe', xml: sampleXml('text') }), safeBot(), 400, ''])
    cases.push(['unknown encrypt_type', () => {
      const r = enc()
      return { ...r, query: { ...r.query, encrypt_type: 'rsa' } }
    }, safeBot(), 400, 'WX_ERR_ENCRYPT_TYPE_UNKNOWN'])
    cases.push(['no Encrypt element', () => {
      const r = enc()
      return { ...r, body: '<xml><ToUserName>gh</ToUserName></xml>' }
    }, safeBot(), 400, 'WX_ERR_ENCRYPT_MISSING'])
    for (const [name, make, bot, status, code] of cases) {
      codes.length = 0
      const res = await bot.handle(make())
      assert.equal(res.status, status, name)
      if (code !== '') assert.equal(res.body, `${code}\n`, name)
      if (name === 'wrong key') assert.match(res.body, /^WX_ERR_DECRYPT_/)
    }
  })

  test('a body altered after signing fails msg_signature', async () => {
    const r = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
    const other = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text', { Content: 'x' }) })
    const nonce = '42'
    const query = { ...r.query, nonce, signature: sha1Sorted([token, r.query.timestamp!, nonce]) }
    const res = await safeBot().handle({ ...r, query, body: other.body })
    assert.equal(res.status, 401)
    assert.equal(res.body, 'WX_ERR_MSG_SIGNATURE_INVALID\n')
  })

  test('key rotation: a message under the previous EncodingAESKey still decrypts, with a warning', async () => {
    const bot = safeBot({ encodingAESKey: oldKey, previousEncodingAESKey: encodingAESKey })
    codes.length = 0
    const req = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text', { Content: 'old key' }) })
    const read = readReply(await bot.handle(req), { token, encodingAESKey: oldKey, appId })
    assert.equal(read.reply?.Content, 'enc:old key')
  })

  test('deterministic encryption with injected randomness and clock', async () => {
    const fixed = (n: number) => Buffer.alloc(n, 7)
    const make = () => {
      const bot = new Bot({ token, encodingAESKey, appId, logger, randomBytes: fixed, now: () => 1_409_735_669_000, timestampToleranceSec: 0 })
      bot.on('text', (ctx) => ctx.reply('same'))
      return bot
    }
    const xml = sampleXml('text', {}, { msgId: '1' })
    const one = await make().handle(signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml, timestamp: '1409735669', nonce: '1' }))
    const two = await make().handle(signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml, timestamp: '1409735669', nonce: '1' }))
    assert.equal(one.body, two.body)
  })
})
