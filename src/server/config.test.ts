import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../errors.js'
import { loadConfig } from './config.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('WECHAT_AES_KEY without WECHAT_APPID stops the start with the fix named', () => {
  assert.throws(
    () => loadConfig({ WECHAT_TOKEN: 't', WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }, { dotenv: false }),
    (err) => isWxmpError(err, 'WX_ERR_CONFIG') && /WECHAT_AES_KEY is set but WECHAT_APPID is not/.test(err.message),
  )
  const ok = loadConfig({ WECHAT_TOKEN: 't', WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', WECHAT_APPID: 'wx1234567890abcdef' }, { dotenv: false })
  assert.equal(ok.appId, 'wx1234567890abcdef')
})

test("devToken 'read' reads the development Token but never writes one", () => {
  const cwd = join(dir, 'tools')
  const read = loadConfig({}, { cwd, dotenv: false, devToken: 'read' })
  assert.equal(existsSync(join(cwd, 'data')), false)
  assert.match(read.token, /^[A-Za-z0-9]{3,32}$/)
  const created = loadConfig({}, { cwd, dotenv: false })
  assert.ok(existsSync(join(cwd, 'data', 'dev-token')))
  assert.equal(loadConfig({}, { cwd, dotenv: false, devToken: 'read' }).token, created.token)
})

test('WXMP_LOG_FORMAT is pretty, json or auto (default)', () => {
  assert.equal(loadConfig({ WECHAT_TOKEN: 't' }, { dotenv: false }).logFormat, 'auto')
  assert.equal(loadConfig({ WECHAT_TOKEN: 't', WXMP_LOG_FORMAT: 'json' }, { dotenv: false }).logFormat, 'json')
  assert.throws(() => loadConfig({ WECHAT_TOKEN: 't', WXMP_LOG_FORMAT: 'fancy' }, { dotenv: false }), /WXMP_LOG_FORMAT/)
})
