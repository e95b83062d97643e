/**
 * The request line is judged before the body (the real server): a forged, stale or replayed
 * query gets its 401/403 while its upload has barely started, and the bytes of bodies in flight
 * are bounded as a whole, with 503 and Retry-After beyond the bound.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { signedRequest, verificationRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { TOKEN, send, startSecurityServer, type SecurityServer } from './support.js'

let s: SecurityServer

/** Sends the head of a POST announcing `declared` bytes and `sent` of them, then waits: resolves with the first answer, or '' after `waitMs`. */
function upload(search: string, declared: number, sent: number, waitMs: number): { answer: Promise<string>; socket: net.Socket } {
  const socket = net.connect(Number(new URL(s.url).port), '127.0.0.1')
  const answer = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve(''), waitMs)
    socket.setEncoding('latin1')
    socket.once('data', (data: string) => {
      clearTimeout(timer)
      resolve(data)
    })
    socket.on('error', () => undefined)
    socket.on('connect', () => socket.write(`POST /wechat${search} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: ${declared}\r\n\r\n${'a'.repeat(sent)}`))
  })
  return { answer, socket }
}

describe('the request line before the body (the real server)', () => {
  before(async () => {
    s = await startSecurityServer({ WXMP_MAX_BODY_BYTES: '65536', WXMP_MAX_BUFFERED_BYTES: '65536' })
  })
  after(async () => {
    await s?.close()
  })

  test('a forged signature, a stale timestamp and a URL check\'s query are answered with the upload still under way', async () => {
    const now = Math.floor(Date.now() / 1000)
    const check = verificationRequest({ token: TOKEN })
    await send(s.url, check.search, { method: 'GET' })
    const cases: Array<[string, string]> = [
      [`?signature=${'a'.repeat(40)}&timestamp=${now}&nonce=1`, '401'],
      [signedRequest({ token: TOKEN, xml: sampleXml('text'), timestamp: String(now - 3600) }).search, '403'],
      [check.search.replace(/&echostr=[^&]*/, ''), '403'],
    ]
    for (const [search, status] of cases) {
      const { answer, socket } = upload(search, 60_000, 100, 5000)
      try {
        assert.match(await answer, new RegExp(`^HTTP/1\\.1 ${status} `), `${search}: answered before the body arrived`)
      } finally {
        socket.destroy()
      }
    }
    assert.equal(s.server.bot.bodyBudget.inUse, 0, 'nothing of those uploads was buffered')
  })

  test('bodies in flight past WXMP_MAX_BUFFERED_BYTES get 503 with Retry-After; the bound comes back when they end', async () => {
    const held = upload(signedRequest({ token: TOKEN, xml: sampleXml('text') }).search, 65_536, 65_500, 60_000)
    try {
      for (let i = 0; i < 500 && s.server.bot.bodyBudget.inUse < 65_500; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      assert.equal(s.server.bot.bodyBudget.inUse, 65_500)
      const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'squeezed out' }) })
      const res = await send(s.url, req.search, { body: req.body })
      assert.deepEqual([res.status, res.body, res.headers.get('retry-after')], [503, 'WX_ERR_OVERLOADED\n', '1'])
    } finally {
      held.socket.destroy()
    }
    for (let i = 0; i < 500 && s.server.bot.bodyBudget.inUse > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(s.server.bot.bodyBudget.inUse, 0)
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'room again' }) })
    assert.equal((await send(s.url, req.search, { body: req.body })).status, 200)
  })
})
