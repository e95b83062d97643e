/**
 * The console's URL check (GET), against the real server process, from the protocol's own
 * examples: a captured request and the official worked example, echoed byte for byte.
 */
import { after, before, describe, test } from 'node:test'
import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import { get, nowSeconds, sortedSha1 } from './wechat-side.js'
import { startWebhook, type WebhookServer } from './server.js'

describe('URL verification: a captured request (token GreedIsGood)', () => {
  let server: WebhookServer
  // the capture is from 2022: the timestamp window is turned off, as documented for replays
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: 'GreedIsGood', WECHAT_TIMESTAMP_TOLERANCE: '0' })))
  after(() => server?.stop())

  const captured = { signature: '37cc4891f809493628677ae2b592e63c938c0b03', timestamp: '1668869433', nonce: '977789310', echostr: '8641591277801631551' }

  test('the captured signature is the sorted sha1 the protocol describes', () => {
    assert.equal(sortedSha1('GreedIsGood', '1668869433', '977789310'), captured.signature)
  })

  test('answers 200 with echostr verbatim: no quotes, no newline, no BOM', async () => {
    const answer = await get(server.url, captured)
    assert.equal(answer.status, 200)
    assert.equal(answer.body, '8641591277801631551')
    assert.match(answer.contentType, /^text\/plain/)
  })

  test('the console may submit the same check again (and WeChat adds openid): the same answer', async () => {
    assert.equal((await get(server.url, captured)).body, captured.echostr)
    assert.equal((await get(server.url, { ...captured, openid: 'x' })).body, captured.echostr)
  })

  test('a wrong or upper-cased signature is refused (not 200), so the console says Token验证失败', async () => {
    for (const signature of ['37cc4891f809493628677ae2b592e63c938c0b04', captured.signature.toUpperCase(), '']) {
      const answer = await get(server.url, { ...captured, signature })
      assert.equal(answer.status, 401, signature)
      assert.notEqual(answer.body, captured.echostr)
    }
  })

  test('the parts are sorted as strings, not as numbers', async () => {
    const timestamp = nowSeconds()
    const nonce = '99' // numerically smallest, lexicographically last
    const answer = await get(server.url, { signature: sortedSha1('GreedIsGood', timestamp, nonce), timestamp, nonce, echostr: '314159' })
    assert.equal(answer.body, '314159')
    // what a server sorting the numbers numerically would compute: "99" first
    const numeric = createHash('sha1').update(`99${timestamp}GreedIsGood`).digest('hex')
    assert.equal((await get(server.url, { signature: numeric, timestamp, nonce, echostr: '314160' })).status, 401)
  })

  test('a signed check without echostr is a 400 naming the cause', async () => {
    const timestamp = nowSeconds()
    const answer = await get(server.url, { signature: sortedSha1('GreedIsGood', timestamp, '12345'), timestamp, nonce: '12345' })
    assert.equal(answer.status, 400)
    assert.match(answer.body, /ECHOSTR/)
  })

  test('another path is 404; another method 405', async () => {
    assert.equal((await get(server.url.replace(/\/wechat$/, '/other'), captured)).status, 404)
    const put = await fetch(`${server.url}?${new URLSearchParams(captured)}`, { method: 'PUT', body: 'x' })
    assert.equal(put.status, 405)
  })
})

describe('URL verification: the official worked example (token AAAAA), on a server in safe mode', () => {
  let server: WebhookServer
  before(
    async () =>
      (server = await startWebhook({
        WECHAT_TOKEN: 'AAAAA',
        WECHAT_TIMESTAMP_TOLERANCE: '0',
        WECHAT_APPID: 'wx2c2769f8efd9abc2',
        WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
        WECHAT_REQUIRE_ENCRYPTION: '1',
      })),
  )
  after(() => server?.stop())

  test('the check is never encrypted for an Official Account, even when only encrypted messages are accepted', async () => {
    assert.equal(sortedSha1('AAAAA', '1714037059', '486452656'), '899cf89e464efb63f54ddac96b0a0a235f53aa78')
    const answer = await get(server.url, { signature: '899cf89e464efb63f54ddac96b0a0a235f53aa78', timestamp: '1714037059', nonce: '486452656', echostr: '6930577286587264823' })
    assert.equal(answer.status, 200)
    assert.equal(answer.body, '6930577286587264823')
  })

  test('the other official example, where the nonce sorts before the timestamp', async () => {
    assert.equal(sortedSha1('AAAAA', '1714036504', '1514711492'), 'f464b24fc39322e44b38aa78f5edd27bd1441696')
    const answer = await get(server.url, { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', echostr: '4375120948345356249', timestamp: '1714036504', nonce: '1514711492' })
    assert.equal(answer.status, 200)
    assert.equal(answer.body, '4375120948345356249')
  })
})
