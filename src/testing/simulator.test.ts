import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bot } from '../bot.js'
import { serve } from '../adapters/node.js'
import { isWxmpError } from '../errors.js'
import { parseMessage } from '../messages/parse.js'
import { MessageCrypto } from '../pipeline/crypto.js'
import { sha1Sorted } from '../pipeline/signature.js'
import { parseXml, textOf } from '../xml/parse.js'
import { loadConfig } from '../server/config.js'
import { startServer, type WxmpServer } from '../server/app.js'
import { startFakeWechat, type FakeWechat } from './fake-wechat/index.js'
import { SAMPLE_KINDS, sampleXml } from './samples.js'
import { ERROR_BANNER, buildSimulatedMessage, simulate, verifyUrl, type SimulateResult } from './simulator.js'

const token = 'simtoken'
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx2c2769f8efd9abc2'

/** A bot on a real loopback server: echoes text, answers every event with its name, ignores the rest. */
async function botServer(options: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const bot = new Bot({ token, ...options })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  bot.on('event', (ctx) => ctx.reply(`event ${ctx.message.Event}`))
  const server = await serve(bot, { port: 0, host: '127.0.0.1' })
  return { bot, url: server.url, close: () => closeNow(server) }
}

/**
 * Closes a test server without waiting for idle keep-alive sockets: after an aborted request
 * fetch may leave a fresh, unused connection open that server.close() would wait ~4 s for.
 */
