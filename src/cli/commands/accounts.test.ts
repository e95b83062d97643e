/**
 * Several accounts on the command line, end to end through the dispatcher: an accounts file
 * with two accounts against the fake WeChat (which knows one AppID: the other account's token
 * fails with 40013, as a wrong AppID does), `--account` picking one, the error listing the
 * names, `wxmp accounts` with each account's token, last message and mode, and `log tail` /
 * `followers` narrowed to the account; on SQLite and on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTestDatabase, serviceAvailable } from '../../../test/support/services.js'
import { checkSignature } from '../../pipeline/signature.js'
import { openRecords } from '../../records/open-records.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { main } from '../main.js'
import type { AccountHealth } from './accounts.js'

const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0)

async function run(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), env)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

async function seed(databaseUrl: string, fake: FakeWechat): Promise<void> {
  const records = await openRecords(databaseUrl)
  try {
    const base = { msgType: 'text', encrypted: false, rawXml: '<xml><Content>hi</Content></xml>' }
    await records.messages.recordInbound({ ...base, appId: fake.appId, account: 'shop', msgKey: 's1', openid: 'oShopUser1', msgId: '1', createTime: T0 / 1000, receivedAt: T0 })
    await records.messages.recordInbound({ ...base, appId: 'wxnews0000000001', account: 'news', msgKey: 'n1', openid: 'oNewsUser1', msgId: '2', createTime: T0 / 1000 + 60, receivedAt: T0 + 60_000 })
    await records.followers.record({ appId: fake.appId, account: 'shop', openid: 'oShopUser1', event: 'subscribe', at: T0, scene: null })
    await records.followers.record({ appId: 'wxnews0000000001', account: 'news', openid: 'oNewsUser1', event: 'subscribe', at: T0, scene: null })
    await records.followers.record({ appId: 'wxnews0000000001', account: 'news', openid: 'oNewsUser2', event: 'subscribe', at: T0, scene: null })
  } finally {
    await records.close()
  }
}

function suite(name: string, database: () => Promise<{ url: string; drop(): Promise<void> } | undefined>, skip: string | false = false) {
  describe(`several accounts on the command line (${name})`, { skip }, () => {
    let fake: FakeWechat
    let dir: string
    let db: { url: string; drop(): Promise<void> } | undefined
    let fileEnv: NodeJS.ProcessEnv
    let envOnly: NodeJS.ProcessEnv
    before(async () => {
      fake = await startFakeWechat()
      dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-accounts-'))
      db = await database()
      const databaseUrl = db?.url ?? `sqlite:${join(dir, 'wxmp.db')}`
      const file = join(dir, 'wxmp.config.json')
      writeFileSync(
        file,
        JSON.stringify({
          accounts: {
            shop: { token: 'shoptoken', appId: fake.appId, appSecret: { env: 'SHOP_SECRET' }, encodingAESKey: AES_KEY, requireEncryption: true, late: 'customer-service' },
            news: { token: 'newstoken', appId: 'wxnews0000000001', appSecret: 'newssecret', path: '/wx/news', late: 'next-message' },
          },
        }),
      )
      const common = { PATH: process.env.PATH, WECHAT_API_BASE: fake.url, DATABASE_URL: databaseUrl, WXMP_LOG_LEVEL: 'silent' }
      fileEnv = { ...common, WXMP_CONFIG_FILE: file, SHOP_SECRET: fake.appSecret }
      envOnly = { ...common, WECHAT_TOKEN: 'envtoken', WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret }
      await seed(databaseUrl, fake)
    })
    after(async () => {
      await fake?.close()
      await db?.drop()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    test('without an accounts file every command works as before, and --account names nothing to pick', async () => {
      const token = await run(envOnly, 'token')
      assert.equal(token.code, 0, token.err)
      assert.match(token.out, /^\S{20,}$/)
      const refused = await run(envOnly, 'token', '--account', 'shop')
      assert.equal(refused.code, 2)
      assert.match(refused.err, /--account "shop": there is no accounts file .* only the environment's account "default"/)
      // the environment's account has its name
      assert.equal((await run(envOnly, 'token', '--account', 'default')).code, 0)
      const log = await run(envOnly, 'log', 'tail', '--once')
      assert.match(log.out, /oShopUser1/)
      assert.match(log.out, /oNewsUser1/, 'not filtered: one account, the whole log')
    })

    test('with two accounts a command needs --account, and the error lists them (exit 2)', async () => {
      const none = await run(fileEnv, 'token')
      assert.equal(none.code, 2)
      assert.match(none.err, /configures 2 accounts: pick one with --account <name> \(shop, news\)/)
      const unknown = await run(fileEnv, 'menu', 'show', '--account', 'city')
      assert.equal(unknown.code, 2)
      assert.match(unknown.err, /no account named "city" .*: the accounts are shop, news/)
      assert.equal(fake.calls.filter((c) => c.path.includes('menu')).length, 0, 'nothing was called')
    })

    test('--account picks the account: its AppID and AppSecret reach WeChat', async () => {
      const shop = await run(fileEnv, 'token', '--account', 'shop')
      assert.equal(shop.code, 0, shop.err)
      const news = await run(fileEnv, '--account=news', 'token')
      assert.equal(news.code, 1)
      assert.match(news.err, /40013/)
    })

    test('wxmp accounts: each account with its token, last message, mode, path and late reply', async () => {
      const table = await run(fileEnv, 'accounts')
      assert.equal(table.code, 1, 'a failing token makes the exit code 1')
      const lines = table.out.split('\n')
      assert.match(lines[0]!, /^ACCOUNT\s+PATH\s+MODE\s+TOKEN\s+LAST MESSAGE\s+LATE REPLY$/)
      assert.match(table.out, /\nshop\s+\/wechat\/shop\s+safe \(required\)\s+ok\s+2026-12-01T08:00:00\.000Z\s+customer-service\n/)
      assert.match(table.out, /\nnews\s+\/wx\/news\s+plaintext\s+errcode 40013\s+2026-12-01T08:01:00\.000Z\s+next-message\n/)
      assert.match(table.out, /\n {2}news: token: errcode 40013: /)
      const json = await run(fileEnv, 'accounts', '--json')
      const rows = JSON.parse(json.out) as AccountHealth[]
      assert.deepEqual(rows.map((r) => [r.name, r.mode, r.requireEncryption, r.token.status, r.token.errcode ?? null, r.lastMessageAt]), [
        ['shop', 'safe', true, 'ok', null, '2026-12-01T08:00:00.000Z'],
        ['news', 'plaintext', false, 'failed', 40013, '2026-12-01T08:01:00.000Z'],
      ])
      const one = await run(fileEnv, 'accounts', '--account', 'shop', '--json')
      assert.equal(one.code, 0)
      assert.deepEqual((JSON.parse(one.out) as AccountHealth[]).map((r) => r.name), ['shop'])
    })

    test('simulate and doctor --account play WeChat at that account\'s path with its Token', async () => {
      const seen: { path: string; signed: boolean }[] = []
      const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x')
        const q = (k: string) => url.searchParams.get(k) ?? ''
        seen.push({ path: url.pathname, signed: checkSignature('newstoken', q('timestamp'), q('nonce'), q('signature')) })
        req.resume()
        res.end('success')
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      try {
        const env = { ...fileEnv, PORT: String((server.address() as AddressInfo).port) }
        const result = await run(env, 'simulate', 'text', 'hi', '--account', 'news', '--late-from', 'off')
        assert.equal(result.code, 0, result.err + result.out)
        assert.deepEqual(seen, [{ path: '/wx/news', signed: true }])
        // doctor checks the same account: its path, its Token, and says which account it is
        const doctor = await run(env, 'doctor', '--account', 'news', '--json', '--timeout', '2000')
        const report = JSON.parse(doctor.out) as { url: string; checks: { id: string; detail: string }[] }
        assert.equal(report.url, `http://127.0.0.1:${env.PORT}/wx/news`)
        assert.match(report.checks.find((c) => c.id === 'config')!.detail, /^account news: plaintext/)
        assert.ok(seen.length > 1 && seen.every((r) => r.path === '/wx/news' && r.signed), 'every request went to news with its Token')
      } finally {
        await new Promise((resolve) => server.close(resolve))
      }
    })

    test('log tail and followers show the chosen account only', async () => {
      const shop = await run(fileEnv, 'log', 'tail', '--once', '--account', 'shop')
      assert.equal(shop.code, 0, shop.err)
      assert.match(shop.out, /oShopUser1/)
      assert.doesNotMatch(shop.out, /oNewsUser/)
      const news = await run(fileEnv, 'followers', '--account', 'news')
      assert.match(news.out, /^followers of account news: 2 subscribed, 0 unsubscribed/)
      const migrate = await run(fileEnv, 'db', 'migrate')
      assert.equal(migrate.code, 0, 'db migrate needs no --account: the accounts share the database')
      assert.match(migrate.out, /schema is up to date/)
    })
  })
}

suite('SQLite', async () => undefined)
suite('PostgreSQL', () => createTestDatabase('wxmp_cli_accounts'), (await serviceAvailable('postgres')) ? false : 'PostgreSQL not reachable')
