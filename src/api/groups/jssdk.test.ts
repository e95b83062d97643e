import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import { MemoryStore } from '../../storage/memory.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import { WechatApi } from '../client.js'
import { jsapiSignature } from './jssdk.js'

/** protocol.md §9.7: the official vectors. */
const TICKET = 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg'

describe('jsapiSignature (official vectors)', () => {
  test('url with a query string', () => {
    assert.equal(jsapiSignature({ ticket: TICKET, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value' }), '0f9de62fce790f9a083d5c99e95740ceb90c27ed')
  })

  test('url without a query string (older edition of the document)', () => {
    assert.equal(jsapiSignature({ ticket: TICKET, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com' }), 'f4d90daf4b3bca3078ab155816175ba34c443a7b')
  })

  test('everything from # on is not signed', () => {
    assert.equal(jsapiSignature({ ticket: TICKET, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value#/route?x=1' }), '0f9de62fce790f9a083d5c99e95740ceb90c27ed')
  })
})

describe('api.jssdk against the fake', () => {
  let fake: FakeWechat
  let clock = Date.UTC(2026, 0, 1)
  const now = () => clock
  useFakeWechat((f) => (fake = f), { now })

  const client = (store = new MemoryStore({ now })) => new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url, now, store })
  const ticketCalls = () => fake.calls.filter((c) => c.path === '/cgi-bin/ticket/getticket')

  test('signature() gives wx.config everything, signed with the current ticket', async () => {
    const api = client()
    const config = await api.jssdk.signature({ url: 'https://example.com/page?x=1#frag', nonceStr: 'abc', timestamp: 1700000000 })
    const ticket = await api.jssdk.ticket()
    assert.deepEqual(config, { appId: fake.appId, timestamp: 1700000000, nonceStr: 'abc', url: 'https://example.com/page?x=1', signature: jsapiSignature({ ticket, nonceStr: 'abc', timestamp: 1700000000, url: 'https://example.com/page?x=1' }) })
    assert.equal(ticketCalls()[0]?.query.type, 'jsapi')
  })

  test('defaults: a 16-character nonce and the current Unix time', async () => {
    const config = await client().jssdk.signature({ url: 'https://example.com/' })
    assert.match(config.nonceStr, /^[A-Za-z0-9]{16}$/)
    assert.equal(config.timestamp, Math.floor(clock / 1000))
  })

  test('the jsapi_ticket is cached and shared like the token: one getticket for many pages and instances', async () => {
    const store = new MemoryStore({ now })
    const a = client(store)
    const b = client(store)
    await Promise.all([...Array.from({ length: 10 }, (_, i) => a.jssdk.signature({ url: `https://example.com/${i}` })), b.jssdk.signature({ url: 'https://example.com/b' })])
    assert.equal(ticketCalls().length, 1)
    assert.ok(await store.get(`ticket:jsapi:${fake.appId}`))
  })

  test('the ticket is refreshed before it expires, and on demand', async () => {
    const api = client()
    const first = await api.jssdk.ticket()
    clock += 7200_000 * 0.9
    await api.jssdk.ticket()
    assert.equal(ticketCalls().length, 2)
    await api.jssdk.refreshTicket()
    assert.equal(ticketCalls().length, 3)
    assert.ok(first.length > 20)
  })

  test('bad input is refused before any call: a relative URL, a nonce with symbols, a fractional timestamp', async () => {
    const api = client()
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.jssdk.signature({ url: '/page' }), input)
    await assert.rejects(api.jssdk.signature({ url: 'https://e.com', nonceStr: 'a b' }), input)
    await assert.rejects(api.jssdk.signature({ url: 'https://e.com', timestamp: 1.5 }), input)
    assert.equal(fake.calls.length, 0)
  })
})