function closeNow(server: { server: import('node:http').Server; close(): Promise<void> }): Promise<void> {
  server.server.closeAllConnections()
  return server.close()
}

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** A plain HTTP server answering with `answer` (which may never answer), recording every request. */
async function rawServer(answer: (res: ServerResponse, seen: Seen) => void) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      seen.push(entry)
      answer(res, entry)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/wechat`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const answerWith =
  (status: number, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/plain' }) =>
  (res: ServerResponse) => {
    res.writeHead(status, headers)
    res.end(body)
  }

/** A port nothing listens on (bound and released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('simulate: round trips against a real bot server', () => {
  test('every sample kind is delivered once and judged: text and events get their reply, other messages no reply', async () => {
    const server = await botServer()
    after(server.close)
    for (const [i, kind] of SAMPLE_KINDS.entries()) {
      const xml = sampleXml(kind, kind === 'text' ? { Content: `hi ${i}` } : {}, { openid: `oSimUser${i}`, account: 'gh_sim' })
      const result = await simulate({ url: server.url, token, xml, timeoutMs: 3000 })
      assert.equal(result.attempts.length, 1, kind)
      assert.equal(result.attempts[0]?.status, 200, kind)
      if (kind === 'text') {
        assert.equal(result.final.kind, 'reply')
        assert.equal(result.userSaw, `hi ${i}`)
        assert.equal(result.attempts[0]?.outcome, 'reply')
        assert.equal(textOf(result.final.reply ?? {}, 'ToUserName'), `oSimUser${i}`)
        assert.deepEqual(result.warnings, [])
      } else if (kind.startsWith('event:')) {
        assert.equal(result.final.kind, 'reply', kind)
        assert.equal(result.userSaw, `event ${kind.slice(6)}`)
      } else {
        assert.equal(result.final.kind, 'no-reply', kind)
        assert.equal(result.userSaw, '(no reply)')
        assert.equal(result.attempts[0]?.outcome, 'no-reply')
      }
    }
  })

  test('safe mode: the body carries only ToUserName and Encrypt, the reply comes back encrypted and verified', async () => {
    const server = await botServer({ encodingAESKey, appId })
    after(server.close)
    const xml = sampleXml('text', { Content: '安全 ]]> <b>' }, { openid: 'oSafe' })
    const result = await simulate({ url: server.url, token, mode: 'safe', encodingAESKey, appId, xml, timeoutMs: 3000 })
    assert.deepEqual(Object.keys(parseXml(result.request.body)), ['ToUserName', 'Encrypt'])
    const query = new URL(result.request.url).searchParams
    assert.equal(query.get('encrypt_type'), 'aes')
    assert.match(query.get('msg_signature') ?? '', /^[0-9a-f]{40}$/)
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.final.encrypted, true)
    assert.equal(result.userSaw, '安全 ]]> <b>')
  })

  test('compatible mode: plaintext fields and Encrypt in one body, the reply is read', async () => {
    const server = await botServer({ encodingAESKey, appId })
    after(server.close)
    const xml = sampleXml('text', { Content: 'compat' }, { openid: 'oCompat' })
    const result = await simulate({ url: server.url, token, mode: 'compat', encodingAESKey, appId, xml, timeoutMs: 3000 })
    const body = parseXml(result.request.body)
    assert.equal(body.Content, 'compat')
    assert.equal(typeof body.Encrypt, 'string')
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.userSaw, 'compat')
  })

  test('a message encrypted for another AppID is refused by the server: error banner with the cause', async () => {
    const server = await botServer({ encodingAESKey, appId })
    after(server.close)
    const result = await simulate({ url: server.url, token, mode: 'safe', encodingAESKey, appId: 'wx0000000000000000', xml: sampleXml('text'), timeoutMs: 3000 })
    assert.equal(result.final.kind, 'error-banner')
    assert.equal(result.attempts.length, 1)
    assert.match(result.final.detail ?? '', /HTTP 400: WX_ERR_DECRYPT_FAILED/)
    assert.match(result.final.hint ?? '', /--appid/)
  })

  test('a wrong Token gets 401 from the server: the banner, no retry, and a hint about the Token', async () => {
    const server = await botServer()
    after(server.close)
    const result = await simulate({ url: server.url, token: 'other', xml: sampleXml('text'), timeoutMs: 3000 })
    assert.deepEqual(result.attempts.map((a) => [a.status, a.outcome]), [[401, 'http-error']])
    assert.equal(result.userSaw, ERROR_BANNER)
    assert.match(result.final.hint ?? '', /Token/)
  })
})

describe('simulate: the request is what WeChat sends', () => {
  test('POST with the observed headers, a valid signature over the query and the XML as the body', async () => {
    const server = await rawServer(answerWith(200, 'success'))
    after(server.close)
    const xml = sampleXml('text', { Content: 'hi' }, { openid: 'oHeaders' })
    const now = 1_700_000_123_456
    const result = await simulate({ url: server.url + '?keep=1', token, xml, now: () => now, timeoutMs: 3000 })
    const [req] = server.seen
    assert.ok(req)
    assert.equal(req.method, 'POST')
    assert.equal(req.headers['user-agent'], 'Mozilla/4.0')
    assert.equal(req.headers.accept, '*/*')
    assert.equal(req.headers.pragma, 'no-cache')
    assert.equal(req.headers.connection, 'close')
    assert.equal(req.headers['content-type'], 'text/xml')
    assert.equal(req.body, xml)
    const query = new URL(req.url, 'http://x').searchParams
    assert.equal(query.get('keep'), '1', 'a query already in the URL is kept')
    assert.equal(query.get('timestamp'), '1700000123')
    assert.equal(query.get('openid'), 'oHeaders')
    assert.equal(query.get('signature'), sha1Sorted([token, query.get('timestamp') ?? '', query.get('nonce') ?? '']))
    assert.equal(result.final.kind, 'no-reply')
  })
})

describe('simulate: WeChat retries only when nothing answers', () => {
  test('a server that never answers gets 3 attempts with the identical query string and body, then the banner', async () => {
    const server = await rawServer(() => {}) // holds every request open
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 200 })
    assert.deepEqual(result.attempts.map((a) => a.outcome), ['timeout', 'timeout', 'timeout'])
    assert.deepEqual(result.attempts.map((a) => a.n), [1, 2, 3])
    assert.equal(server.seen.length, 3)
    assert.equal(new Set(server.seen.map((s) => s.url)).size, 1, 'same query string')
    assert.equal(new Set(server.seen.map((s) => s.body)).size, 1, 'same body')
    assert.equal(result.final.kind, 'error-banner')
    assert.equal(result.userSaw, ERROR_BANNER)
    assert.match(result.final.hint ?? '', /success/)
  })

  test('a bot handler that hangs past the timeout: 3 timed-out attempts and the handler ran once', async () => {
    let runs = 0
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const server = await botServer({ late: 'drop' })
    server.bot.on('image', async (ctx) => {
      runs++
      await gate
      ctx.reply('late')
    })
    after(async () => {
      release()
      await server.close()
    })
    const result = await simulate({ url: server.url, token, xml: sampleXml('image'), timeoutMs: 200 })
    assert.equal(result.attempts.length, 3)
    assert.ok(result.attempts.every((a) => a.outcome === 'timeout'))
    assert.equal(runs, 1)
    assert.equal(result.final.kind, 'error-banner')
  })

  test('a handler slower than one attempt still reaches the user: the retry gets the first delivery\'s reply', async () => {
    const bot = new Bot({ token })
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let runs = 0
    bot.on('text', async (ctx) => {
      runs++
      await gate
      ctx.reply('worth the wait')
    })
    let deliveries = 0
    // the handler finishes only when WeChat's retry arrives: no timing guesswork
    const counting = {
      options: bot.options,
      handleError: bot.handleError.bind(bot),
      handle: (request: Parameters<typeof bot.handle>[0]) => {
        if (++deliveries === 2) release()
        return bot.handle(request)
      },
    }
    const server = await serve(counting, { port: 0, host: '127.0.0.1' })
    after(async () => {
      release()
      await closeNow(server)
    })
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 500 })
    assert.deepEqual(result.attempts.map((a) => a.outcome), ['timeout', 'reply'])
    assert.equal(result.userSaw, 'worth the wait')
    assert.equal(runs, 1)
  })

  test('connection refused is retried like a timeout, then the banner with "start the server"', async () => {
    const port = await closedPort()
    const result = await simulate({ url: `http://127.0.0.1:${port}/wechat`, token, xml: sampleXml('text'), timeoutMs: 1000 })
    assert.deepEqual(result.attempts.map((a) => a.outcome), ['network-error', 'network-error', 'network-error'])
    assert.match(result.attempts[0]?.detail ?? '', /ECONNREFUSED/)
    assert.equal(result.final.kind, 'error-banner')
    assert.match(result.final.hint ?? '', /start the server/)
  })

  test('attempts can be lowered (and are counted exactly)', async () => {
    const server = await rawServer(() => {})
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 150, attempts: 1 })
    assert.equal(result.attempts.length, 1)
    assert.equal(server.seen.length, 1)
  })

  test('HTTP 500 shows the banner at once: no retry', async () => {
    const server = await rawServer(answerWith(500, '<html><body>Internal Server Error</body></html>', { 'content-type': 'text/html' }))
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 3000 })
    assert.deepEqual(result.attempts.map((a) => [a.status, a.outcome]), [[500, 'http-error']])
    assert.equal(server.seen.length, 1)
    assert.equal(result.userSaw, ERROR_BANNER)
    assert.match(result.final.hint ?? '', /server's log/)
  })

  test('an HTML page with status 200 shows the banner at once: no retry', async () => {
    const server = await rawServer(answerWith(200, '<!DOCTYPE html><html><body>Welcome to nginx!</body></html>', { 'content-type': 'text/html' }))
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 3000 })
    assert.deepEqual(result.attempts.map((a) => [a.status, a.outcome]), [[200, 'invalid']])
    assert.equal(server.seen.length, 1)
    assert.equal(result.final.kind, 'error-banner')
    assert.match(result.final.hint ?? '', /HTML/)
  })

  test('a redirect is not followed: the banner, with a hint to configure the final URL', async () => {
    const server = await rawServer(answerWith(302, '', { location: 'https://example.com/wechat' }))
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: sampleXml('text'), timeoutMs: 3000 })
    assert.deepEqual(result.attempts.map((a) => [a.status, a.outcome]), [[302, 'http-error']])
    assert.match(result.final.hint ?? '', /redirect/)
  })
})

