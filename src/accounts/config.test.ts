import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WxmpError } from '../errors.js'
import { accountsFileOf, loadAccounts, selectAccount, DEFAULT_ACCOUNT } from './config.js'

const AES = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

function folder(files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-accounts-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

const baseEnv = (dir: string): NodeJS.ProcessEnv => ({ DATABASE_URL: 'memory:', WECHAT_TOKEN: 'envtoken', WXMP_LOG_LEVEL: 'silent', HOME: dir })

const twoAccounts = JSON.stringify({
  accounts: {
    shop: { token: 'shoptoken', appId: 'wx1111111111111111', appSecret: { env: 'SHOP_APPSECRET' }, encodingAESKey: AES, requireEncryption: true, accountKind: 'service-verified', bot: './shop.js' },
    news: { token: { env: 'NEWS_TOKEN' }, appId: 'wx2222222222222222', late: 'retry-window', path: '/wx/news', rulesFile: 'rules/news.yaml' },
  },
})

async function refusal(promise: Promise<unknown>): Promise<WxmpError> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof WxmpError, `expected a WxmpError, got ${String(err)}`)
  assert.equal(err.code, 'WX_ERR_CONFIG')
  return err
}

test('without a file the environment variables are the one account "default", at WECHAT_PATH', async () => {
  using f = folder()
  const loaded = await loadAccounts({ env: { ...baseEnv(f.dir), WECHAT_PATH: '/hook', WECHAT_APPID: 'wx1111111111111111', WECHAT_APPSECRET: 's' }, cwd: f.dir, dotenv: false })
  assert.equal(loaded.source, 'env')
  assert.equal(loaded.accounts.length, 1)
  const [account] = loaded.accounts
  assert.equal(account?.name, DEFAULT_ACCOUNT)
  assert.equal(account?.path, '/hook')
  assert.equal(account?.token, 'envtoken')
  assert.equal(account?.appId, 'wx1111111111111111')
})

test('a JSON file: secrets from the environment, default paths, files relative to the config file', async () => {
  using f = folder({ 'wxmp.config.json': twoAccounts })
  const loaded = await loadAccounts({ env: { ...baseEnv(f.dir), SHOP_APPSECRET: 'shopsecret', NEWS_TOKEN: 'newstoken' }, cwd: f.dir, dotenv: false })
  assert.equal(loaded.source, 'file')
  assert.equal(loaded.file, join(f.dir, 'wxmp.config.json'))
  const shop = selectAccount(loaded.accounts, 'shop')
  const news = selectAccount(loaded.accounts, 'news')
  assert.deepEqual([shop.path, shop.appSecret, shop.encodingAESKey, shop.requireEncryption, shop.accountKind, shop.botModule], ['/wechat/shop', 'shopsecret', AES, true, 'service-verified', join(f.dir, 'shop.js')])
  assert.deepEqual([news.path, news.token, news.late, news.rulesFile, news.appSecret, news.dev], ['/wx/news', 'newstoken', 'retry-window', join(f.dir, 'rules/news.yaml'), undefined, false])
  // the process-wide settings come from the environment
  assert.equal(news.databaseUrl, 'memory:')
  // no development mode with an accounts file, even without WECHAT_TOKEN: /metrics stays local
  const noToken = await loadAccounts({ env: { DATABASE_URL: 'memory:', SHOP_APPSECRET: 's', NEWS_TOKEN: 'n' }, cwd: f.dir, dotenv: false })
  assert.deepEqual([noToken.base.dev, noToken.accounts[0]?.dev], [false, false])
})

