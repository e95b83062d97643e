/**
 * Several processes share one token store (one SQLite file; one Redis when it is up) and
 * talk to one fake WeChat server: asked for a token at the same moment, the processes cause
 * exactly one fetch; a 40001 injected in the middle of their calls costs exactly one refresh
 * and no failed call.
 *
 * The child processes run this same file with WXMP_API_MP_CHILD set: they open the store,
 * build a WechatApi, print "ready", then answer commands read from stdin ("token",
 * "calls N", "quit") with one JSON line each.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { WechatApi } from '../src/api/client.js'
import { createStore } from '../src/storage/create-store.js'
import { prefixed } from '../src/storage/prefixed.js'
import { startFakeWechat, type FakeCall, type FakeWechat } from '../src/testing/fake-wechat/index.js'
import { REDIS_URL, deleteRedisKeys, serviceAvailable } from './support/services.js'

interface ChildTask {
  storeUrl: string
  prefix: string
  baseUrl: string
  appId: string
  appSecret: string
  tokenMode: 'stable' | 'classic'
}

const CHILD_ENV = 'WXMP_API_MP_CHILD'

async function runChild(task: ChildTask): Promise<void> {
  // bounded: a parent that died never leaves this process behind
  const giveUp = setTimeout(() => process.exit(3), 60_000)
  const backend = createStore(task.storeUrl)
  await backend.ping()
  const api = new WechatApi({ appId: task.appId, appSecret: task.appSecret, baseUrl: task.baseUrl, tokenMode: task.tokenMode, store: prefixed(backend, task.prefix), retryDelayMs: 5 })
  const reply = (value: unknown) => process.stdout.write(JSON.stringify(value) + '\n')
  reply({ ready: true })
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) {
    const [command, arg] = line.trim().split(' ')
    if (command === 'token') {
      reply({ token: await api.token.get() })
    } else if (command === 'calls') {
      let ok = 0
      const failures: string[] = []
      // one after another, like a worker serving users: the fault lands in the middle
      for (let i = 0; i < Number(arg); i++) {
        try {
          await api.getCallbackIp()
          ok++
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
      reply({ ok, failures })
    } else if (command === 'quit') {
      break
    }
  }
  lines.close()
  await backend.close()
  clearTimeout(giveUp)
}

/** The parent's handle on one child: send a command, read its next JSON line. */
interface Child {
  proc: ChildProcessWithoutNullStreams
  next(): Promise<Record<string, unknown>>
  send(command: string): void
}

function startChild(task: ChildTask): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(task) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const lines: Interface = createInterface({ input: proc.stdout })
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  lines.on('line', (line) => {
    const w = waiting.shift()
    if (w !== undefined) w(line)
    else queue.push(line)
  })
  return {
    proc,
    send: (command) => proc.stdin.write(command + '\n'),
    next: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child ${proc.pid} did not answer within 30 s; stderr: ${stderr}`)), 30_000)
        const take = (line: string) => {
          clearTimeout(timer)
          try {
            resolve(JSON.parse(line) as Record<string, unknown>)
          } catch {
            reject(new Error(`child ${proc.pid} printed ${JSON.stringify(line)}; stderr: ${stderr}`))
          }
        }
        const queued = queue.shift()
        if (queued !== undefined) take(queued)
        else waiting.push(take)
      }),
  }
}

async function stopChildren(children: Child[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.proc.exitCode !== null) return resolve()
          c.proc.once('exit', () => resolve())
          c.send('quit')
          c.proc.stdin.end()
          setTimeout(() => c.proc.kill(), 10_000).unref()
        }),
    ),
  )
}

/**
 * One scenario: `count` processes on one store. Checks the two promises of the token manager
 * across processes and returns nothing; assertions fail the test.
 */
async function scenario(options: { storeUrl: string; tokenMode: 'stable' | 'classic'; count: number; callsEach: number }): Promise<void> {
  let onCall: ((call: FakeCall) => void) | undefined
  const fake: FakeWechat = await startFakeWechat({ onCall: (call) => onCall?.(call) })
  const task: ChildTask = { storeUrl: options.storeUrl, prefix: `wxmp-mp-${randomUUID()}:`, baseUrl: fake.url, appId: fake.appId, appSecret: fake.appSecret, tokenMode: options.tokenMode }
  const children = Array.from({ length: options.count }, () => startChild(task))
  try {
    for (const c of children) assert.deepEqual(await c.next(), { ready: true })

    // every process asks at the same moment, with nothing cached anywhere
    for (const c of children) c.send('token')
    const tokens = await Promise.all(children.map((c) => c.next()))
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1, 'every process got the same token')
    assert.equal(fake.tokenFetches(), 1, 'exactly one fetch for all processes')

    // a 40001 in the middle of the run: once a fifth of the calls are done, the next one is refused
    const path = '/cgi-bin/getcallbackip'
    const total = options.count * options.callsEach
    let seen = 0
    onCall = (call) => {
      if (call.path === path && ++seen === Math.floor(total / 5)) fake.inject({ errcode: 40001, path })
    }
    for (const c of children) c.send(`calls ${options.callsEach}`)
    const results = (await Promise.all(children.map((c) => c.next()))) as Array<{ ok: number; failures: string[] }>
    assert.deepEqual(
      results.flatMap((r) => r.failures),
      [],
      'no user call failed',
    )
    assert.equal(
      results.reduce((n, r) => n + r.ok, 0),
      total,
    )
    const refused = fake.calls.filter((c) => c.path === path && c.errcode === 40001)
    assert.equal(refused.length, 1, 'the fault was hit once, mid-run')
    assert.ok(refused[0]!.injected)
    assert.equal(fake.tokenFetches(), 2, 'the 40001 cost exactly one refresh')
  } finally {
    await stopChildren(children)
    await fake.close()
    if (options.storeUrl.startsWith('redis')) await deleteRedisKeys(options.storeUrl, `${task.prefix}*`)
  }
}

const childTask = process.env[CHILD_ENV]
if (childTask !== undefined) {
  await runChild(JSON.parse(childTask) as ChildTask)
} else {
  describe('token store shared by several processes', () => {
    let dir: string
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'wxmp-api-mp-'))
    })
    after(() => {
      rmSync(dir, { recursive: true, force: true })
    })

    test('SQLite file, stable_token: 4 processes → one fetch; a mid-run 40001 → one refresh, no failed call', async () => {
      await scenario({ storeUrl: `sqlite:${join(dir, 'stable.db')}`, tokenMode: 'stable', count: 4, callsEach: 25 })
    })

    test('SQLite file, classic /cgi-bin/token: the same two promises', async () => {
      await scenario({ storeUrl: `sqlite:${join(dir, 'classic.db')}`, tokenMode: 'classic', count: 3, callsEach: 25 })
    })

    test('Redis, stable_token: the same two promises across processes', async (t) => {
      if (!(await serviceAvailable('redis'))) return t.skip('Redis is not reachable')
      await scenario({ storeUrl: REDIS_URL, tokenMode: 'stable', count: 3, callsEach: 25 })
    })
  })
}