describe('simulate: answers judged as WeChat judges them', () => {
  const inbound = sampleXml('text', { Content: 'hi' }, { openid: 'oJudge', account: 'gh_judge' })
  const reply = (fields: string) => `<xml><ToUserName><![CDATA[oJudge]]></ToUserName><FromUserName><![CDATA[gh_judge]]></FromUserName><CreateTime>1700000000</CreateTime>${fields}</xml>`
  const crypto = new MessageCrypto({ token, encodingAESKey, appId })
  const encryptedReply = (xml: string, opts: { signature?: string; appId?: string } = {}) => {
    const encrypt = crypto.encrypt(xml, opts.appId)
    const signature = opts.signature ?? crypto.signature('1700000000', 'n1', encrypt)
    return `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature><TimeStamp>1700000000</TimeStamp><Nonce><![CDATA[n1]]></Nonce></xml>`
  }

  const cases: Array<{ name: string; body: string | Buffer; mode?: 'plain' | 'safe' | 'compat'; expect: 'reply' | 'no-reply' | 'invalid'; detail?: RegExp }> = [
    { name: 'success', body: 'success', expect: 'no-reply' },
    { name: 'a zero-byte body', body: '', expect: 'no-reply' },
    { name: 'a text reply', body: reply('<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content>'), expect: 'reply' },
    { name: 'an XML declaration before <xml>', body: '<?xml version="1.0" encoding="UTF-8"?>' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'reply' },
    { name: '"success" plus a newline', body: 'success\n', expect: 'invalid', detail: /exactly/ },
    { name: 'JSON', body: '{"errcode":0}', expect: 'invalid', detail: /not a reply XML/ },
    { name: 'a BOM before <xml>', body: '\uFEFF' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /byte-order mark/ },
    { name: 'a newline before <xml>', body: '\n' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /whitespace/ },
    { name: 'malformed XML', body: '<xml><MsgType>text</MsgType><Content>a & b</Content></xml>', expect: 'invalid', detail: /well-formed/ },
    { name: 'a reply without MsgType', body: reply('<Content>ok</Content>'), expect: 'invalid', detail: /MsgType/ },
    { name: 'an unknown MsgType', body: reply('<MsgType>markdown</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /not one WeChat can show/ },
    { name: 'a text reply without Content', body: reply('<MsgType>text</MsgType>'), expect: 'invalid', detail: /lacks <Content>/ },
    { name: 'an image reply without MediaId', body: reply('<MsgType>image</MsgType><Image></Image>'), expect: 'invalid', detail: /lacks <Image><MediaId>/ },
    { name: 'a news reply without articles', body: reply('<MsgType>news</MsgType><ArticleCount>0</ArticleCount>'), expect: 'invalid', detail: /Articles/ },
    { name: 'bytes that are not UTF-8', body: Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]), expect: 'invalid', detail: /UTF-8/ },
    { name: 'an encrypted reply to a plaintext request', body: encryptedReply(reply('<MsgType>text</MsgType><Content>ok</Content>')), expect: 'invalid', detail: /plaintext/ },
    { name: 'an encrypted reply in safe mode', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>secret</Content>')), expect: 'reply' },
    { name: 'a plaintext reply in safe mode', mode: 'safe', body: reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /safe mode/ },
    { name: 'a plaintext reply in compatible mode', mode: 'compat', body: reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'reply' },
    { name: 'success in safe mode', mode: 'safe', body: 'success', expect: 'no-reply' },
    { name: 'an encrypted reply with a wrong MsgSignature', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>x</Content>'), { signature: 'f'.repeat(40) }), expect: 'invalid', detail: /MsgSignature/ },
    { name: 'an encrypted reply for another AppID', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>x</Content>'), { appId: 'wx0000000000000000' }), expect: 'invalid', detail: /AppID/ },
    { name: 'a body over 1 MiB', body: '<xml>' + 'a'.repeat(1024 * 1024 + 10) + '</xml>', expect: 'invalid', detail: /larger than/ },
  ]
  for (const c of cases) {
    test(`${c.name}: ${c.expect === 'invalid' ? 'the error banner, no retry' : c.expect}`, async () => {
      const server = await rawServer(answerWith(200, c.body))
      after(server.close)
      const mode = c.mode ?? 'plain'
      const result = await simulate({ url: server.url, token, xml: inbound, mode, ...(mode === 'plain' ? {} : { encodingAESKey, appId }), timeoutMs: 3000 })
      assert.equal(result.attempts.length, 1)
      assert.equal(result.attempts[0]?.outcome, c.expect)
      assert.equal(result.final.kind, c.expect === 'invalid' ? 'error-banner' : c.expect)
      if (c.expect === 'invalid') assert.equal(result.userSaw, ERROR_BANNER)
      if (c.detail !== undefined) assert.match(result.final.detail ?? '', c.detail)
    })
  }

  test('what the user saw, for every reply type', async () => {
    const bodies: Array<[string, string]> = [
      ['<MsgType>image</MsgType><Image><MediaId>m1</MediaId></Image>', '[image m1]'],
      ['<MsgType>voice</MsgType><Voice><MediaId>v1</MediaId></Voice>', '[voice v1]'],
      ['<MsgType>video</MsgType><Video><MediaId>v2</MediaId><Title>T</Title></Video>', '[video "T" v2]'],
      ['<MsgType>music</MsgType><Music><Title>Song</Title><ThumbMediaId>t</ThumbMediaId></Music>', '[music "Song"]'],
      ['<MsgType>news</MsgType><ArticleCount>1</ArticleCount><Articles><item><Title>A</Title><Url>https://a</Url></item></Articles>', '[news "A" https://a]'],
      ['<MsgType>transfer_customer_service</MsgType><TransInfo><KfAccount>k@x</KfAccount></TransInfo>', '(handed to customer service agent k@x; nothing shown yet)'],
    ]
    for (const [fields, saw] of bodies) {
      const server = await rawServer(answerWith(200, reply(fields)))
      const result = await simulate({ url: server.url, token, xml: inbound, timeoutMs: 3000 })
      await server.close()
      assert.equal(result.final.kind, 'reply', fields)
      assert.equal(result.userSaw, saw)
    }
  })

  test('To/From not swapped, CreateTime in ms and several articles are warnings, not the banner', async () => {
    const body = `<xml><ToUserName>gh_judge</ToUserName><FromUserName>oJudge</FromUserName><CreateTime>1700000000000</CreateTime><MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>A</Title></item><item><Title>B</Title></item></Articles></xml>`
    const server = await rawServer(answerWith(200, body))
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: inbound, timeoutMs: 3000 })
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.warnings.length, 4)
    assert.match(result.warnings.join('\n'), /swap To and From[\s\S]*swap To and From[\s\S]*milliseconds[\s\S]*only the first/)
  })
})

