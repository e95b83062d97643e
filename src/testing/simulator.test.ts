import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import { serve } from '../adapters/node.js'
import { isWxmpError } from '../errors.js'
import { sha1Sorted } from '../pipeline/signature.js'
import { parseXml, textOf } from '../xml/parse.js'
import { loadConfig } from '../server/config.js'
import { startServer, type WxmpServer } from '../server/app.js'
import { startFakeWechat, type FakeWechat } from './fake-wechat/index.js'
import { SAMPLE_KINDS, sampleXml } from './samples.js'
import { ERROR_BANNER, simulate, type SimulateResult } from './simulator.js'
import { answerWith, appId, botServer, closedPort, closeNow, encodingAESKey, rawServer, token } from '../../test/support/simulator-servers.js'

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

  test('a wxmp server says what follows its answer (x-wxmp-next): its interim is waited for, whatever `interim` names', async () => {
    const { fake, url, release } = await slowServer({ WECHAT_INTERIM: '稍等' })
    const result = await simulate({
      url,
      token,
      xml: sampleXml('text', { Content: 'x' }, { openid: 'oLateUser0003' }),
      timeoutMs: 1000,
      interim: 'something else',
      lateFrom: fake.url,
      lateWaitMs: 10_000,
      onLateWait: () => release(),
    })
    assert.equal(result.final.reply?.Content, '稍等')
    assert.equal(result.next, 'customer-service')
    assert.match(result.userSaw, /^稍等 then \(customer service, \d+\.\d s\): the answer to x$/)
  })

  test('another server: a text that is not the interim is a real reply; the fake is read once, nothing is waited for', async () => {
    const fake = await startFakeWechat()
    after(() => fake.close())
    const reply = '<xml><ToUserName><![CDATA[oLateUser0009]]></ToUserName><FromUserName><![CDATA[gh_wxmp_sample]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[稍等]]></Content></xml>'
    const server = await rawServer(answerWith(200, reply, { 'content-type': 'application/xml' }))
    after(server.close)
    let waited = false
    const result = await simulate({
      url: server.url,
      token,
      xml: sampleXml('text', { Content: 'x' }, { openid: 'oLateUser0009' }),
      interim: 'something else',
      lateFrom: fake.url,
      lateWaitMs: 600_000,
      onLateWait: () => (waited = true),
    })
    assert.equal(result.final.reply?.Content, '稍等')
    assert.equal(result.next, undefined)
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
