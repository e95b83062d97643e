/**
 * The replay guard and the dedup memory across restarts and store outages (docs/storage.md,
 * "What the replay guard and dedup remember"), through the real server:
 * - default setup (one instance, SQLite file): a server killed with SIGKILL and started again
 *   still refuses a captured query with a forged body, and answers WeChat's retry of a message
 *   it had answered with the same reply, without running the handler again;
 * - with Redis: while Redis is down, a query seen before the outage is refused; after it, a
 *   query first seen during the outage is refused too.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Redis } from 'ioredis'
import { loadConfig } from '../src/server/config.js'
import { startServer } from '../src/server/app.js'
import { signedRequest, type SignedRequest } from '../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../src/testing/samples.js'
import { REDIS_URL, serviceAvailable } from './support/services.js'

const token = 'replaymemorytoken'
const dir = mkdtempSync(join(tmpdir(), 'wxmp-replay-memory-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

async function post(url: string, req: SignedRequest, body = req.body) {
  const res = await fetch(url + req.search, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text() }
}

/** The real server in a child process (test/support/fleet-instance.ts): READY <url>, RUN <msgId> per handler run. */
async function startInstance(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; runs: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fleet-instance.ts'], {
    env: { ...process.env, WECHAT_TOKEN: token, PORT: '0', HOST: '127.0.0.1', WXMP_LOG_LEVEL: 'error', FLEET_HANDLER_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const runs: string[] = []
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('instance did not start in 30 s')), 30_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer)
        resolve(line.slice(6))
      } else if (line.startsWith('RUN ')) runs.push(line.slice(4))
    })
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)))
  })
  return { child, url, runs }
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

describe('default setup (SQLite file): the replay guard and dedup survive kill -9', () => {
  test('after a restart a captured query with a forged body is refused, and a retry gets the first reply without a second run', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'restart.db')}` }
    const msgId = nextMsgId()
    const captured = signedRequest({ token, xml: sampleXml('text', { Content: 'transfer 1 yuan' }, { msgId, openid: 'oVictim' }) })
    const first = await startInstance(env)
    const answered = await post(first.url, captured)
    assert.equal(answered.status, 200)
    assert.match(answered.body, /answered by \d+/)
    assert.deepEqual(first.runs, [msgId])
    await kill9(first.child)

    const second = await startInstance(env)
    try {
      const forged = sampleXml('text', { Content: 'transfer 1000 yuan' }, { msgId: nextMsgId(), openid: 'oVictim' })
      const replayed = await post(second.url, captured, forged)
      assert.equal(replayed.status, 403, `a forged body on a captured query must be refused after the restart: ${replayed.body}`)
      assert.match(replayed.body, /WX_ERR_REPLAY/)
      const retry = await post(second.url, captured)
      assert.equal(retry.status, 200)
      assert.equal(retry.body, answered.body, 'the retry gets the reply the first delivery got, byte for byte')
      assert.deepEqual(second.runs, [], 'the handler that already answered does not run again')
    } finally {
      await kill9(second.child)
    }
  })
})

/** A TCP relay to Redis that can be cut (connections refused) and restored, to take "Redis" down without touching it. */
async function relayTo(target: URL) {
  const sockets = new Set<net.Socket>()
  let server: net.Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 6379), target.hostname)
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => s.destroy())
        }
        client.pipe(upstream).pipe(client)
      })
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port
        resolve()
      })
    })
  await listen()
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()))
      for (const s of sockets) s.destroy()
      await closed
    },
    restore: listen,
    async close() {
      const closed = new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}

describe('with Redis: an outage does not open a replay window', () => {
  test('while Redis is down a query seen before the outage is refused; after it, one first seen during the outage is refused', async (t) => {
    if (!(await serviceAvailable('redis'))) return t.skip('Redis is needed')
    const relay = await relayTo(new URL(REDIS_URL))
    const appId = `wx${randomBytes(8).toString('hex')}`
    const home = mkdtempSync(join(dir, 'redis-'))
    const config = loadConfig(
      { WECHAT_TOKEN: token, WECHAT_APPID: appId, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(home, 'wxmp.db')}`, REDIS_URL: relay.url },
      { cwd: home, dotenv: false },
    )
    const server = await startServer({ config, logger: quiet })
    const url = server.http.url
    const now = () => String(Math.floor(Date.now() / 1000)) // genuine queries, signed as they are sent
    try {
      const before = signedRequest({ token, xml: sampleXml('text', { Content: 'before' }, { msgId: nextMsgId() }) })
      assert.equal((await post(url, before)).status, 200)

      await relay.cut()
      const during = signedRequest({ token, timestamp: now(), xml: sampleXml('text', { Content: 'during' }, { msgId: nextMsgId() }) })
      assert.equal((await post(url, during)).status, 200, 'a new message, signed in the same second the outage began, is answered (in-process fallback)')
      const forged = sampleXml('text', { Content: 'forged' }, { msgId: nextMsgId() })
      const replayedBefore = await post(url, before, forged)
      assert.equal(replayedBefore.status, 403, `a query seen before the outage must not pass for new: ${replayedBefore.body}`)
      assert.equal((await post(url, during, forged)).status, 403, 'the fallback remembers what it saw')

      await relay.restore()
      await waitFor(async () => {
        const probe = signedRequest({ token, timestamp: now(), xml: sampleXml('text', { Content: 'probe' }, { msgId: nextMsgId() }) })
        await post(url, probe)
        return !(server.sharedStore as { degraded?: boolean }).degraded
      })
      const replayedDuring = await post(url, during, forged)
      assert.equal(replayedDuring.status, 403, `a query first seen during the outage must not pass for new once Redis is back: ${replayedDuring.body}`)
    } finally {
      await server.close()
      await relay.close()
      const redis = new Redis(REDIS_URL)
      const keys = await redis.keys(`wxmp:${appId}:*`)
      if (keys.length > 0) await redis.del(...keys)
      redis.disconnect()
    }
  })
})

async function waitFor(condition: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the store to recover')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
