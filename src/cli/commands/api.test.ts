/**
 * `wxmp token | menu | send | user` and `wxmp fake-wechat`, run in-process against the fake
 * WeChat server over real HTTP, through the same config path as the real CLI: the client is
 * built from WECHAT_* variables and the shared store named by DATABASE_URL (SQLite here).
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../../errors.js'
import { loadConfig, type WxmpConfig } from '../../server/config.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { runMenuCommand, runSendCommand, runTokenCommand, runUserCommand, type ApiCommandContext } from './api.js'
import { runFakeWechatCommand } from './fake-wechat.js'

let fake: FakeWechat
let dir: string
let config: WxmpConfig
const OPENID = 'oWxmpTestUser000000000000001'

async function run(command: (argv: string[], ctx: ApiCommandContext) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await command(argv, { config, print: (l) => out.push(l), printErr: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('wxmp API commands against the fake WeChat server', () => {
  before(async () => {
    fake = await startFakeWechat()
    dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-api-'))
    config = loadConfig(
      { WECHAT_TOKEN: 'clitoken', WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}` },
      { dotenv: false, cwd: dir },
    )
  })
  after(async () => {
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    fake.calls.length = 0
  })

  describe('wxmp token', () => {
    test('prints a valid token; a second run reuses it from the shared store; --refresh fetches anew', async () => {
      const first = await run(runTokenCommand, [])
      assert.equal(first.code, 0)
      assert.ok(fake.tokensIssued.some((t) => t.token === first.out))
      const second = await run(runTokenCommand, [])
      assert.equal(second.out, first.out)
      assert.equal(fake.tokenFetches(), 1)
      await run(runTokenCommand, ['--refresh'])
      assert.equal(fake.tokenFetches(), 2)
    })

    test('--json adds expiry times; --force sends force_refresh', async () => {
      const { out } = await run(runTokenCommand, ['--force', '--json'])
      const parsed = JSON.parse(out) as { access_token: string; expires_at: string }
      assert.ok(parsed.access_token.length > 20)
      assert.ok(Date.parse(parsed.expires_at) > Date.now())
      assert.equal((fake.calls.find((c) => c.path === '/cgi-bin/stable_token')?.body as { force_refresh?: boolean }).force_refresh, true)
    })

    test('a stray argument is a usage error (exit 2), nothing fetched', async () => {
      const { code, err } = await run(runTokenCommand, ['now'])
      assert.equal(code, 2)
      assert.match(err, /usage: wxmp token/)
      assert.equal(fake.calls.length, 0)
    })
  })

  describe('wxmp menu', () => {
    test('push a file, show it, push what show printed, delete', async () => {
      const file = join(dir, 'menu.json')
      writeFileSync(file, JSON.stringify({ button: [{ type: 'click', name: '今日歌曲', key: 'V1001' }, { name: '菜单', sub_button: [{ type: 'view', name: '搜索', url: 'http://www.soso.com/' }] }] }))
      assert.match((await run(runMenuCommand, ['push', file])).out, /menu published \(2 top-level buttons\)/)
      const shown = await run(runMenuCommand, ['show'])
      assert.match(shown.out, /"V1001"/)
      const again = join(dir, 'shown.json')
      writeFileSync(again, shown.out)
      assert.equal((await run(runMenuCommand, ['push', again])).code, 0)
      assert.match((await run(runMenuCommand, ['delete'])).out, /deleted/)
      assert.match((await run(runMenuCommand, ['show'])).out, /no menu has been created/)
    })

    test('a file with matchrule becomes a conditional menu', async () => {
      const base = join(dir, 'base.json')
      writeFileSync(base, JSON.stringify({ button: [{ type: 'click', name: 'a', key: 'a' }] }))
      await run(runMenuCommand, ['push', base])
      const file = join(dir, 'ios.json')
      writeFileSync(file, JSON.stringify({ button: [{ type: 'click', name: 'iOS', key: 'ios' }], matchrule: { client_platform_type: '1' } }))
      assert.match((await run(runMenuCommand, ['push', file])).out, /conditional menu published \(menuid \d+\)/)
    })

    test('--dry-run checks the limits and sends nothing; a broken menu names the button', async () => {
      const good = join(dir, 'good.json')
      writeFileSync(good, JSON.stringify({ button: [{ type: 'click', name: 'a', key: 'a' }] }))
      assert.match((await run(runMenuCommand, ['push', good, '--dry-run'])).out, /valid menu with 1 top-level button \(not sent/)
      const bad = join(dir, 'bad.json')
      writeFileSync(bad, JSON.stringify({ button: [{ type: 'click', name: '一二三四五六', key: 'a' }] }))
      await assert.rejects(run(runMenuCommand, ['push', bad]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /button\[0\]\.name/.test((err as Error).message))
      assert.equal(fake.calls.length, 0)
    })

    test('a missing file or broken JSON is WX_ERR_API_INPUT naming the file', async () => {
      await assert.rejects(run(runMenuCommand, ['push', join(dir, 'nope.json')]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /no such file/.test((err as Error).message))
      const broken = join(dir, 'broken.json')
      writeFileSync(broken, '{"button": [')
      await assert.rejects(run(runMenuCommand, ['push', broken]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /not valid JSON/.test((err as Error).message))
    })

    test('usage errors exit 2', async () => {
      assert.equal((await run(runMenuCommand, [])).code, 2)
      assert.equal((await run(runMenuCommand, ['push'])).code, 2)
      assert.equal((await run(runMenuCommand, ['show', 'extra'])).code, 2)
      assert.equal((await run(runMenuCommand, ['rename'])).code, 2)
    })
  })

  describe('wxmp send and wxmp user', () => {
    test('send: a customer-service text with the words joined', async () => {
      const { code, out } = await run(runSendCommand, [OPENID, 'your', 'order', 'shipped'])
      assert.equal(code, 0)
      assert.equal(out, `sent to ${OPENID}`)
      assert.deepEqual(fake.sent.at(-1)?.body, { touser: OPENID, msgtype: 'text', text: { content: 'your order shipped' } })
    })

    test('send outside the window: the WechatApiError with its hint reaches the dispatcher', async () => {
      fake.setWindow(OPENID, false)
      try {
        await assert.rejects(run(runSendCommand, [OPENID, 'late']), (err: unknown) => isWxmpError(err, 'WX_ERR_API') && /45015/.test((err as Error).message))
      } finally {
        fake.setWindow(OPENID, true)
      }
    })

    test('user: prints the JSON; a non-follower is said so', async () => {
      fake.addUser(OPENID, { remark: 'vip' })
      const { out } = await run(runUserCommand, [OPENID])
      assert.equal((JSON.parse(out) as { remark: string }).remark, 'vip')
      const other = await run(runUserCommand, ['oWxmpTestUser000000000000009'])
      assert.match(other.out, /does not follow/)
    })

    test('usage errors exit 2 without a call', async () => {
      assert.equal((await run(runSendCommand, [OPENID])).code, 2)
      assert.equal((await run(runSendCommand, [])).code, 2)
      assert.equal((await run(runUserCommand, [])).code, 2)
      assert.equal((await run(runUserCommand, [OPENID, 'x'])).code, 2)
      assert.equal(fake.calls.length, 0)
    })
  })
})

describe('wxmp fake-wechat', () => {
  test('listens, prints the variables to set, logs each call, stops on the signal', async () => {
    const lines: string[] = []
    const stop = new AbortController()
    let url = ''
    const done = runFakeWechatCommand(['--port', '0'], (l) => lines.push(l), {
      signal: stop.signal,
      onReady: (f) => {
        url = f.url
      },
    })
    for (let i = 0; i < 100 && url === ''; i++) await new Promise((r) => setTimeout(r, 10))
    const res = await fetch(`${url}/cgi-bin/getcallbackip`)
    assert.equal(((await res.json()) as { errcode: number }).errcode, 41001)
    stop.abort()
    assert.equal(await done, 0)
    assert.match(lines.join('\n'), /WECHAT_API_BASE=http:\/\/127\.0\.0\.1:\d+ WECHAT_APPID=wx\w+ WECHAT_APPSECRET=\w+/)
    assert.match(lines.join('\n'), /GET \/cgi-bin\/getcallbackip → errcode 41001/)
    assert.equal(lines.at(-1), 'fake WeChat API stopped')
  })

  test('a bad port is WX_ERR_CONFIG; a positional is a usage error', async () => {
    await assert.rejects(runFakeWechatCommand(['--port', 'http'], () => {}), (err: unknown) => isWxmpError(err, 'WX_ERR_CONFIG'))
    const lines: string[] = []
    assert.equal(await runFakeWechatCommand(['8081'], (l) => lines.push(l)), 2)
  })
})
