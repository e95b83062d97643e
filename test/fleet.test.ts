/**
 * Several instances behind a load balancer: three real server processes share Redis and
 * PostgreSQL. WeChat's retries of one message land on different instances; the handler must
 * run once, every delivery must get the same reply, and the log must hold one row.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { randomBytes } from 'node:crypto'
import { REDIS_URL, createTestDatabase, deleteRedisKeys, serviceAvailable } from './support/services.js'
import { signedRequest } from '../src/testing/signed-request.js'
import { sampleXml, nextMsgId } from '../src/testing/samples.js'
import { openRecords, type Records } from '../src/records/open-records.js'
import { startFakeWechat, type FakeWechat } from '../src/testing/fake-wechat/index.js'

const token = 'fleettoken'
const appId = 'wx' + randomBytes(8).toString('hex')
const instances: Array<{ child: ChildProcess; url: string; runs: string[] }> = []
let records: Records | undefined
let available = false
let fake: FakeWechat | undefined
// a database of its own (the server keeps its tables in public) and keys under its own AppID
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined
const appSecret = randomBytes(16).toString('hex')

before(async () => {
  available = (await serviceAvailable('redis')) && (await serviceAvailable('postgres'))
  if (!available) return
  fake = await startFakeWechat({ appId, appSecret })
  database = await createTestDatabase('wxmp_fleet')
  const DATABASE_URL = database.url
  for (let i = 0; i < 3; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/fleet-instance.ts'], {
      env: { ...process.env, WECHAT_TOKEN: token, WECHAT_APPID: appId, WECHAT_APPSECRET: appSecret, WECHAT_API_BASE: fake.url, REDIS_URL, DATABASE_URL, PORT: '0', HOST: '127.0.0.1', WXMP_LOG_LEVEL: 'warn' },
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
    instances.push({ child, url, runs })
  }
  records = await openRecords(DATABASE_URL)
})

after(async () => {
  for (const { child } of instances) child.kill('SIGTERM')
  await Promise.all(instances.map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))))
  await records?.close()
  await fake?.close()
  await database?.drop()
  if (available) await deleteRedisKeys(REDIS_URL, `wxmp:${appId}:*`)
})

async function deliver(url: string, req: ReturnType<typeof signedRequest>) {
  const started = Date.now()
  const res = await fetch(url + req.search, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text(), ms: Date.now() - started }
}

test('retries on other instances while the first runs: one run, one reply for all, one log row', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const msgId = nextMsgId()
  const req = signedRequest({ token, xml: sampleXml('text', { Content: 'fleet' }, { msgId, openid: 'oFleet' }) })
  const first = deliver(instances[0]!.url, req)
  await new Promise((resolve) => setTimeout(resolve, 200)) // the first delivery is running
  const retries = await Promise.all([deliver(instances[1]!.url, req), deliver(instances[2]!.url, req)])
  const all = [await first, ...retries]
  const late = await deliver(instances[2]!.url, req) // after it finished: the stored reply
  all.push(late)
  t.diagnostic(`latencies ms: ${all.map((r) => r.ms).join(', ')}`)
  for (const r of all) {
    assert.equal(r.status, 200)
    assert.equal(r.body, all[0]!.body)
  }
  assert.match(all[0]!.body, /answered by \d+/)
  const runs = instances.flatMap((i) => i.runs).filter((id) => id === msgId)
  assert.equal(runs.length, 1, 'the handler ran once across the fleet')
  const rows = (await records!.messages.recent({ appId, limit: 100 })).filter((r) => r.msgId === msgId)
  assert.equal(rows.length, 1)
  assert.equal(rows[0]!.replyVia, 'passive')
})

test('different messages spread over the fleet each run once', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const ids = Array.from({ length: 12 }, () => nextMsgId())
  await Promise.all(ids.map((msgId, i) => deliver(instances[i % 3]!.url, signedRequest({ token, xml: sampleXml('text', { Content: String(i) }, { msgId }) }))))
  const runs = instances.flatMap((i) => i.runs)
  for (const id of ids) assert.equal(runs.filter((r) => r === id).length, 1, id)
})

test('the fleet fetches one access token between them', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const replies = await Promise.all(
    Array.from({ length: 9 }, (_, i) => deliver(instances[i % 3]!.url, signedRequest({ token, xml: sampleXml('text', { Content: 'token' }) }))),
  )
  const bodies = new Set(replies.map((r) => /token (\S+)/.exec(r.body)?.[1]))
  assert.equal(bodies.size, 1, `every instance used the same token: ${[...bodies].join(', ')}`)
  assert.equal(fake!.tokenFetches(), 1, 'exactly one token fetch for the whole fleet')
})
