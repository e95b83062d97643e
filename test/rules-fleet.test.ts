/**
 * A two-instance fleet (real server processes sharing Redis and PostgreSQL): a rule added with
 * the `wxmp rules` CLI (its own process, on the same DATABASE_URL) answers on both instances
 * within 2 s, without a restart; removing it is followed just as fast.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { REDIS_URL, createTestDatabase, deleteRedisKeys, serviceAvailable } from './support/services.js'
import { sampleXml } from '../src/testing/samples.js'
import { simulate } from '../src/testing/simulator.js'

const token = 'rulesfleettoken'
const appId = 'wx' + randomBytes(8).toString('hex')
const env: NodeJS.ProcessEnv = { ...process.env, WECHAT_TOKEN: token, WECHAT_APPID: appId, REDIS_URL, PORT: '0', HOST: '127.0.0.1', WXMP_MESSAGE_LOG: '0', WECHAT_LATE_REPLY: 'drop', WXMP_LOG_LEVEL: 'warn' }
delete env.WECHAT_APPSECRET
const instances: Array<{ child: ChildProcess; url: string }> = []
let available = false
// a database of its own: the server keeps its tables in the public schema
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined

before(async () => {
  available = (await serviceAvailable('redis')) && (await serviceAvailable('postgres'))
  if (!available) return
  database = await createTestDatabase('wxmp_rules_fleet')
  env.DATABASE_URL = database.url
  for (let i = 0; i < 2; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/rules-instance.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('instance did not start in 30 s')), 30_000)
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('READY ')) return
        clearTimeout(timer)
        resolve(line.slice(6))
      })
      child.once('exit', (code) => reject(new Error(`instance exited with ${code}`)))
    })
    instances.push({ child, url })
  }
})

after(async () => {
  for (const { child } of instances) child.kill('SIGTERM')
  await Promise.all(instances.map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))))
  await database?.drop()
  // the instances' replay, dedup and rules-cache keys, all under this run's AppID
  if (available) await deleteRedisKeys(REDIS_URL, `wxmp:${appId}:*`)
})

/** Runs `wxmp rules …` as its own process with the fleet's configuration. */
function wxmp(...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/wxmp-cli.ts', ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wxmp ${argv.join(' ')} exited with ${code}: ${out}`))))
  })
}

async function userSaw(url: string, content: string): Promise<string> {
  return (await simulate({ url, token, xml: sampleXml('text', { Content: content }, { openid: `oFleet${randomBytes(4).toString('hex')}` }) })).userSaw
}

/** Sends the message to `url` until `want` comes back; the ms it took from `since`. */
async function until(url: string, content: string, want: string, since: number, limitMs: number): Promise<number> {
  for (;;) {
    const saw = await userSaw(url, content)
    const ms = Date.now() - since
    if (saw === want) return ms
    if (ms > limitMs) assert.fail(`still ${JSON.stringify(saw)} ${ms} ms after the change, expected ${JSON.stringify(want)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test('a rule added with the CLI answers on both instances within 2 s; a removal too', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]
  assert.equal(await userSaw(b.url, '舰队口令'), '(no reply)', 'nothing answers before the rule exists')
  assert.match(await wxmp('rules', 'add', '--id', 'fleet', '--exact', '舰队口令', '--text', '全舰队已收到'), /^added: /)
  const changed = Date.now()
  const onB = await until(b.url, '舰队口令', '全舰队已收到', changed, 2000)
  const onA = await until(a.url, '舰队口令', '全舰队已收到', changed, 2000)
  t.diagnostic(`answered on the other instance ${onB} ms after the CLI finished (the first ${onA} ms)`)
  await wxmp('rules', 'remove', 'fleet')
  const removed = Date.now()
  t.diagnostic(`removal followed in ${await until(b.url, '舰队口令', '(no reply)', removed, 2000)} ms`)
})