describe('simulate: options are checked before anything is sent', () => {
  const xml = sampleXml('text')
  const cases: Array<[string, Parameters<typeof simulate>[0], RegExp]> = [
    ['no Token', { url: 'http://127.0.0.1:1/', token: '', xml }, /Token/],
    ['safe mode without a key', { url: 'http://127.0.0.1:1/', token, xml, mode: 'safe', appId }, /EncodingAESKey/],
    ['compat mode without an AppID', { url: 'http://127.0.0.1:1/', token, xml, mode: 'compat', encodingAESKey }, /AppID/],
    ['an unknown mode', { url: 'http://127.0.0.1:1/', token, xml, mode: 'aes' as 'safe' }, /plain, compat or safe/],
    ['not a URL', { url: 'localhost:3000/wechat', token, xml }, /http:\/\//],
    ['a relative URL', { url: '/wechat', token, xml }, /not a URL/],
    ['a zero timeout', { url: 'http://127.0.0.1:1/', token, xml, timeoutMs: 0 }, /timeoutMs/],
    ['zero attempts', { url: 'http://127.0.0.1:1/', token, xml, attempts: 0 }, /attempts/],
    ['eleven attempts', { url: 'http://127.0.0.1:1/', token, xml, attempts: 11 }, /attempts/],
  ]
  for (const [name, options, message] of cases) {
    test(`${name} is a WX_ERR_CONFIG naming the mistake`, async () => {
      await assert.rejects(simulate(options), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && message.test((err as Error).message))
    })
  }
  test('a short or long EncodingAESKey is refused with its own code', async () => {
    await assert.rejects(simulate({ url: 'http://127.0.0.1:1/', token, xml, mode: 'safe', appId, encodingAESKey: encodingAESKey + '=' }), (err) => isWxmpError(err, 'WX_ERR_AES_KEY_INVALID'))
  })
  test('malformed message XML is refused', async () => {
    await assert.rejects(simulate({ url: 'http://127.0.0.1:1/', token, xml: '<xml><a>' }), (err) => isWxmpError(err, 'WX_ERR_XML_MALFORMED'))
  })
})

describe('verifyUrl: the console\'s Token check', () => {
  test('passes against the bot: 200 with echostr byte-exact', async () => {
    const server = await botServer()
    after(server.close)
    const result = await verifyUrl({ url: server.url, token, echostr: '8641591277801631551' })
    assert.equal(result.ok, true)
    assert.equal(result.status, 200)
    assert.equal(result.body, '8641591277801631551')
    assert.match(result.detail, /Token验证成功/)
    assert.match(result.warnings[0] ?? '', /ports 80 and 443/)
  })

  test('fails with a wrong Token (401) and says so', async () => {
    const server = await botServer()
    after(server.close)
    const result = await verifyUrl({ url: server.url, token: 'wrong' })
    assert.equal(result.ok, false)
    assert.equal(result.status, 401)
    assert.match(result.detail, /Token验证失败: HTTP 401.*Token/)
  })

  const bodies: Array<[string, (e: string) => string, RegExp]> = [
    ['echostr plus a newline', (e) => e + '\n', /whitespace or a newline/],
    ['echostr in JSON quotes', (e) => JSON.stringify(e), /JSON quotes/],
    ['echostr inside more text', (e) => `echostr=${e}`, /also other text/],
    ['an empty body', () => '', /empty/],
    ['something else', () => 'hello', /is not echostr/],
  ]
  for (const [name, make, reason] of bodies) {
    test(`fails on ${name}, naming the mistake`, async () => {
      const server = await rawServer((res, seen) => {
        const echostr = new URL(seen.url, 'http://x').searchParams.get('echostr') ?? ''
        answerWith(200, make(echostr))(res)
      })
      after(server.close)
      const result = await verifyUrl({ url: server.url, token })
      assert.equal(result.ok, false)
      assert.match(result.detail, reason)
      const [req] = server.seen
      assert.equal(req?.method, 'GET')
      const query = new URL(req?.url ?? '', 'http://x').searchParams
      assert.deepEqual([...query.keys()].sort(), ['echostr', 'nonce', 'signature', 'timestamp'])
      assert.equal(query.get('signature'), sha1Sorted([token, query.get('timestamp') ?? '', query.get('nonce') ?? '']))
    })
  }

  test('fails on a server that does not answer in time', async () => {
    const server = await rawServer(() => {})
    after(server.close)
    const result = await verifyUrl({ url: server.url, token, timeoutMs: 150 })
    assert.equal(result.ok, false)
    assert.equal(result.status, undefined)
    assert.match(result.detail, /within 150 ms/)
  })

  test('no port warning for port 443', async () => {
    const result = await verifyUrl({ url: 'https://example.invalid/wechat', token, timeoutMs: 100, fetch: () => Promise.reject(new TypeError('fetch failed')) })
    assert.deepEqual(result.warnings, [])
    assert.equal(result.ok, false)
  })
})

describe('buildSimulatedMessage: command-line words to WeChat fields', () => {
  const opts = { openid: 'oWords', account: 'gh_words' }
  const parsed = (kind: string, args: string[]) => {
    const msg = buildSimulatedMessage(kind, args, opts)
    return { msg, doc: parseXml(msg.xml), typed: parseMessage(msg.xml) as unknown as Record<string, unknown> }
  }

  test('text: the words are the Content (hostile text survives intact)', () => {
    const { msg, typed } = parsed('text', ['你好', ']]><x>&'])
    assert.equal(msg.kind, 'text')
    assert.equal(typed.Content, '你好 ]]><x>&')
    assert.equal(typed.FromUserName, 'oWords')
    assert.equal(typed.ToUserName, 'gh_words')
    assert.match(String(typed.MsgId), /^\d+$/)
  })

  test('event subscribe without a scene: empty EventKey, no Ticket', () => {
    const { doc } = parsed('event', ['subscribe'])
    assert.equal(doc.Event, 'subscribe')
    assert.equal(doc.EventKey, '')
    assert.equal(doc.Ticket, undefined)
  })

  test('event subscribe with a scene: EventKey qrscene_<scene> and a Ticket', () => {
    const { doc, msg } = parsed('event', ['subscribe', '42'])
    assert.equal(doc.EventKey, 'qrscene_42')
    assert.match(String(doc.Ticket), /^gQ/)
    assert.equal(msg.label, 'event subscribe (scene 42)')
  })

  test('event SCAN: the scene without prefix, and a Ticket; a scene is required', () => {
    const { doc } = parsed('event', ['SCAN', 'promo'])
    assert.deepEqual([doc.Event, doc.EventKey], ['SCAN', 'promo'])
    assert.ok(doc.Ticket)
    assert.throws(() => buildSimulatedMessage('event', ['SCAN']), /needs the QR scene/)
  })

  test('click and view are menu events with their EventKey', () => {
    assert.deepEqual([parsed('click', ['V1001']).doc.Event, parsed('click', ['V1001']).doc.EventKey], ['CLICK', 'V1001'])
    const view = parsed('view', ['https://www.qq.com/a?b=1']).doc
    assert.deepEqual([view.Event, view.EventKey], ['VIEW', 'https://www.qq.com/a?b=1'])
  })

  test('image, voice, video, shortvideo take an optional MediaId', () => {
    assert.equal(parsed('image', ['MEDIA_1']).doc.MediaId, 'MEDIA_1')
    assert.equal(parsed('image', []).doc.MediaId, 'image_media_id')
    for (const kind of ['voice', 'video', 'shortvideo']) assert.equal(parsed(kind, []).doc.MsgType, kind)
  })

  test('location: numbers become Location_X/Location_Y, with a Scale and the Label', () => {
    const { typed } = parsed('location', ['-33.8688', '151.2093', '悉尼', '歌剧院'])
    assert.deepEqual([typed.Location_X, typed.Location_Y, typed.Scale, typed.Label], [-33.8688, 151.2093, 15, '悉尼 歌剧院'])
  })

  test('link: Url and Title', () => {
    const { doc } = parsed('link', ['https://mp.weixin.qq.com', '官网'])
    assert.deepEqual([doc.Url, doc.Title], ['https://mp.weixin.qq.com', '官网'])
  })

  test('event <Name> works for every table event, case-insensitively, and parses', () => {
    const { doc } = parsed('event', ['templatesendjobfinish'])
    assert.equal(doc.Event, 'TEMPLATESENDJOBFINISH')
    assert.equal(parsed('event', ['scancode_push', 'K9']).doc.EventKey, 'K9')
    const location = parsed('event', ['LOCATION', '23.1', '113.3', '30']).typed
    assert.deepEqual([location.Latitude, location.Longitude, location.Precision], [23.1, 113.3, 30])
  })

  test('xml <file>: the file is sent as is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-sim-'))
    const file = join(dir, 'm.xml')
    const xml = sampleXml('event:CLICK', { EventKey: 'FROM_FILE' })
    writeFileSync(file, xml)
    const msg = buildSimulatedMessage('xml', [file])
    assert.equal(msg.xml, xml)
    assert.equal(msg.kind, 'xml')
    assert.match(msg.label, /event CLICK/)
  })

  const bad: Array<[string, string[], RegExp]> = [
    ['bogus', [], /unknown kind "bogus".*text <message>/],
    ['text', [], /needs the message/],
    ['location', ['23.1'], /latitude and a longitude/],
    ['location', ['abc', '113'], /latitude "abc" is not a number/],
    ['location', ['23.1', '1e3'], /longitude "1e3" is not a number/],
    ['location', ['91', '113'], /outside -90…90/],
    ['location', ['23', '-181'], /outside -180…180/],
    ['link', [], /needs a URL/],
    ['link', ['javascript:alert(1)'], /http\(s\) URL/],
    ['view', ['www.qq.com'], /http\(s\) URL/],
    ['click', [], /menu button key/],
    ['click', ['A', 'B'], /at most 1 argument/],
    ['image', ['a', 'b'], /at most 1/],
    ['event', [], /needs an Event name/],
    ['event', ['nosuchevent'], /unknown event "nosuchevent"; events: subscribe/],
    ['event', ['subscribe', 'has space'], /printable ASCII/],
    ['event', ['subscribe', 'x'.repeat(65)], /1–64/],
    ['event', ['unsubscribe', 'x'], /no arguments/],
    ['event', ['TEMPLATESENDJOBFINISH', 'x'], /no arguments/],
    ['event', ['LOCATION', '1'], /latitude, a longitude/],
    ['event', ['LOCATION', '1', '2', '-3'], /precision/],
    ['xml', [], /needs a file/],
    ['xml', ['/nonexistent/m.xml'], /cannot read .*ENOENT/],
  ]
  for (const [kind, args, message] of bad) {
    test(`${kind} ${args.join(' ')} is a usage error naming the mistake`.replace(/\s+is/, ' is'), () => {
      assert.throws(() => buildSimulatedMessage(kind, args), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && err.details?.usage === true && message.test(err.message))
    })
  }

  test('xml files that are not WeChat messages are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-sim-'))
    const broken = join(dir, 'broken.xml')
    writeFileSync(broken, '<xml><MsgType>text</xml>')
    assert.throws(() => buildSimulatedMessage('xml', [broken]), /not a WeChat message XML/)
    const noType = join(dir, 'notype.xml')
    writeFileSync(noType, '<xml><Content>hi</Content></xml>')
    assert.throws(() => buildSimulatedMessage('xml', [noType]), /no <MsgType>/)
    const doctype = join(dir, 'doctype.xml')
    writeFileSync(doctype, '<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>&a;</MsgType></xml>')
    assert.throws(() => buildSimulatedMessage('xml', [doctype]), /DOCTYPE/)
  })
})

