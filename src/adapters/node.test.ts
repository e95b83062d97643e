import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { exactPathQuery, serve, webhookCallback } from './node.js'
import { adapterSuite, listen } from '../../test/support/adapter-suite.js'

describe('node:http: http.createServer(webhookCallback(bot))', () => {
  adapterSuite(async (bot) => listen(webhookCallback(bot)), { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ })
})

describe("node:http: serve(bot, { path: '/wechat' })", () => {
  adapterSuite(
    async (bot) => {
      const running = await serve(bot, { port: 0, host: '127.0.0.1' })
      return { port: running.port, fetch: (path, init) => fetch(`http://127.0.0.1:${running.port}${path}`, init), close: () => running.close() }
    },
    { path: '/wechat', allMethods: true, remoteAddress: /127\.0\.0\.1/ },
  )
})

test('exactPathQuery reads the query only when the request line names the path exactly', () => {
  assert.equal(exactPathQuery('/wechat?signature=a&nonce=1+2&x=%E4%BD%A0', '/wechat')?.toString(), new URL('/wechat?signature=a&nonce=1+2&x=%E4%BD%A0', 'http://h').searchParams.toString())
  assert.equal(exactPathQuery('/wechat', '/wechat')?.toString(), '')
  for (const other of ['/wechat/', '/./wechat?a=1', '/wechat2?a=1', '/%77echat', 'http://h/wechat?a=1', '/we?chat', '']) assert.equal(exactPathQuery(other, '/wechat'), undefined, other)
})
