/**
 * WechatApi against the fake WeChat server over real HTTP (no mocked fetch): the token rules
 * (stable_token, shared store, single-flight, proactive refresh, refresh-once on
 * 40001/40014/42001, never-loop errcodes), the error classes, the safe retries, the generic
 * `call`, and that secrets never reach the logs.
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { isWxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import { MemoryStore } from '../storage/memory.js'
import { startFakeWechat, type FakeWechat } from '../testing/fake-wechat/index.js'
import { WechatApi, type WechatApiOptions } from './client.js'
import { HttpError, WechatApiError } from './errors.js'
import type { CallInfo } from './transport.js'

let fake: FakeWechat
let clock = Date.UTC(2026, 0, 1)
const now = () => clock
const OPENID = 'oWxmpTestUser000000000000001'

function client(extra: Partial<WechatApiOptions> = {}): WechatApi {
  return new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url, now, store: new MemoryStore({ now }), retryDelayMs: 1, ...extra })
}

const callsTo = (path: string) => fake.calls.filter((c) => c.path === path)

function captureLogs(): { logger: Logger; lines: Array<{ level: string; obj: object; msg: string | undefined }> } {
  const lines: Array<{ level: string; obj: object; msg: string | undefined }> = []
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger }
  return { logger, lines }
}

/** The fake logs a call once it has answered; a client that gave up earlier does not wait for that. */
async function waitForCalls(path: string, n: number): Promise<void> {
  for (let i = 0; i < 100 && callsTo(path).length < n; i++) await sleep(10)
}

