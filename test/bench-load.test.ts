import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { runLoad } from '../bench/load.js'
import { ACCOUNT, checkEcho, requestMaker } from '../bench/requests.js'
import { sha1Sorted } from '../src/pipeline/signature.js'
import { MessageCrypto } from '../src/pipeline/crypto.js'

const crypto = new MessageCrypto({ token: ACCOUNT.token, encodingAESKey: ACCOUNT.encodingAESKey, appId: ACCOUNT.appId })

test('the bench signs each request when it is made, with its own nonce and MsgId', () => {
  let now = 1_780_000_000_000
  const make = requestMaker('aes', '/wechat', () => now)
  const first = make()
  now += 7_000
  const second = make()
  const queryOf = (path: string) => new URLSearchParams(path.slice(path.indexOf('?') + 1))
  const [a, b] = [queryOf(first.path), queryOf(second.path)]
  assert.equal(a.get('timestamp'), '1780000000')
  assert.equal(b.get('timestamp'), '1780000007')
  assert.notEqual(a.get('nonce'), b.get('nonce'))
  for (const [request, query] of [[first, a], [second, b]] as const) {
    assert.equal(query.get('signature'), sha1Sorted([ACCOUNT.token, query.get('timestamp')!, query.get('nonce')!]))
    const encrypt = /<Encrypt><!\[CDATA\[(.+)\]\]><\/Encrypt>/.exec(request.body)![1]!
    assert.equal(query.get('msg_signature'), crypto.signature(query.get('timestamp')!, query.get('nonce')!, encrypt))
    const { xml } = crypto.decrypt(encrypt)
    assert.match(xml, new RegExp(`<CreateTime>${query.get('timestamp')}</CreateTime>`))
    assert.ok(xml.includes(`<Content><![CDATA[${request.content}]]></Content>`))
  }
  const msgIdOf = (body: string) => /<MsgId>(\d+)/.exec(crypto.decrypt(/<Encrypt><!\[CDATA\[(.+)\]\]><\/Encrypt>/.exec(body)![1]!).xml)![1]
  assert.notEqual(msgIdOf(first.body), msgIdOf(second.body))
  // what the runner checks an answer with names a failed status as the problem
  assert.equal(checkEcho('plain', { ...first, content: 'x' }, 500, ''), 'status 500: ')
})

test('a load run sends every connection made requests, none twice, and counts what came back', async () => {
  const seen = new Set<string>()
  let repeated = 0
  const server = createServer((req, res) => {
    const nonce = new URL(req.url!, 'http://x').searchParams.get('nonce')!
    if (seen.has(nonce)) repeated++
    seen.add(nonce)
    req.resume()
    req.on('end', () => res.end('success'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const { port } = server.address() as AddressInfo
    const result = await runLoad({ origin: `http://127.0.0.1:${port}`, connections: 4, amount: 400, next: requestMaker('plain') })
    assert.equal(repeated, 0)
    assert.equal(result.ok, 400)
    assert.equal(seen.size, 400)
    assert.equal(result.non2xx + result.errors + result.timeouts, 0)
    assert.ok(result.p50Ms > 0 && result.p99Ms >= result.p50Ms)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
