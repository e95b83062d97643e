import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { sha1Sorted } from '../pipeline/signature.js'
import { verifyUrl } from './simulator.js'
import { answerWith, botServer, rawServer, token } from '../../test/support/simulator-servers.js'

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
