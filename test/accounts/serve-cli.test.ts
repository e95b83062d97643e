/**
 * `wxmp serve --config wxmp.config.json` as a process: every account at its own path on one
 * port, SIGHUP reads the file again (an account added), and a bad file at start is refused
 * with the account and field named.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { verifyUrl } from '../../src/testing/verify-url.js'

const CLI = fileURLToPath(new URL('../support/wxmp-cli.ts', import.meta.url))
// the child runs in a temporary folder: tsx is found from here, not from there
const TSX = import.meta.resolve('tsx')
const baseEnv = (dir: string) => ({ PATH: process.env.PATH ?? '', HOME: dir, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_LOG_LEVEL: 'warn', WXMP_LOG_FORMAT: 'json', WXMP_CONSOLE: '0' })
const account = (token: string, appId: string) => ({ token: { env: token }, appId })

test('wxmp serve --config: each account answers the URL check at its path; SIGHUP adds one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-serve-accounts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'accounts.yaml')
  writeFileSync(file, 'accounts:\n  shop:\n    token: {env: SHOP_TOKEN}\n    appId: wx1111111111111111\n  news:\n    token: {env: NEWS_TOKEN}\n    appId: wx2222222222222222\n    path: /wx/news\n')
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'serve', '--config', file], {
    cwd: dir,
    env: { ...baseEnv(dir), SHOP_TOKEN: 'shoptoken', NEWS_TOKEN: 'newstoken', CITY_TOKEN: 'citytoken' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM')
  })
  // the banner and the log lines go to stderr
  const errors: string[] = []
  child.stdout!.resume()
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 30 s: ${errors.join('\n')}`)), 30_000)
    createInterface({ input: child.stderr! }).on('line', (line) => {
      errors.push(line)
      const m = /^\s+shop\s+(http:\/\/\S+)\/wechat\/shop/.exec(line)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${errors.join('\n')}`)))
  })
  assert.equal((await verifyUrl({ url: `${origin}/wechat/shop`, token: 'shoptoken' })).ok, true)
  assert.equal((await verifyUrl({ url: `${origin}/wx/news`, token: 'newstoken' })).ok, true)
  assert.equal((await verifyUrl({ url: `${origin}/wx/news`, token: 'shoptoken' })).ok, false)
  assert.equal((await fetch(`${origin}/wechat/city?echostr=1`)).status, 404)
  writeFileSync(file, 'accounts:\n  shop:\n    token: {env: SHOP_TOKEN}\n    appId: wx1111111111111111\n  news:\n    token: {env: NEWS_TOKEN}\n    appId: wx2222222222222222\n    path: /wx/news\n  city:\n    token: {env: CITY_TOKEN}\n    appId: wx3333333333333333\n')
  child.kill('SIGHUP')
  let added = false
  for (let i = 0; i < 200 && !added; i++) {
    added = (await verifyUrl({ url: `${origin}/wechat/city`, token: 'citytoken' })).ok
    if (!added) await new Promise((r) => setTimeout(r, 50))
  }
  assert.equal(added, true, `the account added by SIGHUP answers: ${errors.join('\n')}`)
  assert.equal((await verifyUrl({ url: `${origin}/wechat/shop`, token: 'shoptoken' })).ok, true)
  child.kill('SIGTERM')
  await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))
  assert.equal(existsSync(join(dir, 'data', 'dev-token')), false, 'the file brings its Tokens: no development Token was made')
})

test('wxmp serve refuses a bad accounts file at start, naming the account and the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-serve-accounts-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'wxmp.config.json'), JSON.stringify({ accounts: { shop: account('SHOP_TOKEN', 'wx1111111111111111'), news: { ...account('NEWS_TOKEN', 'wx1111111111111111') } } }))
  const run = spawnSync(process.execPath, ['--import', TSX, CLI, 'serve'], { cwd: dir, env: { ...baseEnv(dir), SHOP_TOKEN: 'a', NEWS_TOKEN: 'b' }, encoding: 'utf8', timeout: 30_000 })
  assert.notEqual(run.status, 0)
  assert.match(run.stderr, /accounts "shop" and "news" have the same appId wx1111111111111111/)
  const missing = spawnSync(process.execPath, ['--import', TSX, CLI, 'serve'], { cwd: dir, env: { ...baseEnv(dir), SHOP_TOKEN: 'a' }, encoding: 'utf8', timeout: 30_000 })
  assert.match(missing.stderr, /account "news", token: the environment variable NEWS_TOKEN is not set/)
})
