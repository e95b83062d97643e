import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/server/config.js'
import { botOptionsFrom, startServer } from '../src/server/app.js'
import { readReply, signedRequest, verificationRequest } from '../src/testing/signed-request.js'
import { sampleXml } from '../src/testing/samples.js'
import { isWxmpError } from '../src/errors.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

function tempConfig(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-server-'))
  return loadConfig({ WECHAT_TOKEN: 'servertoken', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, ...extra }, { cwd: dir, dotenv: false })
}

async function post(url: string, req: ReturnType<typeof signedRequest>) {
  const res = await fetch(url + req.search, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text() }
}

describe('the ready-to-run server', () => {
  test('echoes, logs the message with its reply, records followers, answers health checks', async () => {
    const server = await startServer({ config: tempConfig(), logger: quiet })
    try {
      const url = server.http.url
      const get = await fetch(url + verificationRequest({ token: 'servertoken', echostr: '123' }).search)
      assert.equal(await get.text(), '123')
      const msgId = '6054768590064713728'
      const res = await post(url, signedRequest({ token: 'servertoken', xml: sampleXml('text', { Content: '复读' }, { msgId, openid: 'oLog' }) }))
      assert.equal(readReply(res, { token: 'servertoken' }).reply?.Content, '复读')
      await server.bot.drain(1000)
      const [row] = await server.records.messages.recent({ limit: 1 })
      assert.equal(row?.msgId, msgId)
      assert.equal(row?.replyVia, 'passive')
      assert.match(row?.replyXml ?? '', /复读/)
      await post(url, signedRequest({ token: 'servertoken', xml: sampleXml('event:subscribe', { EventKey: 'qrscene_42', Ticket: 'T' }, { openid: 'oFan' }) }))
      const stats = await server.records.followers.stats()
      assert.equal(stats.subscribed, 1)
      assert.equal(stats.recent[0]?.scene, '42')
      const health = await fetch(url.replace('/wechat', '/healthz'))
      assert.equal(health.status, 200)
      const ready = (await (await fetch(url.replace('/wechat', '/readyz'))).json()) as { status: string }
      assert.equal(ready.status, 'ready')
      assert.equal((await fetch(url.replace('/wechat', '/nope'))).status, 404)
    } finally {
      await server.close()
    }
  })

  test('WXMP_MESSAGE_LOG=0 keeps no message rows', async () => {
    const server = await startServer({ config: tempConfig({ WXMP_MESSAGE_LOG: '0' }), logger: quiet })
    try {
      await post(server.http.url, signedRequest({ token: 'servertoken', xml: sampleXml('text') }))
      assert.deepEqual(await server.records.messages.recent({ limit: 5 }), [])
    } finally {
      await server.close()
    }
  })
})

describe('configuration errors name the variable and the likely mistake', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ WECHAT_TOKEN: 'has space' }, /WECHAT_TOKEN/],
    [{ WECHAT_TOKEN: 't', WECHAT_APPID: 'gh_de0f036ce08f' }, /WECHAT_APPID.*原始ID/],
    [{ WECHAT_TOKEN: 't', WECHAT_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=' }, /WECHAT_AES_KEY.*43/],
    [{ WECHAT_TOKEN: 't', PORT: '70000' }, /PORT must be at most 65535/],
    [{ WECHAT_TOKEN: 't', PORT: 'abc' }, /PORT must be a whole number/],
    [{ WECHAT_TOKEN: 't', DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ WECHAT_TOKEN: 't', WECHAT_REQUIRE_ENCRYPTION: '1' }, /WECHAT_AES_KEY is not set/],
    [{ WECHAT_TOKEN: 't', WECHAT_APPSECRET: 'abc' }, /WECHAT_APPID/],
    [{ WECHAT_TOKEN: 't', WECHAT_API_BASE: 'ftp://x' }, /WECHAT_API_BASE/],
    [{ WECHAT_TOKEN: 't', WECHAT_REPLY_TIMEOUT_MS: '6000' }, /WECHAT_REPLY_TIMEOUT_MS/],
    [{ WECHAT_TOKEN: 't', WECHAT_INTERIM: '   ' }, /WECHAT_INTERIM must not be only whitespace/],
    [{ WECHAT_TOKEN: 't', WECHAT_INTERIM: '想'.repeat(601) }, /WECHAT_INTERIM must be at most 600 characters/],
    [{ WECHAT_TOKEN: 't', WECHAT_TYPING_AFTER_MS: '1.5' }, /WECHAT_TYPING_AFTER_MS must be a whole number/],
    [{ WECHAT_TOKEN: 't', WECHAT_TYPING_AFTER_MS: '-1' }, /WECHAT_TYPING_AFTER_MS must be a whole number/],
    [{ WECHAT_TOKEN: 't', WECHAT_TYPING_AFTER_MS: '60001' }, /WECHAT_TYPING_AFTER_MS must be at most 60000/],
  ]
  for (const [env, pattern] of bad) {
    test(`${Object.keys(env).at(-1)} = ${Object.values(env).at(-1)}`, () => {
      assert.throws(() => loadConfig({ ...env }, { dotenv: false }), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && pattern.test(err.message))
    })
  }

  test('WECHAT_INTERIM and WECHAT_TYPING_AFTER_MS reach the bot options; 0 turns typing off; unset keeps the bot defaults', () => {
    const set = loadConfig({ WECHAT_TOKEN: 't', WECHAT_INTERIM: '正在思考，请稍候…', WECHAT_TYPING_AFTER_MS: '2500' }, { dotenv: false })
    assert.deepEqual([botOptionsFrom(set).interim, botOptionsFrom(set).typingAfterMs], ['正在思考，请稍候…', 2500])
    assert.equal(botOptionsFrom(loadConfig({ WECHAT_TOKEN: 't', WECHAT_TYPING_AFTER_MS: '0' }, { dotenv: false })).typingAfterMs, false)
    const unset = botOptionsFrom(loadConfig({ WECHAT_TOKEN: 't' }, { dotenv: false }))
    assert.equal('interim' in unset || 'typingAfterMs' in unset, false)
  })

  test('a secret is never echoed in the error', () => {
    assert.throws(() => loadConfig({ WECHAT_TOKEN: 'sec ret' }, { dotenv: false }), (err) => !(err as Error).message.includes('sec ret'))
  })

  test('without WECHAT_TOKEN a development Token is generated once and reused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-dev-'))
    const a = loadConfig({}, { cwd: dir, dotenv: false })
    const b = loadConfig({}, { cwd: dir, dotenv: false })
    assert.equal(a.dev, true)
    assert.match(a.token, /^[A-Za-z0-9]{20,32}$/)
    assert.equal(a.token, b.token)
  })
})
