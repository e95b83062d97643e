import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from './bot.js'
import type { RequestOutcome } from './bot.js'
import { readReply, signedRequest, verificationRequest } from './testing/signed-request.js'
import { sampleXml } from './testing/samples.js'
import { sha1Sorted } from './pipeline/signature.js'
import type { Logger } from './logger.js'
import type { Reply } from './reply/types.js'

const token = 'testtoken'

/** A logger that keeps lines, to prove rejections are logged precisely. */
function memoryLogger(lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = []): Logger & { lines: typeof lines } {
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: (obj, msg) => lines.push({ level: 'debug', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    info: (obj, msg) => lines.push({ level: 'info', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    error: (obj, msg) => lines.push({ level: 'error', obj: { ...bindings, ...obj }, ...(msg ? { msg } : {}) }),
    child: (more) => make({ ...bindings, ...more }),
  })
  return Object.assign(make({}), { lines })
}

function echoBot(extra: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const logger = memoryLogger()
  const bot = new Bot({ token, logger, ...extra })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  return { bot, logger }
}

describe('URL verification (GET)', () => {
  test('echoes echostr byte-exact when the signature is right', async () => {
    const { bot } = echoBot()
    const req = verificationRequest({ token, echostr: '8641591277801631551' })
    const res = await bot.handle(req)
    assert.equal(res.status, 200)
    assert.equal(res.body, '8641591277801631551')
  })
  test('the real captured verification passes with the window disabled', async () => {
    const bot = new Bot({ token: 'GreedIsGood', timestampToleranceSec: 0, logger: memoryLogger() })
    const res = await bot.handle({ method: 'GET', query: { signature: '37cc4891f809493628677ae2b592e63c938c0b03', timestamp: '1668869433', nonce: '977789310', echostr: '8641591277801631551' } })
    assert.deepEqual([res.status, res.body], [200, '8641591277801631551'])
  })
  test('a forged signature is 401 with the code in the log, never the echostr', async () => {
    const { bot, logger } = echoBot()
    const req = verificationRequest({ token: 'other', echostr: 'e' })
    const res = await bot.handle(req)
    assert.equal(res.status, 401)
    assert.notEqual(res.body, 'e')
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.code === 'WX_ERR_SIGNATURE_INVALID'))
  })
})

describe('messages (POST)', () => {
  test('the echo bot answers text with the same text, To/From swapped, CreateTime in seconds', async () => {
    const now = 1_700_000_000_000
    const { bot } = echoBot({ now: () => now })
    const req = signedRequest({ token, xml: sampleXml('text', { Content: 'hi ]]> <b>&' }, { openid: 'oUser', account: 'gh_acc', createTime: now / 1000 }), timestamp: String(now / 1000) })
    const { reply } = readReply(await bot.handle(req), { token })
    assert.deepEqual(reply, { ToUserName: 'oUser', FromUserName: 'gh_acc', CreateTime: String(now / 1000), MsgType: 'text', Content: 'hi ]]> <b>&' })
  })

  test('a message nobody handles is answered "success"', async () => {
    const { bot } = echoBot()
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('image') }))
    assert.deepEqual([res.status, res.body], [200, 'success'])
  })

  test('signature is verified on POST too, and the timestamp window applies', async () => {
    const { bot } = echoBot()
    const forged = signedRequest({ token: 'nottoken', xml: sampleXml('text') })
    assert.equal((await bot.handle(forged)).status, 401)
    const stale = signedRequest({ token, xml: sampleXml('text'), timestamp: String(Math.floor(Date.now() / 1000) - 3600) })
    assert.equal((await bot.handle(stale)).status, 403)
    const missing = signedRequest({ token, xml: sampleXml('text') })
    delete (missing.query as Record<string, string | undefined>).signature
    assert.equal((await bot.handle(missing)).status, 401)
  })

  test('the same query string with a different body is rejected; an identical redelivery gets the same reply', async () => {
    let runs = 0
    const bot = new Bot({ token, logger: memoryLogger() })
    bot.on('text', (ctx) => {
      runs++
      return ctx.reply(`run ${runs}`)
    })
    const req = signedRequest({ token, xml: sampleXml('text', { Content: 'a' }) })
    const first = await bot.handle(req)
    const retry = await bot.handle({ ...req })
    assert.equal(retry.body, first.body)
    assert.equal(runs, 1)
    const forged = await bot.handle({ ...req, body: sampleXml('text', { Content: 'forged' }) })
    assert.equal(forged.status, 403)
    assert.equal(runs, 1)
  })

  test('a retry that arrives while the first delivery runs waits and gets the same reply; the handler runs once', async () => {
    let runs = 0
    const bot = new Bot({ token, logger: memoryLogger() })
    bot.on('text', async (ctx) => {
      runs++
      await new Promise((r) => setTimeout(r, 100))
      await ctx.reply('slow answer')
    })
    const xml = sampleXml('text')
    const [a, b] = await Promise.all([bot.handle(signedRequest({ token, xml })), bot.handle(signedRequest({ token, xml }))])
    assert.equal(runs, 1)
    assert.equal(a.body, b.body)
    assert.equal(readReply(a, { token }).reply?.Content, 'slow answer')
  })

  test('hostile and malformed bodies get their 4xx codes', async () => {
    const { bot } = echoBot()
    const cases: Array<[string | Buffer, number, string]> = [
      ['<!DOCTYPE x [<!ENTITY a "b">]><xml><A>&a;</A></xml>', 400, 'WX_ERR_XML_DOCTYPE'],
      ['<xml><ToUserName>', 400, 'WX_ERR_XML_MALFORMED'],
      ['not xml', 400, 'WX_ERR_XML_MALFORMED'],
      [Buffer.from([0x3c, 0x78, 0xff, 0xfe]), 400, 'WX_ERR_XML_MALFORMED'],
      ['<xml><MsgType>text</MsgType></xml>', 400, 'WX_ERR_MESSAGE_INVALID'],
      [Buffer.alloc(0), 400, 'WX_ERR_BODY_EMPTY'],
    ]
    for (const [body, status, code] of cases) {
      const req = signedRequest({ token, xml: sampleXml('text') })
      const nonce = String(Math.random()).slice(2)
      const query = { ...req.query, nonce, signature: sha1Sorted([token, req.query.timestamp!, nonce]) }
      const res = await bot.handle({ ...req, query, body })
      assert.equal(res.status, status, String(body))
      assert.equal(res.body, `${code}\n`)
    }
  })

  test('a body over the limit is 413; a parsed body is refused with a hint', async () => {
    const { bot, logger } = echoBot({ maxBodyBytes: 100 })
    const big = signedRequest({ token, xml: sampleXml('text', { Content: 'x'.repeat(200) }) })
    assert.equal((await bot.handle(big)).status, 413)
    const parsed = await bot.handle({ ...signedRequest({ token, xml: sampleXml('text') }), body: { xml: {} } as unknown as string })
    assert.equal(parsed.status, 400)
    assert.ok(logger.lines.some((l) => l.obj.code === 'WX_ERR_BODY_NOT_RAW' && /body parser/.test(String(l.obj.err))))
  })

  test('PUT is 405 with Allow', async () => {
    const { bot } = echoBot()
    const res = await bot.handle({ ...signedRequest({ token, xml: sampleXml('text') }), method: 'PUT' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.allow, 'GET, POST')
  })
})

