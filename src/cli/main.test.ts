import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REDIS_URL, serviceAvailable } from '../../test/support/services.js'

const CHILD = fileURLToPath(new URL('./loaded-modules-child.ts', import.meta.url))
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

interface Loaded {
  esm: string[]
  cjs: string[]
}

/** Starts `wxmp serve` in a child with this environment (in an empty directory) and lists what it loaded once listening. */
async function loadedByServe(env: Record<string, string>): Promise<Loaded> {
  const cwd = mkdtempSync(join(tmpdir(), 'wxmp-serve-modules-'))
  dirs.push(cwd)
  const inherited = { ...process.env }
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'WECHAT_AES_KEY', 'WECHAT_APPID', 'WECHAT_APPSECRET', 'PORT']) delete inherited[name]
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD], {
    cwd,
    env: { ...inherited, WECHAT_TOKEN: 'x', WXMP_LOG_LEVEL: 'silent', WXMP_MESSAGE_LOG: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.equal(code, 0, `the child failed: ${stderr}`)
  return JSON.parse(stdout) as Loaded
}

const packageLoaded = (loaded: Loaded, name: string) => loaded.cjs.some((file) => file.includes(`/node_modules/${name}/`))
const moduleLoaded = (loaded: Loaded, path: string) => loaded.esm.some((url) => url.endsWith(path))
const OTHER_COMMANDS = ['/cli/commands/simulate.ts', '/cli/commands/api.ts', '/cli/commands/fake-wechat.ts', '/cli/commands/db.ts', '/cli/commands/rules.ts', '/rules/console-import.ts', '/cli/commands/publish.ts', '/cli/commands/draft.ts', '/cli/commands/material.ts']

test('wxmp serve on memory: loads neither ioredis nor pg, nor the other commands', async () => {
  const loaded = await loadedByServe({ DATABASE_URL: 'memory:' })
  // the recording sees what serve does load, so an empty list cannot pass by accident
  assert.ok(moduleLoaded(loaded, '/cli/commands/serve.ts'), 'the serve command is listed')
  assert.ok(packageLoaded(loaded, 'pino'), 'CommonJS packages are listed')
  assert.equal(packageLoaded(loaded, 'ioredis'), false, 'ioredis is loaded')
  assert.equal(packageLoaded(loaded, 'pg'), false, 'pg is loaded')
  for (const path of OTHER_COMMANDS) assert.equal(moduleLoaded(loaded, path), false, `${path} is loaded`)
  // the rules engine is on, but its regex analysers and the YAML parser load only when needed
  assert.ok(moduleLoaded(loaded, '/rules/middleware.ts'), 'the rules middleware is loaded')
  for (const name of ['scslre', 'regexp-ast-analysis', 'yaml']) assert.equal(packageLoaded(loaded, name) || loaded.esm.some((u) => u.includes(`/node_modules/${name}/`)), false, `${name} is loaded`)
})

test('wxmp serve on the default sqlite: database loads better-sqlite3 only', async () => {
  const loaded = await loadedByServe({})
  assert.ok(packageLoaded(loaded, 'better-sqlite3'))
  assert.equal(packageLoaded(loaded, 'ioredis'), false, 'ioredis is loaded')
  assert.equal(packageLoaded(loaded, 'pg'), false, 'pg is loaded')
})

test('wxmp serve with REDIS_URL loads ioredis but not pg', async (t) => {
  if (!(await serviceAvailable('redis'))) return t.skip('redis not reachable')
  const loaded = await loadedByServe({ REDIS_URL, DATABASE_URL: 'memory:' })
  assert.ok(packageLoaded(loaded, 'ioredis'))
  assert.equal(packageLoaded(loaded, 'pg'), false, 'pg is loaded')
})
