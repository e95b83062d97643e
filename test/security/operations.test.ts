/**
 * Sources and operational endpoints through the real server: the client address behind a
 * trusted proxy, refused requests counted apart from signed ones, rejection lines aggregated per
 * source with exact metrics, /readyz cached and naming only the kind of dependency down, and the
 * operational endpoints on their own port or, on the webhook port, for loopback only.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { Redis } from 'ioredis'
import { signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { privateRedisUnavailable, startPrivateRedis } from '../hardening/support/private-services.js'
import { TOKEN, startSecurityServer } from './support.js'

const inCi = process.env.CI === 'true'
function skipReason(reason: string | undefined): string | false {
  if (reason === undefined) return false
  if (inCi) throw new Error(`${reason}: CI=true requires this suite to run`)
  return reason
}

/** A request from a chosen loopback address (127.0.0.x) with chosen headers. */
function request(url: string, options: { method?: string; body?: string; headers?: Record<string, string>; from?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: { 'content-type': 'text/xml', ...options.headers }, localAddress: options.from ?? '127.0.0.1', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

function forged(i: number): string {
  return `?signature=${'a'.repeat(40)}&timestamp=${Math.floor(Date.now() / 1000)}&nonce=${i}`
}

describe('sources, limits and operational endpoints (the real server)', () => {
  test('behind a trusted proxy, junk spends its own allowance: WeChat\'s signed messages from the same proxy still pass', async () => {
    const s = await startSecurityServer({ WXMP_RATE_LIMIT: '5', WXMP_TRUSTED_PROXIES: '127.0.0.1' })
    try {
      const xff = (address: string) => ({ 'x-forwarded-for': `1.1.1.1, ${address}` })
      const junk: number[] = []
      for (let i = 0; i < 20; i++) junk.push((await request(s.url + forged(i), { method: 'POST', body: '<xml/>', headers: xff('203.0.113.66') })).status)
      assert.deepEqual(junk.slice(0, 5), [401, 401, 401, 401, 401])
      assert.deepEqual(new Set(junk.slice(5)), new Set([429]))
      // the same source's signed messages, and another source's, are untouched by the junk
      for (const source of ['203.0.113.66', '198.51.100.10']) {
        for (let i = 0; i < 5; i++) {
          const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: `from ${source} ${i}` }) })
          const res = await request(s.url + req.search, { method: 'POST', body: req.body, headers: xff(source) })
          assert.equal(res.status, 200, `${source} message ${i}: ${res.body}`)
        }
      }
      const line = s.lines.find((l) => l.obj.code === 'WX_ERR_SIGNATURE_INVALID')
      assert.equal(line?.obj.remote, '203.0.113.66', 'the log names the client, not the proxy')
      // a connection that is not a listed proxy cannot choose its address: 127.0.0.2 is itself
      const spoofed = await request(s.url + forged(99), { method: 'POST', body: '<xml/>', headers: xff('192.0.2.1'), from: '127.0.0.2' })
      assert.equal(spoofed.status, 401)
      assert.equal(s.lines.filter((l) => l.obj.code === 'WX_ERR_SIGNATURE_INVALID').at(-1)?.obj.remote, '127.0.0.2')
      const metrics = await (await fetch(s.url.replace('/wechat', '/metrics'))).text()
      assert.match(metrics, /^wxmp_requests_total\{outcome="rate-limited",code="WX_ERR_RATE_LIMITED"\} 15$/m)
    } finally {
      await s.close()
    }
  })

  test('a flood of forged requests from one source writes a few lines and a summary; metrics count every one', async () => {
    const s = await startSecurityServer()
    try {
      const url = s.url
      let next = 0
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          while (next < 400) await (await fetch(url + forged(next++), { method: 'POST', body: '<xml/>' })).arrayBuffer()
        }),
      )
      const metrics = await (await fetch(url.replace('/wechat', '/metrics'))).text()
      assert.match(metrics, /^wxmp_requests_total\{outcome="rejected",code="WX_ERR_SIGNATURE_INVALID"\} 400$/m)
    } finally {
      await s.close()
    }
    // 5 lines in full per interval of 10 s (one, unless this machine is very slow), the rest summarised on close
    const full = s.lines.filter((l) => l.level === 'warn' && l.obj.code === 'WX_ERR_SIGNATURE_INVALID')
    const summaries = s.lines.filter((l) => l.level === 'warn' && l.obj.rejected !== undefined)
    assert.ok(full.length + summaries.length <= 12, `${full.length} full lines and ${summaries.length} summaries for 400 forged requests`)
    const summarised = summaries.reduce((n, l) => n + Number((l.obj.codes as Record<string, number>).WX_ERR_SIGNATURE_INVALID ?? 0), 0)
    assert.equal(full.length + summarised, 400, 'every refusal is either logged or counted in a summary')
  })

  test('WXMP_OPS_PORT: /healthz, /readyz and /metrics on their own listener (127.0.0.1 by default), none on the webhook port', async () => {
    const s = await startSecurityServer({ WXMP_OPS_PORT: '0' })
    try {
      const ops = s.server.ops
      assert.ok(ops !== undefined)
      assert.match(ops.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        assert.equal((await fetch(ops.url + path)).status, 200, `ops ${path}`)
        assert.equal((await fetch(s.url.replace('/wechat', path))).status, 404, `webhook port ${path}`)
      }
      assert.equal((await fetch(`${ops.url}/wechat`)).status, 404)
    } finally {
      await s.close()
    }
  })

  test('without WXMP_OPS_PORT, in production /readyz and /metrics answer loopback clients only (after the trusted proxies); /healthz anyone', async () => {
    const s = await startSecurityServer({ WXMP_TRUSTED_PROXIES: '127.0.0.1' })
    try {
      const public_ = { 'x-forwarded-for': '203.0.113.5' }
      for (const path of ['/readyz', '/metrics']) {
        const url = s.url.replace('/wechat', path)
        assert.equal((await request(url, { headers: public_ })).status, 404, `${path} from a public client through the proxy`)
        assert.equal((await request(url)).status, 200, `${path} from this host`)
      }
      assert.equal((await request(s.url.replace('/wechat', '/healthz'), { headers: public_ })).status, 200)
    } finally {
      await s.close()
    }
  })

  test('/readyz is cached: 300 requests cost a handful of Redis pings; during an outage it names "redis", not its address', { skip: skipReason(privateRedisUnavailable()) }, async () => {
    const redis = await startPrivateRedis()
    const s = await startSecurityServer({ REDIS_URL: redis.url })
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 })
    try {
      await client.connect()
      const pings = async () => Number(/cmdstat_ping:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0)
      const before = await pings()
      const readyz = s.url.replace('/wechat', '/readyz')
      for (let i = 0; i < 30; i++) await Promise.all(Array.from({ length: 10 }, async () => assert.equal((await fetch(readyz)).status, 200)))
      const spent = (await pings()) - before
      assert.ok(spent <= 5, `${spent} pings for 300 /readyz`)
      client.disconnect()
      await redis.stop()
      let body = ''
      for (let i = 0; i < 50; i++) {
        const res = await fetch(readyz)
        body = await res.text()
        if (res.status === 503) break
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      assert.match(body, /"store":"redis","ok":false/)
      assert.ok(!body.includes(String(redis.port)) && !body.includes('127.0.0.1') && !/ECONNREFUSED|error/i.test(body), body)
      assert.ok(s.lines.some((l) => l.obj.dependency === 'redis' && String(l.obj.err).length > 0), 'the cause is in the log')
    } finally {
      client.disconnect()
      await s.close()
      await redis.destroy()
    }
  })
})