test('a YAML file named by WXMP_CONFIG_FILE, or by --config over it', async () => {
  const yaml = 'accounts:\n  city-a:\n    token: aaa\n    appId: wx3333333333333333\n'
  using f = folder({ 'a.yaml': yaml, 'b.yml': yaml.replace('city-a', 'city-b') })
  const env = { ...baseEnv(f.dir), WXMP_CONFIG_FILE: 'a.yaml' }
  assert.equal((await loadAccounts({ env, cwd: f.dir, dotenv: false })).accounts[0]?.name, 'city-a')
  assert.equal((await loadAccounts({ env, cwd: f.dir, dotenv: false, file: 'b.yml' })).accounts[0]?.name, 'city-b')
  assert.equal(accountsFileOf({ env, cwd: f.dir }), join(f.dir, 'a.yaml'))
})

test('refusals name the file, the account and the field, never the secret', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['{"accounts": {', 'x.json', /x\.json: not valid JSON/],
    ['accounts:\n  a: [\n', 'x.yaml', /x\.yaml: not valid YAML/],
    ['{"accounts": {}}', 'x.json', /"accounts" is empty/],
    ['{"acounts": {}}', 'x.json', /expected \{"accounts"/],
    ['{"accounts": {"Shop": {"token": "t", "appId": "wx1111111111111111"}}}', 'x.json', /account name "Shop"/],
    ['{"accounts": {"shop": {"token": "t"}}}', 'x.json', /account "shop", appId/],
    ['{"accounts": {"shop": {"token": "t", "appId": "gh_123456"}}}', 'x.json', /account "shop", appId: must look like wx/],
    ['{"accounts": {"shop": {"token": "t", "appId": "wx1111111111111111", "appSecret": {"env": "NOT_SET_ANYWHERE"}}}}', 'x.json', /account "shop", appSecret: the environment variable NOT_SET_ANYWHERE is not set/],
    ['{"accounts": {"shop": {"token": "t", "appId": "wx1111111111111111", "encodingAESKey": "short"}}}', 'x.json', /account "shop", encodingAESKey: /],
    ['{"accounts": {"shop": {"token": "t", "appId": "wx1111111111111111", "requireEncryption": true}}}', 'x.json', /account "shop", requireEncryption/],
    ['{"accounts": {"shop": {"token": "t", "appId": "wx1111111111111111", "tokn": "x"}}}', 'x.json', /account "shop": unknown field "tokn"/],
    ['{"accounts": {"a": {"token": "t", "appId": "wx1111111111111111", "path": "/p"}, "b": {"token": "t", "appId": "wx2222222222222222", "path": "/p"}}}', 'x.json', /accounts "a" and "b" have the same path \/p/],
    ['{"accounts": {"a": {"token": "t", "appId": "wx1111111111111111"}, "b": {"token": "u", "appId": "wx1111111111111111"}}}', 'x.json', /accounts "a" and "b" have the same appId/],
    ['{"accounts": {"a": {"token": "has space", "appId": "wx1111111111111111"}}}', 'x.json', /account "a", token: .*\(got 9 characters\)/],
  ]
  for (const [text, name, expected] of cases) {
    using f = folder({ [name]: text })
    const err = await refusal(loadAccounts({ env: baseEnv(f.dir), cwd: f.dir, dotenv: false, file: name }))
    assert.match(err.message, expected, text)
    assert.ok(!err.message.includes('has space'), 'a secret is never echoed')
  }
})

test('a --config file that is not there is refused with the path looked for', async () => {
  using f = folder()
  const err = await refusal(loadAccounts({ env: baseEnv(f.dir), cwd: f.dir, dotenv: false, file: 'missing.json' }))
  assert.match(err.message, /--config missing\.json: no such file/)
})

test('selectAccount: the only one by default; with several, the error lists the names', () => {
  const one = [{ name: 'shop' }]
  assert.equal(selectAccount(one, undefined).name, 'shop')
  const two = [{ name: 'shop' }, { name: 'news' }]
  assert.throws(() => selectAccount(two, undefined), /2 accounts are configured \(shop, news\): say which one with --account <name>/)
  assert.throws(() => selectAccount(two, 'blog'), /no account named "blog": the accounts are shop, news/)
  assert.equal(selectAccount(two, 'news').name, 'news')
})
