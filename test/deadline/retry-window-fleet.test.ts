/**
 * The retry window across instances: two real server processes share Redis (dedup, pending
 * answers, the learned permission) and a message-log database; WeChat's deliveries of each
 * message alternate between them (A, B, A, and the user's follow-ups B, A, …), the way a load
 * balancer may spread them. Handlers of 3, 8, 13, 20 and 60 s on a 订阅号 without customer
 * service: one visible answer each, the handler run once across both, the log row right.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { REDIS_URL, deleteRedisKeys, serviceAvailable } from '../support/services.js'
import { openRecords } from '../../src/records/open-records.js'
import { simulate, type SimulateResult } from '../../src/testing/simulator.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { startFakeWechat, type FakeWechat } from '../../src/testing/fake-wechat/index.js'

const token = 'windowfleet'
const appId = 'wx' + randomBytes(8).toString('hex')
const appSecret = randomBytes(16).toString('hex')
const NOTICE = '内容较长，回复任意文字获取结果'
const instances: Array<{ child: ChildProcess; url: string; runs: string[] }> = []
let available = false
let fake: FakeWechat | undefined
let dir: string | undefined

before(async () => {
  available = await serviceAvailable('redis')
  if (!available) return
  fake = await startFakeWechat({ appId, appSecret, customerService: false })
  dir = mkdtempSync(join(tmpdir(), 'wxmp-window-fleet-'))
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/deadline/window-instance.ts'], {
      env: { ...process.env, WECHAT_TOKEN: token, WECHAT_APPID: appId, WECHAT_APPSECRET: appSecret, WECHAT_API_BASE: fake.url, REDIS_URL, DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, PORT: '0', HOST: '127.0.0.1' },
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
})

after(async () => {
  for (const { child } of instances) child.kill('SIGTERM')
  await Promise.all(instances.map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))))
  await fake?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  if (!available) return
  await deleteRedisKeys(REDIS_URL, `wxmp:${appId}:*`)
})

/** A fetch that sends each request of one conversation to the other instance than the last. */
function alternating(): typeof fetch {
  let n = 0
  return (input, init) => {
    const target = instances[n++ % 2]!.url
    const url = new URL(String(input))
    const to = new URL(target)
    url.host = to.host
    return fetch(url, init)
  }
}

test('two instances on Redis, deliveries alternating: one visible answer per message, one run across the fleet', async (t) => {
  if (!available) return t.skip('Redis is needed')
  const cases = [
    { seconds: 3, openid: 'oWindowFleet003', via: 'passive', deliveries: 1 },
    { seconds: 8, openid: 'oWindowFleet008', via: 'passive', deliveries: 2 },
    { seconds: 13, openid: 'oWindowFleet013', via: 'passive', deliveries: 3 },
    { seconds: 20, openid: 'oWindowFleet020', via: 'next-message', deliveries: 3 },
    { seconds: 60, openid: 'oWindowFleet060', via: 'next-message', deliveries: 3 },
  ]
  const results = await Promise.all(
    cases.map((c) =>
      simulate({ url: instances[0]!.url, token, fetch: alternating(), xml: sampleXml('text', { Content: `sleep ${c.seconds * 1000}` }, { openid: c.openid, msgId: nextMsgId() }), followUp: '继续', followUpWaitMs: 90_000 }),
    ),
  )
  const shown = (r: SimulateResult) => [r, ...(r.followUps ?? [])].map((x) => (x.final.kind === 'reply' ? String(x.final.reply?.Content ?? '') : `(${x.final.kind})`))
  for (const [i, c] of cases.entries()) {
    const texts = shown(results[i]!)
    const answer = `answer for ${c.openid}`
    assert.equal(texts.filter((x) => x === answer).length, 1, `${c.seconds} s: ${texts.join(' | ')}`)
    if (c.via === 'next-message') assert.equal(texts[0], NOTICE, `${c.seconds} s: the notice first`)
    const runs = instances.flatMap((x) => x.runs).filter((o) => o === c.openid)
    assert.equal(runs.length, 1, `${c.seconds} s: the handler ran once across the fleet`)
  }
  const records = await openRecords(`sqlite:${join(dir!, 'wxmp.db')}`)
  try {
    const rows = await records.messages.recent({ appId, limit: 200 })
    for (const c of cases) {
      const row = rows.find((r) => r.openid === c.openid && /sleep/.test(r.rawXml))
      assert.equal(row?.replyVia, c.via, `${c.seconds} s: reply_via`)
      assert.equal(row?.deliveries, c.deliveries, `${c.seconds} s: deliveries`)
    }
  } finally {
    await records.close()
  }
})
