/**
 * `wxmp doctor` against a real server and the fake WeChat: all ✓, then each failure injected
 * (through the fake's fault injection, a wrong Token, a skewed clock, a store that is down, a
 * database not migrated) gives its ✗ with the advice for it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openRecords } from '../records/open-records.js'
import { startServer, type WxmpServer } from '../server/app.js'
import { loadConfig, type WxmpConfig } from '../server/config.js'
import { startFakeWechat, type FakeWechat } from '../testing/fake-wechat/index.js'
import { runDoctor, runDoctorCommand } from './command.js'
import type { DoctorReport } from './report.js'

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
let dir: string
let fake: FakeWechat
let server: WxmpServer
let config: WxmpConfig

const status = (report: DoctorReport, id: string) => report.checks.find((c) => c.id === id)

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxmp-doctor-'))
  fake = await startFakeWechat()
  config = loadConfig(
    {
      WECHAT_TOKEN: 'doctortoken',
      WECHAT_APPID: fake.appId,
      WECHAT_APPSECRET: fake.appSecret,
      WECHAT_AES_KEY: AES_KEY,
      WECHAT_API_BASE: fake.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
    },
    { cwd: dir, dotenv: false },
  )
  server = await startServer({ config, logger: quiet })
  config = { ...config, port: server.http.port }
})
after(async () => {
  await server.close()
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('wxmp doctor', () => {
  test('a healthy deployment: every check ✓ and exit code 0', async () => {
    fake.reset()
    const lines: string[] = []
    assert.equal(await runDoctorCommand([], { config, print: (l) => lines.push(l) }), 0, lines.join('\n'))
    const text = lines.join('\n')
    assert.doesNotMatch(text, /✗/)
    for (const title of ['URL verification', 'message round trip', 'clock', 'access token', 'callback IPs', 'customer service', 'menus', 'mass send', 'shared store', 'database']) {
      assert.match(text, new RegExp(`✓ ${title}`), title)
    }
    assert.match(text, /safe mode/)
    assert.match(text, /all \d+ checks passed/)
    // it only read: no message was sent to anyone
    assert.deepEqual(fake.sent, [])
  })

  test('--json gives the same checklist to scripts', async () => {
    fake.reset()
    const lines: string[] = []
    assert.equal(await runDoctorCommand(['--json'], { config, print: (l) => lines.push(l) }), 0)
    const report = JSON.parse(lines.join('\n')) as DoctorReport
    assert.equal(report.ok, true)
    assert.ok(report.checks.every((c) => c.status !== 'fail'))
  })

  test('40164 and 48001 injected: two ✗ with the IP to whitelist and the late-reply advice, exit 1', async () => {
    fake.reset()
    fake.inject({ path: '/cgi-bin/stable_token', errcode: 40164 })
    const lines: string[] = []
    assert.equal(await runDoctorCommand([], { config, print: (l) => lines.push(l) }), 1)
    const text = lines.join('\n')
    assert.match(text, /✗ access token .*40164/)
    assert.match(text, /→ add this server's outbound IP 203\.0\.113\.7 to 公众号后台 → 基本配置 → IP白名单/)
    fake.reset()
    fake.inject({ path: '/cgi-bin/customservice/getkflist', errcode: 48001 })
    const pinned = await runDoctor({ ...config, late: 'customer-service' })
    assert.equal(status(pinned, 'customer-service')?.status, 'fail')
    assert.match(status(pinned, 'customer-service')!.advice!, /leave WECHAT_LATE_REPLY unset/)
    // the default (auto) carries slow replies without the permission: said, not failed
    fake.reset()
    fake.inject({ path: '/cgi-bin/customservice/getkflist', errcode: 48001 })
    const auto = await runDoctor(config)
    assert.equal(status(auto, 'customer-service')?.status, 'info')
    assert.match(status(auto, 'customer-service')!.detail, /retries as one ~15 s window/)
  })

  test('40125: the AppSecret is named', async () => {
    fake.reset()
    const report = await runDoctor({ ...config, appSecret: 'wrongsecret0000000000000000000000' })
    assert.equal(status(report, 'token')?.status, 'fail')
    assert.match(status(report, 'token')!.advice!, /AppSecret is wrong/)
    assert.equal(status(report, 'callback-ip')?.status, 'skip', 'the API checks wait for a token')
  })

  test('a Token that differs from the server’s: verification and round trip ✗', async () => {
    fake.reset()
    const report = await runDoctor({ ...config, token: 'notthetoken' })
    assert.equal(status(report, 'verify')?.status, 'fail')
    assert.match(status(report, 'verify')!.advice!, /Token/)
    assert.equal(status(report, 'post')?.status, 'fail')
  })

  test('nothing listening at the URL: ✗ with where to look', async () => {
    const report = await runDoctor(config, { url: 'http://127.0.0.1:9/wechat', timeoutMs: 1000 })
    assert.equal(status(report, 'verify')?.status, 'fail')
    assert.match(status(report, 'verify')!.advice!, /nothing answered/)
    assert.equal(status(report, 'url')?.status, 'fail', 'port 9 is not one WeChat calls')
  })

  test('a clock 10 minutes off: ✗ sync the clock', async () => {
    fake.reset()
    const report = await runDoctor(config, { now: () => Date.now() + 600_000 })
    assert.equal(status(report, 'clock')?.status, 'fail')
    assert.match(status(report, 'clock')!.detail, /60\d s ahead of WeChat's/)
    assert.match(status(report, 'clock')!.advice!, /sync the clock/)
  })

  test('getcallbackip failing, menus and mass send not allowed', async () => {
    fake.reset()
    fake.inject({ path: '/cgi-bin/getcallbackip', errcode: 45009 })
    fake.inject({ path: '/cgi-bin/menu/get', errcode: 48001 })
    fake.inject({ path: '/cgi-bin/message/mass/speed/get', errcode: 48001 })
    const report = await runDoctor(config)
    assert.equal(status(report, 'callback-ip')?.status, 'fail')
    assert.equal(status(report, 'menus')?.status, 'info', 'a missing permission is a fact, not a fault')
    assert.equal(status(report, 'mass-send')?.status, 'info')
  })

  test('Redis down and a database not migrated', async () => {
    const fresh = join(dir, 'unmigrated.db')
    const records = await openRecords(`sqlite:${fresh}`, { migrate: false })
    await records.close()
    const report = await runDoctor({ ...config, redisUrl: 'redis://127.0.0.1:1/0', databaseUrl: `sqlite:${fresh}` })
    assert.equal(status(report, 'store')?.status, 'fail')
    assert.match(status(report, 'store')!.advice!, /Redis/)
    assert.equal(status(report, 'database')?.status, 'fail')
    assert.match(status(report, 'database')!.advice!, /wxmp db migrate/)
    const missing = await runDoctor({ ...config, databaseUrl: `sqlite:${join(dir, 'absent.db')}` })
    assert.match(status(missing, 'database')!.detail, /does not exist/)
  })

  test('without API credentials the API checks are skipped, not failed', async () => {
    const report = await runDoctor({ ...config, appId: undefined, appSecret: undefined, encodingAESKey: undefined })
    assert.equal(status(report, 'token')?.status, 'skip')
    assert.equal(status(report, 'post')?.status, 'ok', 'plaintext round trip')
    assert.equal(report.ok, true)
  })
})