describe('handlers', () => {
  test('a handler that throws is logged with the message id and WeChat gets "success"', async () => {
    const logger = memoryLogger()
    const bot = new Bot({ token, logger })
    bot.on('text', () => {
      throw new Error('boom')
    })
    const xml = sampleXml('text', {}, { msgId: '6054768590064713728' })
    const res = await bot.handle(signedRequest({ token, xml }))
    assert.deepEqual([res.status, res.body], [200, 'success'])
    const line = logger.lines.find((l) => l.obj.code === 'WX_ERR_HANDLER')
    assert.equal(line?.obj.msgId, '6054768590064713728')
  })

  test('bot.catch replaces the default handler error logging', async () => {
    const bot = new Bot({ token, logger: memoryLogger() })
    const seen: unknown[] = []
    bot.catch((err) => seen.push(err))
    bot.use(() => {
      throw new Error('x')
    })
    await bot.handle(signedRequest({ token, xml: sampleXml('text') }))
    assert.equal(seen.length, 1)
  })

  test('a reply that breaks a documented limit is logged and WeChat gets "success", not broken XML', async () => {
    const logger = memoryLogger()
    const bot = new Bot({ token, logger })
    bot.on('text', (ctx) => ctx.replyNews([{ title: 'a' }, { title: 'b' }]))
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('text') }))
    assert.equal(res.body, 'success')
    assert.ok(logger.lines.some((l) => l.level === 'error' && l.obj.code === 'WX_ERR_REPLY_INVALID'))
  })

  test('every reply type serialises to the documented XML', async () => {
    const replies: Reply[] = [
      { type: 'image', mediaId: 'm1' },
      { type: 'voice', mediaId: 'm2' },
      { type: 'video', mediaId: 'm3', title: 't', description: 'd' },
      { type: 'music', thumbMediaId: 'th', title: 't', musicUrl: 'http://m', hqMusicUrl: 'http://h' },
      { type: 'news', articles: [{ title: 'T', description: 'D', picUrl: 'http://p', url: 'http://u' }] },
      { type: 'transfer_customer_service', kfAccount: 'test1@test' },
      { type: 'transfer_customer_service' },
    ]
    for (const r of replies) {
      const bot = new Bot({ token, logger: memoryLogger() })
      bot.on('event:CLICK', (ctx) => ctx.reply(r))
      const { reply } = readReply(await bot.handle(signedRequest({ token, xml: sampleXml('event:CLICK') })), { token })
      assert.equal(reply?.MsgType, r.type)
    }
    const bot = new Bot({ token, logger: memoryLogger() })
    bot.on('event:CLICK', (ctx) => ctx.reply({ type: 'news', articles: [{ title: 'T', url: 'http://u' }] }))
    const { reply } = readReply(await bot.handle(signedRequest({ token, xml: sampleXml('event:CLICK') })), { token })
    assert.deepEqual(reply?.Articles, { item: { Title: 'T', Url: 'http://u' } })
    assert.equal(reply?.ArticleCount, '1')
  })

  test('routing: hears, click, scan with qrscene_, event by name, nested composers', async () => {
    const bot = new Bot({ token, logger: memoryLogger() })
    bot.hears(/^help$/i, (ctx) => ctx.reply('help!'))
    bot.click('V1001_TODAY_MUSIC', (ctx) => ctx.reply(`clicked ${ctx.match}`))
    bot.scan(undefined, (ctx) => ctx.reply(`scene ${ctx.scene}`))
    bot.on('event:subscribe', (ctx) => ctx.reply('欢迎关注'))
    bot.event('user_get_card', (ctx) => ctx.reply('card'))
    const admin = bot.filter((ctx) => ctx.openid === 'oAdmin')
    admin.on('text', (ctx) => ctx.reply('admin'))
    const reply = async (xml: string) => readReply(await bot.handle(signedRequest({ token, xml })), { token }).reply?.Content
    assert.equal(await reply(sampleXml('text', { Content: 'HELP' })), 'help!')
    assert.equal(await reply(sampleXml('event:CLICK')), 'clicked V1001_TODAY_MUSIC')
    assert.equal(await reply(sampleXml('event:subscribe', { EventKey: 'qrscene_123', Ticket: 'T' })), 'scene 123')
    assert.equal(await reply(sampleXml('event:SCAN', { EventKey: '456' })), 'scene 456')
    assert.equal(await reply(sampleXml('event:subscribe')), '欢迎关注')
    assert.equal(await reply('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>user_get_card</Event></xml>'), 'card')
    assert.equal(await reply(sampleXml('text', { Content: 'x' }, { openid: 'oAdmin' })), 'admin')
    assert.equal(await reply(sampleXml('text', { Content: 'x' }, { openid: 'oOther' })), undefined)
  })

  test('an unknown filter fails at startup, not silently', () => {
    const bot = new Bot({ token, logger: memoryLogger() })
    assert.throws(() => bot.on('event:click' as 'event:CLICK', () => {}), /unknown filter/)
  })

  test('a second passive reply is refused with a hint to use send()', async () => {
    const bot = new Bot({ token, logger: memoryLogger() })
    const errors: unknown[] = []
    bot.catch((err) => errors.push(err))
    bot.on('text', async (ctx) => {
      await ctx.reply('one')
      await ctx.reply('two')
    })
    const { reply } = readReply(await bot.handle(signedRequest({ token, xml: sampleXml('text') })), { token })
    assert.equal(reply?.Content, 'one')
    await bot.drain() // the handler goes on after the answer went out
    assert.match(String(errors[0]), /ctx\.send/)
  })

  test('a handler slower than the deadline: WeChat gets "success" in time, the late reply goes through the customer-service API', async () => {
    const sent: Array<[string, Reply]> = []
    const outcomes: RequestOutcome[] = []
    const bot = new Bot({ token, logger: memoryLogger(), replyTimeoutMs: 50 })
    bot.setApiFactory(() => ({ customerService: { sendReply: async (openid: string, r: Reply) => void sent.push([openid, r]) } }))
    bot.onOutcome((o) => outcomes.push(o))
    bot.on('text', async (ctx) => {
      await new Promise((r) => setTimeout(r, 150))
      await ctx.reply('late answer')
    })
    const res = await bot.handle(signedRequest({ token, xml: sampleXml('text', {}, { openid: 'oSlow' }) }))
    assert.equal(res.body, 'success')
    assert.equal(outcomes[0]?.kind, 'deadline')
    assert.equal(sent.length, 0)
    assert.ok(await bot.drain(2000))
    assert.deepEqual(sent, [['oSlow', { type: 'text', content: 'late answer' }]])
  })

  test('bad options fail at construction naming the field', () => {
    assert.throws(() => new Bot({ token: ' tok' }), /token: has leading or trailing whitespace/)
    assert.throws(() => new Bot({ token: 't', appId: 'gh_de0f036ce08f' }), /appId: .*原始ID/)
    assert.throws(() => new Bot({ token: 't', replyTimeoutMs: 6000 }), /replyTimeoutMs/)
    assert.throws(() => new Bot({ token: 't', requireEncryption: true }), /requireEncryption/)
  })
})