describe('simulate with lateFrom: what the user saw after success or the interim', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

  /**
   * The ready-to-run server calling a fake WeChat server, with a handler that answers only once
   * `release()` is called: the test releases it when the simulator has seen the passive answer,
   * so the answer is late by construction, not by a guessed delay.
   */
  async function slowServer(env: Record<string, string> = {}) {
    const fake = await startFakeWechat()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const config = loadConfig(
      { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, WECHAT_REPLY_TIMEOUT_MS: '300', WECHAT_TYPING_AFTER_MS: '0', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'memory:', WXMP_MESSAGE_LOG: '0', ...env },
      { dotenv: false },
    )
    const server: WxmpServer = await startServer({
      config,
      logger: quiet,
      setup: (bot) => {
        bot.on('text', async (ctx) => {
          await gate
          await ctx.reply(`the answer to ${ctx.text}`)
        })
      },
    })
    after(async () => {
      release()
      await server.close({ drainMs: 1000 })
      await fake.close()
    })
    return { fake, url: server.http.url, release }
  }

  /** Bounded wait until the fake has recorded a send of this kind (at most ~2 s). */
  async function untilSent(fake: FakeWechat, kind: 'typing' | 'customer-service'): Promise<void> {
    for (let i = 0; i < 100 && !fake.sent.some((s) => s.kind === kind); i++) await new Promise((r) => setTimeout(r, 20))
  }

  test('success at the deadline, then the customer-service answer: late and userSaw show it, and onLate saw it as it came', async () => {
    const { fake, url, release } = await slowServer()
    const seen: string[] = []
    const result = await simulate({
      url,
      token,
      xml: sampleXml('text', { Content: '你好' }, { openid: 'oLateUser0001' }),
      timeoutMs: 1000,
      lateFrom: fake.url,
      lateWaitMs: 10_000,
      onOutcome: (final) => {
        seen.push(`outcome ${final.kind}`)
        release()
      },
      onLateWait: ({ from, waitMs }) => seen.push(`wait ${from} ${waitMs}`),
      onLate: (message) => seen.push(`late ${message.text}`),
    })
    assert.deepEqual(result.attempts.map((a) => a.outcome), ['no-reply'])
    assert.equal(result.final.kind, 'no-reply')
    assert.deepEqual(result.late?.map(({ kind, msgtype, text }) => ({ kind, msgtype, text })), [{ kind: 'customer-service', msgtype: 'text', text: 'the answer to 你好' }])
    assert.ok((result.late?.[0]?.afterMs ?? -1) >= 0)
    assert.match(result.userSaw, /^\(customer service, \d+\.\d s\): the answer to 你好$/)
    assert.deepEqual(seen, ['outcome no-reply', `wait ${fake.url} 10000`, 'late the answer to 你好'])
    assert.deepEqual(result.warnings, [])
  })

  test('with an interim and typing: typing… while WeChat waits, the interim passively, then the answer', async () => {
    const { fake, url, release } = await slowServer({ WECHAT_INTERIM: '正在思考，请稍候…', WECHAT_TYPING_AFTER_MS: '1' })
    const result = await simulate({
      url,
      token,
      xml: sampleXml('text', { Content: 'why' }, { openid: 'oLateUser0002' }),
      timeoutMs: 1000,
      interim: '正在思考，请稍候…',
      lateFrom: fake.url,
      lateWaitMs: 10_000,
      // the answer goes out only once "typing…" is on record, so the order is fixed
      onOutcome: () => void untilSent(fake, 'typing').then(release),
    })
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.final.reply?.Content, '正在思考，请稍候…')
    assert.deepEqual(result.late?.map((m) => `${m.kind}:${m.text}`), ['typing:typing…', 'customer-service:the answer to why'])
    // typing normally starts while WeChat still waits (1 ms vs 300 ms), so the user sees it before
    // the interim; on a machine stalled past the deadline it comes after: userSaw follows the clock
    const typingFirst = (result.late?.[0]?.afterMs ?? Infinity) < result.totalMs
    const passiveParts = typingFirst ? 'typing… then 正在思考，请稍候…' : '正在思考，请稍候… then typing…'
    assert.match(result.userSaw, new RegExp(`^${passiveParts} then \\(customer service, \\d+\\.\\d s\\): the answer to why$`))
  })

  test('a text that is not the interim is a real reply: the fake is read once, nothing is waited for', async () => {
    const { fake, url, release } = await slowServer({ WECHAT_INTERIM: '稍等' })
    let waited = false
    const result = await simulate({
      url,
      token,
      xml: sampleXml('text', { Content: 'x' }, { openid: 'oLateUser0003' }),
      timeoutMs: 1000,
      interim: 'something else',
      lateFrom: fake.url,
      lateWaitMs: 600_000,
      onLateWait: () => (waited = true),
    })
    release()
    assert.equal(result.final.reply?.Content, '稍等')
    assert.equal(waited, false)
    assert.deepEqual(result.late, [])
    assert.equal(result.userSaw, '稍等')
  })

  test('sends to other users and sends before this message are not this message\'s', async () => {
    const { fake, url, release } = await slowServer()
    fake.sent.push({ kind: 'customer-service', touser: 'oLateUser0004', msgtype: 'text', body: { text: { content: 'an older answer' } }, at: Date.now() - 60_000 })
    const result = await simulate({
      url,
      token,
      xml: sampleXml('text', { Content: 'mine' }, { openid: 'oLateUser0004' }),
      timeoutMs: 1000,
      lateFrom: fake.url,
      lateWaitMs: 10_000,
      onOutcome: () => {
        fake.sent.push({ kind: 'customer-service', touser: 'oSomeoneElse01', msgtype: 'text', body: { text: { content: 'not yours' } }, at: Date.now() })
        release()
      },
    })
    assert.deepEqual(result.late?.map((m) => m.text), ['the answer to mine'])
  })

  test('userSaw follows the clock: typing… before the interim, the interim, typing… again, the answer; template messages named', async () => {
    const T = 1_800_000_000_000
    const openid = 'oClockUser0001'
    const sent = [
      { kind: 'typing', touser: openid, msgtype: 'Typing', body: {}, at: T + 1 },
      { kind: 'typing', touser: openid, msgtype: 'Typing', body: {}, at: T + 30_000 },
      { kind: 'typing', touser: openid, msgtype: 'Typing', body: {}, at: T + 45_000 },
      { kind: 'template', touser: openid, msgtype: 'TPL_DONE', body: {}, at: T + 50_000 },
      { kind: 'customer-service', touser: openid, msgtype: 'text', body: { text: { content: 'done' } }, at: T + 60_000 },
    ]
    const reply = `<xml><ToUserName><![CDATA[${openid}]]></ToUserName><FromUserName><![CDATA[gh_wxmp_sample]]></FromUserName><CreateTime>1800000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[稍等]]></Content></xml>`
    // the webhook answers after 50 ms, so the passive answer lies after the first typing (1 ms)
    const fetchFn = (async (input: string | URL | Request) =>
      String(input).endsWith('/__fake/sent') ? Response.json({ sent }) : new Promise<Response>((resolve) => setTimeout(() => resolve(new Response(reply)), 50))) as typeof fetch
    const result = await simulate({ url: 'http://127.0.0.1:9/wechat', token, xml: sampleXml('text', {}, { openid }), fetch: fetchFn, now: () => T, interim: '稍等', lateFrom: 'http://127.0.0.1:8081', lateWaitMs: 1000 })
    assert.equal(result.userSaw, 'typing… then 稍等 then typing… then (template message, 50.0 s): [template TPL_DONE] then (customer service, 60.0 s): done')
  })

  test('lateFrom unreachable: a warning that names the URL and the likely cause, no crash, the passive outcome kept', async () => {
    const { url, release } = await slowServer()
    const port = await closedPort()
    let result: SimulateResult | undefined
    await assert.doesNotReject(async () => {
      result = await simulate({ url, token, xml: sampleXml('text', {}, { openid: 'oLateUser0005' }), timeoutMs: 1000, lateFrom: `http://127.0.0.1:${port}`, lateWaitMs: 10_000 })
    })
    release()
    assert.equal(result?.final.kind, 'no-reply')
    assert.equal(result?.userSaw, '(no reply)')
    assert.deepEqual(result?.late, [])
    assert.equal(result?.warnings.length, 1)
    assert.match(result?.warnings[0] ?? '', new RegExp(`cannot read http://127\\.0\\.0\\.1:${port}/__fake/sent \\(ECONNREFUSED\\).*wxmp fake-wechat`))
  })

  test('without lateFrom nothing is collected: late is absent', async () => {
    const server = await botServer()
    after(() => server.close())
    const result = await simulate({ url: server.url, token, xml: sampleXml('text') })
    assert.equal(result.late, undefined)
  })

  test('a lateFrom that is not an http(s) URL, or a wait out of range, is a WX_ERR_CONFIG before anything is sent', async () => {
    for (const bad of [{ lateFrom: 'localhost:8081' }, { lateFrom: 'ftp://127.0.0.1' }, { lateFrom: 'http://' }, { lateWaitMs: -1 }, { lateWaitMs: 600_001 }, { lateWaitMs: Number.NaN }]) {
      await assert.rejects(simulate({ url: 'http://127.0.0.1:1/wechat', token, xml: sampleXml('text'), ...bad }), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && /lateFrom|lateWaitMs/.test((err as Error).message))
    }
  })
})
