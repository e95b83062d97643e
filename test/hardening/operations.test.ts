/**
 * Operations: secrets never reach the logs, every request line carries a request id, the
 * per-address rate limit, /metrics, and graceful shutdown of the real server process.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/server/config.js'
import { startServer } from '../../src/server/app.js'
import { readReply, signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { startServerProcess } from './support/server-process.js'

const TOKEN = 'opsTokenSecret7'
const APP_SECRET = 'opsAppSecretValue0123456789abcdef'
const AES_KEY = 'Qm9zc1NlY3JldEtleTAxMjM0NTY3ODlhYmNkZWZnaGk'
const APP_ID = 'wx7a1b2c3d4e5f6a7b'

function tempDb(): string {
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'wxmp-ops-')), 'wxmp.db')}`
}

async function post(url: string, req: ReturnType<typeof signedRequest>): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url + req.search, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text(), headers: res.headers }
}

describe('operations', () => {
  test('Token, AppSecret, EncodingAESKey and access tokens never appear in the log output', async () => {
    const server = await startServerProcess({ WECHAT_TOKEN: TOKEN, WECHAT_APPID: APP_ID, WECHAT_APPSECRET: APP_SECRET, WECHAT_AES_KEY: AES_KEY, WECHAT_API_BASE: 'http://127.0.0.1:9', DATABASE_URL: tempDb() })
    try {
      const url = server.url
      // a handler that logs the configuration, plain and encrypted traffic, and rejections of every kind
      const logged = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'log secrets' }) })
      assert.equal(readReply(await post(url, logged), { token: TOKEN }).reply?.Content, 'logged')
      await server.waitForLog((l) => l.msg === 'handler logged its configuration')
      const encrypted = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'secret talk' }), mode: 'safe', encodingAESKey: AES_KEY, appId: APP_ID })
      assert.equal((await post(url, encrypted)).status, 200)
      // a fresh query: the one above was used already, and its reuse would be refused as a replay first
      const tampered = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'secret talk' }), mode: 'safe', encodingAESKey: AES_KEY, appId: APP_ID })
      await post(url, { ...tampered, search: tampered.search.replace(/msg_signature=\w+/, 'msg_signature=' + '0'.repeat(40)) })
      await fetch(`${url}?signature=x&timestamp=1&nonce=1&token=${TOKEN}&access_token=ACCESS_TOKEN_SHOULD_NOT_LEAK`, { method: 'POST', body: 'x' })
      await fetch(url.replace('/wechat', '/admin'))
      await server.waitForLog((l) => l.code === 'WX_ERR_NOT_FOUND')

      const output = server.raw.join('\n')
      for (const code of ['WX_ERR_MSG_SIGNATURE_INVALID', 'WX_ERR_SIGNATURE_INVALID', 'WX_ERR_NOT_FOUND']) {
        assert.ok(server.logs.some((l) => l.code === code), `a ${code} line was logged`)
      }
      for (const [name, secret] of Object.entries({ Token: TOKEN, AppSecret: APP_SECRET, EncodingAESKey: AES_KEY, access_token: 'ACCESS_TOKEN_SHOULD_NOT_LEAK' })) {
        assert.ok(!output.includes(secret), `${name} appears in the log output`)
      }
      assert.match(output, /\[redacted\]/, 'the handler\'s secret fields were there, redacted')
    } finally {
      await server.stop()
    }
  })

  test('every request\'s log line carries its own request id', async () => {
    const server = await startServerProcess({ WECHAT_TOKEN: TOKEN, DATABASE_URL: tempDb() })
    try {
      for (let i = 0; i < 3; i++) await fetch(`${server.url}?signature=${'a'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=${i}`, { method: 'POST', body: '<xml/>' })
      await server.waitForLog(() => server.logs.filter((l) => l.code === 'WX_ERR_SIGNATURE_INVALID').length === 3)
      const ids = server.logs.filter((l) => l.code === 'WX_ERR_SIGNATURE_INVALID').map((l) => l.requestId)
      assert.equal(new Set(ids).size, 3)
      for (const id of ids) assert.match(String(id), /^[a-z0-9]+-[a-z0-9]+$/)
    } finally {
      await server.stop()
    }
  })

  test('the per-address rate limit answers 429 with Retry-After, logs once, counts every refusal, and leaves health checks alone', async () => {
    const lines: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = []
    const logger = {
      debug() {},
      info() {},
      warn: (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
      error() {},
      child: () => logger,
    }
    const config = loadConfig({ WECHAT_TOKEN: TOKEN, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: tempDb(), WXMP_RATE_LIMIT: '20' }, { dotenv: false })
    const server = await startServer({ config, logger })
    try {
      const statuses: number[] = []
      let retryAfter: string | null = null
      for (let i = 0; i < 26; i++) {
        const res = await post(server.http.url, signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: `n${i}` }) }))
        statuses.push(res.status)
        if (res.status === 429) {
          retryAfter = res.headers.get('retry-after')
          assert.equal(res.body, 'WX_ERR_RATE_LIMITED\n')
        }
      }
      assert.equal(statuses.filter((s) => s === 200).length, 20)
      assert.equal(statuses.filter((s) => s === 429).length, 6)
      assert.match(retryAfter ?? '', /^[1-9]\d*$/)
      assert.equal(lines.filter((l) => l.obj.code === 'WX_ERR_RATE_LIMITED').length, 1, 'one line per burst, not per request')
      assert.equal((await fetch(server.http.url.replace('/wechat', '/healthz'))).status, 200)
      const metrics = await (await fetch(server.http.url.replace('/wechat', '/metrics'))).text()
      assert.match(metrics, /^wxmp_requests_total\{outcome="rate-limited",code="WX_ERR_RATE_LIMITED"\} 6$/m)
      assert.match(metrics, /^wxmp_requests_total\{outcome="replied",code=""\} 20$/m)
      assert.match(metrics, /^wxmp_store_degraded 0$/m)
      assert.match(metrics, /^wxmp_spool_pending 0$/m)
    } finally {
      await server.close()
    }
  })

  test('graceful shutdown: SIGTERM lets a request in flight finish, then the process exits 0 and stops listening', async () => {
    const server = await startServerProcess({ WECHAT_TOKEN: TOKEN, DATABASE_URL: tempDb(), HARDENING_SLOW_MS: '700' })
    try {
      const inFlight = post(server.url, signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'slow' }) }))
      await server.waitForLog((l) => l.msg === 'slow handler started')
      server.child.kill('SIGTERM')
      const res = await inFlight
      assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'slow done')
      assert.equal(await server.exited, 0)
      await assert.rejects(fetch(server.url.replace('/wechat', '/healthz')), /fetch failed/)
    } finally {
      await server.stop()
    }
  })
})
