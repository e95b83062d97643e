/** The console costs nothing when it is off: `wxmp serve` in production without operators loads none of src/console. */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('../../src/cli/loaded-modules-child.ts', import.meta.url))
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function loadedModules(env: Record<string, string>): Promise<string[]> {
  const cwd = mkdtempSync(join(tmpdir(), 'wxmp-console-lazy-'))
  dirs.push(cwd)
  const inherited = { ...process.env }
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'WECHAT_APPID', 'WECHAT_APPSECRET', 'PORT', 'WECHAT_TOKEN']) delete inherited[name]
  for (const name of Object.keys(inherited)) if (name.startsWith('WXMP_CONSOLE')) delete inherited[name]
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD], { cwd, env: { ...inherited, WXMP_LOG_LEVEL: 'silent', DATABASE_URL: 'memory:', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.equal(code, 0, stderr)
  return (JSON.parse(stdout) as { esm: string[] }).esm
}

test('production without WXMP_CONSOLE_USERS: the console is off and not even loaded', async () => {
  const esm = await loadedModules({ WECHAT_TOKEN: 'prodtoken' })
  assert.ok(esm.some((u) => u.endsWith('/cli/commands/serve.ts')), 'the recording works')
  assert.equal(esm.filter((u) => u.includes('/src/console/')).length, 0)
})

test('development mode: the console is on (and loaded)', async () => {
  const esm = await loadedModules({})
  assert.ok(esm.some((u) => u.endsWith('/src/console/index.ts')))
})
