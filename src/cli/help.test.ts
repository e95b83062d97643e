import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFakeWechat } from '../testing/fake-wechat/index.js'
import { COMMANDS, main, usageOf } from './main.js'

const CHILD = fileURLToPath(new URL('./help-child.ts', import.meta.url))

test('--help on every command and subcommand prints its usage and starts, writes and calls nothing', async () => {
  const fake = await startFakeWechat()
  const cwd = mkdtempSync(join(tmpdir(), 'wxmp-help-'))
  try {
    const env: Record<string, string | undefined> = { ...process.env }
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'WECHAT_TOKEN', 'WECHAT_AES_KEY']) delete env[name]
    // were --help to act, these would be used: the fake's call log and the folder would show it
    Object.assign(env, { WECHAT_API_BASE: fake.url, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, PORT: '0', WXMP_LOG_LEVEL: 'silent' })
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    // a command that acted (serve listening, log tail following) would keep the child alive
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    clearTimeout(timer)
    assert.equal(code, 0, `the child did not finish on its own: ${stderr}`)
    const { results, handles } = JSON.parse(stdout) as { results: { argv: string[]; code: number; out: string }[]; handles: string[] }
    const names = Object.keys(COMMANDS)
    for (const name of names) assert.ok(results.some((r) => r.argv[0] === name), `${name} was run with --help`)
    assert.ok(results.some((r) => r.argv.join(' ') === 'menu push --help'), 'subcommands are run too')
    assert.ok(results.some((r) => r.argv.join(' ') === 'db migrate --help'))
    for (const r of results) {
      assert.equal(r.code, 0, `wxmp ${r.argv.join(' ')} exited ${r.code}: ${r.out}`)
      assert.match(r.out, new RegExp(`^wxmp ${r.argv[0]}\\b`), `wxmp ${r.argv.join(' ')} printed its usage`)
    }
    assert.deepEqual(handles, [], 'no server, client or timer was left open')
    assert.deepEqual(fake.calls, [], 'the WeChat API was not called')
    assert.deepEqual(readdirSync(cwd), [], 'nothing was written (no ./data/dev-token, no database)')
  } finally {
    await fake.close()
    rmSync(cwd, { recursive: true, force: true })
  }
})

test('wxmp help lists every command of the table, and wxmp help <command> is <command> --help', async () => {
  const out: string[] = []
  assert.equal(await main(['help'], (l) => out.push(l)), 0)
  for (const [name, spec] of Object.entries(COMMANDS)) assert.match(out.join('\n'), new RegExp(`\\n  ${name}\\s+${spec.summary.slice(0, 20).replace(/[()]/g, '\\$&')}`))
  const one: string[] = []
  assert.equal(await main(['help', 'log'], (l) => one.push(l)), 0)
  assert.match(one.join('\n'), /^wxmp log tail/)
  assert.doesNotMatch(one.join('\n'), /wxmp followers/, 'only the paragraphs of that command')
})

test('after --, --help is an argument, not a request for help', async () => {
  const err: string[] = []
  // db takes no arguments: reaching its own usage check proves the dispatcher let it run
  assert.equal(await main(['db', '--', '--help'], () => {}, (l) => err.push(l)), 2)
  assert.match(err.join('\n'), /usage: wxmp db migrate/)
})

test('usageOf picks the paragraphs of one command', () => {
  const usage = 'wxmp a x\n  about a\nwxmp ab y\n  about ab\nwxmp a z\n  more a'
  assert.equal(usageOf(usage, 'a'), 'wxmp a x\n  about a\nwxmp a z\n  more a')
  assert.equal(usageOf(usage, 'ab'), 'wxmp ab y\n  about ab')
})
