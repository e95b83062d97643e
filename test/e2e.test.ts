/**
 * End to end: the real server (echo bot, SQLite) on an ephemeral port, driven by the simulator
 * exactly as WeChat would, for every message and event type, in plaintext, compatible and
 * safe mode.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/server/config.js'
import { startServer, type WxmpServer } from '../src/server/app.js'
import { simulate, verifyUrl } from '../src/testing/simulator.js'
import { SAMPLE_KINDS, sampleXml } from '../src/testing/samples.js'

const token = 'e2etoken'
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx2c2769f8efd9abc2'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
let server: WxmpServer

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-e2e-'))
  const config = loadConfig(
    { WECHAT_TOKEN: token, WECHAT_AES_KEY: encodingAESKey, WECHAT_APPID: appId, WECHAT_APPSECRET: 'e2esecret0000000000000000000000', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'e2e.db')}` },
    { cwd: dir, dotenv: false },
  )
  server = await startServer({ config, logger: quiet })
})
after(() => server.close({ drainMs: 1000 }))

/** What the echo bot answers for each kind: a reply MsgType, or no reply. */
function expectedReply(kind: string): string | undefined {
  if (kind === 'image' || kind === 'voice') return kind
  if (['text', 'video', 'shortvideo', 'location', 'link'].includes(kind)) return 'text'
  const event = kind.slice('event:'.length)
  return ['subscribe', 'SCAN', 'CLICK', 'scancode_push', 'scancode_waitmsg', 'location_select'].includes(event) ? 'text' : undefined
}

test('the console URL check passes with the Token and fails without', async () => {
  assert.equal((await verifyUrl({ url: server.http.url, token })).ok, true)
  assert.equal((await verifyUrl({ url: server.http.url, token: 'wrong' })).ok, false)
})

for (const mode of ['plain', 'compat', 'safe'] as const) {
  describe(`${mode} mode`, () => {
    for (const kind of SAMPLE_KINDS) {
      test(kind, async () => {
        const result = await simulate({ url: server.http.url, token, mode, encodingAESKey, appId, xml: sampleXml(kind, { Content: `hi ${mode}` }, { openid: `oE2E${mode}` }), timeoutMs: 4000 })
        assert.equal(result.attempts.length, 1, JSON.stringify(result.attempts))
        const want = expectedReply(kind)
        if (want === undefined) {
          assert.equal(result.final.kind, 'no-reply')
        } else {
          assert.equal(result.final.kind, 'reply', JSON.stringify(result.final))
          assert.equal(result.final.reply?.MsgType, want)
          assert.equal(result.final.encrypted, mode !== 'plain')
          assert.equal(result.final.reply?.ToUserName, `oE2E${mode}`)
        }
        if (kind === 'text') assert.equal(result.final.reply?.Content, `hi ${mode}`)
      })
    }
  })
}