describe('WechatApi against the fake WeChat server', () => {
  before(async () => {
    fake = await startFakeWechat({ now })
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.reset()
  })

  describe('obtaining the token', () => {
    test('stable_token by default (normal mode), fetched once for many calls', async () => {
      const api = client()
      for (let i = 0; i < 5; i++) await api.getCallbackIp()
      assert.equal(fake.tokenFetches(), 1)
      assert.deepEqual(callsTo('/cgi-bin/stable_token')[0]?.body, { grant_type: 'client_credential', appid: fake.appId, secret: '[redacted]', force_refresh: false })
    })

    test("tokenMode 'classic' uses GET /cgi-bin/token", async () => {
      await client({ tokenMode: 'classic' }).getCallbackIp()
      assert.equal(callsTo('/cgi-bin/token').length, 1)
      assert.equal(callsTo('/cgi-bin/stable_token').length, 0)
    })

    test('a tokenProvider (central token service) replaces the fetch, and its token is cached too', async () => {
      let asked = 0
      const central = client({ tokenMode: 'classic' }) // stands for the 中控服务器
      const api = new WechatApi({
        appId: fake.appId,
        baseUrl: fake.url,
        now,
        store: new MemoryStore({ now }),
        tokenProvider: async () => {
          asked++
          return { accessToken: await central.token.get(), expiresIn: 7200 }
        },
      })
      await api.getCallbackIp()
      await api.getCallbackIp()
      assert.equal(asked, 1)
      assert.equal(fake.tokenFetches(), 1, 'only the central service fetched from WeChat')
    })

    test('a tokenProvider returning garbage fails with WX_ERR_TOKEN, not a confusing API error', async () => {
      const api = new WechatApi({ appId: fake.appId, baseUrl: fake.url, tokenProvider: async () => ({ accessToken: '', expiresIn: 0 }) })
      await assert.rejects(api.getCallbackIp(), (err: unknown) => isWxmpError(err, 'WX_ERR_TOKEN') && /tokenProvider/.test((err as Error).message))
    })

    test('the token lives in the given store: a second client (a restart, another instance) fetches nothing', async () => {
      const store = new MemoryStore({ now })
      await client({ store }).getCallbackIp()
      await client({ store }).getCallbackIp()
      assert.equal(fake.tokenFetches(), 1)
      assert.ok([...(await store.get<{ value: string }>(`token:${fake.appId}`))!.value].length > 20)
    })

    test('30 concurrent calls with no token cause exactly one fetch', async () => {
      const api = client()
      await Promise.all(Array.from({ length: 30 }, () => api.getCallbackIp()))
      assert.equal(fake.tokenFetches(), 1)
      assert.equal(callsTo('/cgi-bin/getcallbackip').length, 30)
    })

    test('proactive refresh: no fetch before 85% of expires_in, one fetch after it, no failed call', async () => {
      const api = client({ tokenMode: 'classic' })
      await api.getCallbackIp()
      clock += 6000_000
      await api.getCallbackIp()
      assert.equal(fake.tokenFetches(), 1)
      clock += 200_000 // 86 %
      await api.getCallbackIp()
      assert.equal(fake.tokenFetches(), 2)
      assert.ok(fake.calls.every((c) => c.errcode === 0))
    })

    test('token.refresh() fetches anew; { force: true } sends force_refresh and the old token dies at once', async () => {
      const api = client()
      const first = await api.token.get()
      assert.equal(await api.token.refresh(), first, 'stable_token normal mode hands back the same token')
      const forced = await api.token.refresh({ force: true })
      assert.notEqual(forced, first)
      assert.equal((callsTo('/cgi-bin/stable_token').at(-1)?.body as { force_refresh?: boolean }).force_refresh, true)
      await api.getCallbackIp()
      assert.equal(fake.tokenFetches(), 3)
    })
  })

  describe('a refused token: refresh once, retry once', () => {
    for (const errcode of [40001, 40014, 42001]) {
      test(`${errcode} on a call costs exactly one refresh and the call succeeds`, async () => {
        const api = client()
        await api.getCallbackIp()
        fake.inject({ errcode, path: '/cgi-bin/getcallbackip' })
        assert.deepEqual(await api.getCallbackIp(), ['127.0.0.1', '101.226.62.77', '101.226.62.78'])
        assert.equal(fake.tokenFetches(), 2)
        assert.equal(callsTo('/cgi-bin/getcallbackip').length, 3)
      })
    }

    test('a token that really expired at WeChat (42001) is replaced and the call goes through', async () => {
      const api = client({ tokenMode: 'classic' })
      const token = await api.token.get()
      fake.state.tokens.get(token)!.expiresAt = clock
      await api.getCallbackIp()
      assert.deepEqual(
        callsTo('/cgi-bin/getcallbackip').map((c) => c.errcode),
        [42001, 0],
      )
      assert.equal(fake.tokenFetches(), 2)
    })

    test('compare-and-invalidate: an instance whose token was superseded by another instance takes the newer one without fetching', async () => {
      const tight = await startFakeWechat({ now, tokenOverlapMs: 0 })
      try {
        const store = new MemoryStore({ now })
        const opts = { baseUrl: tight.url, appId: tight.appId, appSecret: tight.appSecret, tokenMode: 'classic' as const, store }
        const a = client(opts)
        const b = client(opts)
        const old = await b.token.get()
        const newer = await a.token.refresh() // the old token dies at WeChat at once (no overlap here)
        await b.getCallbackIp()
        assert.equal(tight.tokenFetches(), 2)
        assert.deepEqual(
          tight.calls.filter((c) => c.path === '/cgi-bin/getcallbackip').map((c) => [c.accessToken === old, c.errcode]),
          [
            [true, 40001],
            [false, 0],
          ],
        )
        assert.equal((await store.get<{ value: string }>(`token:${tight.appId}`))?.value, newer)
      } finally {
        await tight.close()
      }
    })

    test('a second refusal after the refresh is raised, never looped', async () => {
      const api = client()
      await api.getCallbackIp()
      fake.inject({ errcode: 40001, times: 5, path: '/cgi-bin/getcallbackip' })
      await assert.rejects(api.getCallbackIp(), (err: unknown) => err instanceof WechatApiError && err.errcode === 40001 && err.code === 'WX_ERR_API')
      assert.equal(fake.tokenFetches(), 2)
      assert.equal(callsTo('/cgi-bin/getcallbackip').length, 3)
    })

    test('concurrent calls refused with the same token share one refresh', async () => {
      const api = client()
      await api.getCallbackIp()
      fake.inject({ errcode: 40001, times: 10, path: '/cgi-bin/getcallbackip' })
      await Promise.all(Array.from({ length: 10 }, () => api.getCallbackIp()))
      assert.equal(fake.tokenFetches(), 2)
    })
  })

  describe('errcodes that no retry fixes', () => {
    test('a wrong AppSecret: WechatApiError 40125, WX_ERR_TOKEN, a hint, one fetch, and fail-fast meanwhile', async () => {
      const api = client({ appSecret: 'wrong-secret-0123456789abcdef012' })
      const check = (err: unknown) => err instanceof WechatApiError && err.errcode === 40125 && err.code === 'WX_ERR_TOKEN' && /WECHAT_APPSECRET/.test(err.message)
      await assert.rejects(api.getCallbackIp(), check)
      await assert.rejects(api.getCallbackIp(), check)
      assert.equal(fake.tokenFetches(), 1)
    })

    test('a wrong AppID: 40013 with a hint naming the 原始ID mix-up', async () => {
      await assert.rejects(client({ appId: 'wx0000000000000000' }).getCallbackIp(), (err: unknown) => err instanceof WechatApiError && err.errcode === 40013 && /gh_/.test(err.message))
    })

    test('40164 IP whitelist: one fetch, the hint says to add the IP, errmsg and rid kept', async () => {
      fake.inject({ errcode: 40164, path: '/cgi-bin/stable_token', errmsg: 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6650f0e1-0b0c0d0e' })
      const err = await client()
        .getCallbackIp()
        .catch((e: unknown) => e)
      assert.ok(err instanceof WechatApiError)
      assert.equal(err.errcode, 40164)
      assert.equal(err.rid, '6650f0e1-0b0c0d0e')
      assert.match(err.hint ?? '', /IP whitelist/)
      assert.match(err.errmsg, /203\.0\.113\.7/)
      assert.equal(fake.tokenFetches(), 1)
    })

    for (const [errcode, hint] of [
      [45009, /clear_quota/],
      [48001, /permission/],
    ] as const) {
      test(`${errcode} on an API call is raised at once with its hint (no retry, no refresh)`, async () => {
        const api = client()
        await api.getCallbackIp()
        fake.inject({ errcode, path: '/cgi-bin/getcallbackip' })
        await assert.rejects(api.getCallbackIp(), (err: unknown) => err instanceof WechatApiError && err.errcode === errcode && hint.test(err.message) && err.path === '/cgi-bin/getcallbackip')
        assert.equal(callsTo('/cgi-bin/getcallbackip').length, 2)
        assert.equal(fake.tokenFetches(), 1)
      })
    }
  })

  describe('safe retries and HttpError', () => {
    test('errcode -1 (system busy) is retried with backoff', async () => {
      const api = client()
      fake.inject({ errcode: -1, path: '/cgi-bin/getcallbackip' })
      await api.getCallbackIp()
      assert.deepEqual(
        callsTo('/cgi-bin/getcallbackip').map((c) => c.errcode),
        [-1, 0],
      )
    })

    test('a busy WeChat that stays busy gives WechatApiError -1 after the bounded attempts', async () => {
      const api = client({ retries: 2 })
      fake.inject({ errcode: -1, times: 10, path: '/cgi-bin/getcallbackip' })
      await assert.rejects(api.getCallbackIp(), (err: unknown) => err instanceof WechatApiError && err.errcode === -1)
      assert.equal(callsTo('/cgi-bin/getcallbackip').length, 3)
    })

    test('HTTP 5xx on an idempotent GET is retried', async () => {
      const api = client()
      fake.inject({ status: 502, path: '/cgi-bin/getcallbackip' })
      await api.getCallbackIp()
      assert.deepEqual(
        callsTo('/cgi-bin/getcallbackip').map((c) => c.status),
        [502, 200],
      )
    })

    test('HTTP 5xx on a send is not retried (it may have gone out): HttpError with the status', async () => {
      const api = client()
      fake.inject({ status: 500, path: '/cgi-bin/message/custom/send' })
      const err = await api.customerService.sendText(OPENID, 'hi').catch((e: unknown) => e)
      assert.ok(err instanceof HttpError && !(err instanceof WechatApiError))
      assert.equal(err.code, 'WX_ERR_HTTP')
      assert.equal(err.httpStatus, 500)
      assert.equal(callsTo('/cgi-bin/message/custom/send').length, 1)
    })

    test('a timeout on a send raises HttpError (timedOut) and the message is never sent twice', async () => {
      const api = client({ timeoutMs: 100 })
      await api.token.get()
      fake.inject({ latencyMs: 400, path: '/cgi-bin/message/custom/send' })
      await assert.rejects(api.customerService.sendText(OPENID, 'once'), (err: unknown) => err instanceof HttpError && err.timedOut && /no answer within 100 ms/.test(err.message))
      await waitForCalls('/cgi-bin/message/custom/send', 1)
      await sleep(50)
      assert.equal(callsTo('/cgi-bin/message/custom/send').length, 1)
      assert.equal(fake.sent.filter((s) => s.kind === 'customer-service').length, 1)
    })

    test('an unreachable host is HttpError naming WECHAT_API_BASE, not an API error', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port
          s.close(() => resolve(p))
        })
      })
      const api = client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 })
      await assert.rejects(api.getCallbackIp(), (err: unknown) => err instanceof HttpError && err.code === 'WX_ERR_TOKEN' && err.httpStatus === undefined && /WECHAT_API_BASE/.test(err.message))
    })

    test('an HTTP 200 answer that is not JSON (a captive portal, a wrong host) is HttpError, not a crash', async () => {
      const api = client()
      await api.token.get()
      fake.inject({ status: 200, path: '/cgi-bin/getcallbackip' })
      await assert.rejects(api.getCallbackIp(), (err: unknown) => err instanceof HttpError && /not JSON/.test(err.message) && /WECHAT_API_BASE/.test(err.message))
    })

    test('an unknown path is HttpError 404 with a hint, not retried', async () => {
      const api = client()
      await assert.rejects(api.call('/cgi-bin/no/such/api'), (err: unknown) => err instanceof HttpError && err.httpStatus === 404 && /is the path right/.test(err.message))
      assert.equal(callsTo('/cgi-bin/no/such/api').length, 1)
    })

    test('onCall sees every attempt with errcode, status and attempt number (no query string)', async () => {
      const seen: CallInfo[] = []
      const api = client({ onCall: (info) => seen.push(info) })
      fake.inject({ errcode: -1, path: '/cgi-bin/getcallbackip' })
      await api.getCallbackIp()
      assert.deepEqual(
        seen.map((c) => [c.path, c.errcode, c.attempt]),
        [
          ['/cgi-bin/stable_token', 0, 0],
          ['/cgi-bin/getcallbackip', -1, 0],
          ['/cgi-bin/getcallbackip', 0, 1],
        ],
      )
    })
  })

  describe('api.call for any endpoint', () => {
    test('GET without a body, the token added, query from the path and from options merged', async () => {
      const api = client()
      const info = await api.call<{ openid: string; subscribe: number }>('/cgi-bin/user/info?lang=en', undefined, { query: { openid: OPENID } })
      assert.equal(info.openid, OPENID)
      const last = callsTo('/cgi-bin/user/info').at(-1)!
      assert.equal(last.method, 'GET')
      assert.deepEqual({ ...last.query, access_token: undefined }, { lang: 'en', openid: OPENID, access_token: undefined })
      assert.ok((last.accessToken ?? '').length > 20)
    })

    test('POST JSON when there is a body; 64-bit ids in the answer stay exact', async () => {
      const msgid = await client().call<{ msgid: string }>('/cgi-bin/message/template/send', {
        touser: OPENID,
        template_id: 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY',
        data: { keyword1: { value: '巧克力' } },
      })
      assert.equal(msgid.msgid, fake.sent.at(-1)?.msgid)
      assert.equal(msgid.msgid, '3487542469355618313')
    })

    test('refuses a URL, a GET with a body, or an access_token passed by hand (WX_ERR_API_INPUT, nothing sent)', async () => {
      const api = client()
      await assert.rejects(api.call('https://api.weixin.qq.com/cgi-bin/menu/get'), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /not a URL/.test((err as Error).message))
      await assert.rejects(api.call('/cgi-bin/menu/get', { a: 1 }, { method: 'GET' }), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
      await assert.rejects(api.call('/cgi-bin/menu/get', undefined, { query: { access_token: 'x' } }), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
      await assert.rejects(api.call(''), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
      assert.equal(fake.calls.length, 0)
    })

    test('a path without the leading slash still works', async () => {
      const result = await client().call<{ ip_list: string[] }>('cgi-bin/get_api_domain_ip')
      assert.equal(result.ip_list.length, 3)
    })
  })

  describe('configuration and secrets', () => {
    test('a missing AppID or AppSecret fails at construction with WX_ERR_CONFIG', () => {
      assert.throws(() => new WechatApi({ appId: '', appSecret: 'x' }), (err: unknown) => isWxmpError(err, 'WX_ERR_CONFIG'))
      assert.throws(() => new WechatApi({ appId: 'wx1234567890abcdef' }), (err: unknown) => isWxmpError(err, 'WX_ERR_CONFIG') && /AppSecret/.test((err as Error).message))
    })

    test('neither the AppSecret nor any access_token appears in logs or error messages', async () => {
      const { logger, lines } = captureLogs()
      const api = client({ logger })
      await api.getCallbackIp()
      fake.inject({ errcode: 40001, path: '/cgi-bin/getcallbackip' })
      await api.getCallbackIp()
      fake.inject({ errcode: -1, path: '/cgi-bin/getcallbackip' })
      await api.getCallbackIp()
      const wrong = client({ logger, appSecret: 'wrong-secret-0123456789abcdef012' })
      const err = (await wrong.getCallbackIp().catch((e: unknown) => e)) as Error
      assert.ok(lines.length > 0)
      const text = JSON.stringify(lines) + String(err.message) + JSON.stringify((err as { details?: unknown }).details)
      assert.ok(!text.includes(fake.appSecret) && !text.includes('wrong-secret-0123456789abcdef012'))
      for (const issued of fake.tokensIssued) assert.ok(!text.includes(issued.token))
    })
  })
})
