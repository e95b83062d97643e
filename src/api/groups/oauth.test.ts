import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
let clock = Date.UTC(2026, 0, 1)
const now = () => clock
const OPENID = 'oWxmpTestUser000000000000001'

describe('api.oauth', () => {
  useFakeWechat(
    (f, a) => {
      fake = f
      api = a
      fake.addUser(OPENID, { nickname: '小明', unionid: 'o6_unionid' })
    },
    { now },
  )

  test('authorizeUrl: open.weixin.qq.com, the documented parameter order, redirect_uri encoded, #wechat_redirect', () => {
    const real = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret })
    assert.equal(
      real.oauth.authorizeUrl({ redirectUri: 'https://example.com/cb?x=1', scope: 'snsapi_userinfo', state: 'abc123' }),
      `https://open.weixin.qq.com/connect/oauth2/authorize?appid=${fake.appId}&redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Fx%3D1&response_type=code&scope=snsapi_userinfo&state=abc123#wechat_redirect`,
    )
    assert.match(real.oauth.authorizeUrl({ redirectUri: 'https://e.com/', scope: 'snsapi_base', forcePopup: true }), /&state=&forcePopup=true#wechat_redirect$/)
  })

  test('against the fake the whole browser flow runs locally: authorize page → 302 with code and state → exchange', async () => {
    const url = api.oauth.authorizeUrl({ redirectUri: 'https://example.com/cb?x=1', scope: 'snsapi_userinfo', state: 'xyz' })
    assert.ok(url.startsWith(`${fake.url}/connect/oauth2/authorize?`))
    const res = await fetch(url, { redirect: 'manual' })
    assert.equal(res.status, 302)
    const back = new URL(res.headers.get('location') ?? '')
    assert.equal(back.origin + back.pathname, 'https://example.com/cb')
    assert.equal(back.searchParams.get('x'), '1')
    assert.equal(back.searchParams.get('state'), 'xyz')
    const token = await api.oauth.exchangeCode(back.searchParams.get('code') ?? '')
    assert.equal(token.openid, OPENID)
  })

  test('the fake authorize page refuses what WeChat refuses, with the page error code', async () => {
    const page = async (query: string) => {
      const res = await fetch(`${fake.url}/connect/oauth2/authorize?${query}`, { redirect: 'manual' })
      return `${res.status} ${await res.text()}`
    }
    assert.match(await page(`appid=${fake.appId}&redirect_uri=https%3A%2F%2Fe.com&response_type=code&scope=snsapi_login`), /^400 .*error 10005/)
    assert.match(await page(`appid=${fake.appId}&response_type=code&scope=snsapi_base`), /^400 .*error 10011/)
    assert.match(await page(`redirect_uri=https%3A%2F%2Fe.com&response_type=code&scope=snsapi_base`), /^400 .*error 10012/)
    assert.match(await page(`appid=wx0000000000000000&redirect_uri=https%3A%2F%2Fe.com&response_type=code&scope=snsapi_base`), /^400 .*not this account/)
  })

  test('authorizeUrl refuses a relative redirect, an unknown scope, a state with symbols', () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    assert.throws(() => api.oauth.authorizeUrl({ redirectUri: '/cb', scope: 'snsapi_base' }), input)
    assert.throws(() => api.oauth.authorizeUrl({ redirectUri: 'https://e.com', scope: 'snsapi_login' as never }), input)
    assert.throws(() => api.oauth.authorizeUrl({ redirectUri: 'https://e.com', scope: 'snsapi_base', state: 'a&b' }), input)
  })

  test('code → web token (no account access_token involved) → userinfo; validate', async () => {
    const token = await api.oauth.exchangeCode(fake.authorize(OPENID, 'snsapi_userinfo'))
    assert.equal(token.openid, OPENID)
    assert.equal(token.scope, 'snsapi_userinfo')
    assert.equal(token.unionid, 'o6_unionid')
    const me = await api.oauth.userInfo(token.access_token, token.openid)
    assert.equal(me.nickname, '小明')
    assert.equal(await api.oauth.validate(token.access_token, OPENID), true)
    assert.equal(await api.oauth.validate('A'.repeat(40), OPENID), false)
    assert.equal(fake.tokenFetches(), 0)
    const exchange = fake.calls.find((c) => c.path === '/sns/oauth2/access_token')!
    assert.equal(exchange.query.secret, '[redacted]')
    assert.equal(exchange.query.grant_type, 'authorization_code')
  })

  test('a code works once (40163) and for 5 minutes (40029)', async () => {
    const code = fake.authorize(OPENID)
    await api.oauth.exchangeCode(code)
    await assert.rejects(api.oauth.exchangeCode(code), (err: unknown) => err instanceof WechatApiError && err.errcode === 40163 && /works once/.test(err.message))
    const late = fake.authorize(OPENID)
    clock += 5 * 60_000 + 1
    await assert.rejects(api.oauth.exchangeCode(late), (err: unknown) => err instanceof WechatApiError && err.errcode === 40029)
  })

  test('snsapi_base cannot read userinfo: 48001', async () => {
    const token = await api.oauth.exchangeCode(fake.authorize(OPENID, 'snsapi_base'))
    await assert.rejects(api.oauth.userInfo(token.access_token, OPENID), (err: unknown) => err instanceof WechatApiError && err.errcode === 48001)
  })

  test('refresh renews the web token with the refresh_token; an unknown refresh_token is 40030', async () => {
    const first = await api.oauth.exchangeCode(fake.authorize(OPENID))
    const renewed = await api.oauth.refresh(first.refresh_token)
    assert.notEqual(renewed.access_token, first.access_token)
    assert.equal(renewed.refresh_token, first.refresh_token)
    await assert.rejects(api.oauth.refresh('nope'), (err: unknown) => err instanceof WechatApiError && err.errcode === 40030)
  })

  test('exchanging a code needs the AppSecret; a tokenProvider-only client says so', async () => {
    const providerOnly = new WechatApi({ appId: fake.appId, baseUrl: fake.url, tokenProvider: async () => ({ accessToken: 'x', expiresIn: 60 }) })
    await assert.rejects(providerOnly.oauth.exchangeCode('code'), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /AppSecret/.test((err as Error).message))
  })

  test('a lost answer to a code exchange is not sent again (the code would be spent)', async () => {
    fake.inject({ status: 502, path: '/sns/oauth2/access_token' })
    await assert.rejects(api.oauth.exchangeCode(fake.authorize(OPENID)))
    assert.equal(fake.calls.filter((c) => c.path === '/sns/oauth2/access_token').length, 1)
  })
})
