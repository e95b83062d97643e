/**
 * The CLI as a process: start-up failures exit (and quickly), `| head` does not crash it, the
 * tools leave no ./data behind, and `--bot` loads TypeScript or says clearly why not.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REDIS_URL, serviceAvailable } from '../../test/support/services.js'

const SOURCE_CLI = fileURLToPath(new URL('./run-cli-child.ts', import.meta.url))
const BUILT_CLI = fileURLToPath(new URL('../../bin/wxmp.js', import.meta.url))
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-'))
  dirs.push(dir)
  return dir
}

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the CLI in `cwd`; a process still alive after `limitMs` is killed and reported as hung (code null). */
function runCli(args: string[], options: { cwd: string; env?: Record<string, string>; built?: boolean; limitMs?: number; onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void; onStderr?: (chunk: string, child: ReturnType<typeof spawn>) => void }): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, WXMP_LOG_LEVEL: 'silent', WXMP_MESSAGE_LOG: '0' }
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'WECHAT_TOKEN', 'WECHAT_AES_KEY', 'WECHAT_APPID', 'WECHAT_APPSECRET', 'PORT']) delete env[name]
  Object.assign(env, options.env)
  const argv = options.built ? [BUILT_CLI, ...args] : ['--import', import.meta.resolve('tsx'), SOURCE_CLI, ...args]
  const child = spawn(process.execPath, argv, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString()
    options.onStdout?.(c.toString(), child)
  })
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString()
    options.onStderr?.(stderr, child)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 30_000)
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: signal === 'SIGKILL' ? null : code, signal, stdout, stderr })
    }),
  )
}

test('serve with an unreachable REDIS_URL exits 1 instead of hanging', async () => {
  const run = await runCli(['serve', '--port', '0'], { cwd: tempDir(), env: { REDIS_URL: 'redis://127.0.0.1:1/0' } })
  assert.equal(run.code, 1, `exit code (null = still running after 30 s): ${run.stderr}`)
  assert.match(run.stderr, /WX_ERR_STORAGE.*Redis at 127\.0\.0\.1:1/)
})

test('a start-up failure after Redis connected (port in use) closes the Redis client and exits', async (t) => {
  if (!(await serviceAvailable('redis'))) return t.skip('redis not reachable')
  const busy = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => busy.once('listening', resolve))
  try {
    const port = String((busy.address() as AddressInfo).port)
    const run = await runCli(['serve', '--host', '127.0.0.1', '--port', port], { cwd: tempDir(), env: { REDIS_URL, DATABASE_URL: 'memory:' } })
    assert.equal(run.code, 1, `exit code (null = still running after 30 s): ${run.stderr}`)
    assert.match(run.stderr, /port is already in use/)
  } finally {
    busy.close()
  }
})

test('wxmp simulate | head: a closed stdout ends the command quietly, without an EPIPE crash', async () => {
  // a webhook that answers after a while: by then the reader has gone
  const slow = createServer((_req, res) => setTimeout(() => res.end('success'), 300)).listen(0, '127.0.0.1')
  await new Promise((resolve) => slow.once('listening', resolve))
  try {
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/wechat`
    const run = await runCli(['simulate', '--url', url, '--token', 'x', '--late-from', 'off', 'text', 'hi'], {
      cwd: tempDir(),
      // like `head -1`: read the first line, then close the pipe
      onStdout: (_chunk, child) => child.stdout!.destroy(),
    })
    assert.equal(run.code, 0, run.stderr)
    assert.doesNotMatch(run.stderr, /EPIPE|Unhandled|at /)
  } finally {
    slow.close()
  }
})

test('simulate and fake-wechat leave no ./data/dev-token in the folder they run in', async () => {
  const cwd = tempDir()
  const run = await runCli(['simulate', '--url', 'http://127.0.0.1:9/wechat', '--attempts', '1', '--timeout', '500', '--late-from', 'off', 'text', 'hi'], { cwd })
  assert.notEqual(run.code, null)
  assert.match(run.stderr, /no WECHAT_TOKEN and no .*dev-token/, 'says why the Token cannot be the server’s')
  const fake = await runCli(['fake-wechat', '--port', '0', '--quiet'], { cwd, onStdout: (chunk, child) => chunk.includes('listening') && child.kill('SIGTERM') })
  assert.equal(fake.code, 0, fake.stderr)
  assert.deepEqual(readdirSync(cwd), [])
})

test('--bot with a missing file: a sentence and exit 78, no stack trace', async () => {
  const run = await runCli(['serve', '--port', '0', '--bot', './nope.ts'], { cwd: tempDir() })
  assert.equal(run.code, 78)
  assert.match(run.stderr, /--bot \.\/nope\.ts: no such file/)
  assert.doesNotMatch(run.stderr, /\n\s+at /)
})

test('--bot with a TypeScript file runs it under plain node (the built CLI, tsx loaded on demand)', async () => {
  assert.ok(existsSync(join(BUILT_CLI, '../../dist/cli/main.js')), 'dist/ is built (npm run build)')
  const cwd = tempDir()
  writeFileSync(join(cwd, 'bot.ts'), "import type { Bot } from 'wxmp'\nexport default (bot: Bot) => { bot.on('text', (ctx) => ctx.reply('ts')) }\n")
  const run = await runCli(['serve', '--host', '127.0.0.1', '--port', '0', '--bot', 'bot.ts'], {
    cwd,
    built: true,
    env: { DATABASE_URL: 'memory:' },
    // serve runs until a signal: stop it once its banner is out
    onStderr: (all, child) => all.includes('is listening') && child.kill('SIGTERM'),
  })
  assert.match(run.stderr, /bot\.ts is listening/)
  assert.equal(run.code, 0, run.stderr)
})
