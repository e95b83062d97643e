/**
 * Three accounts in one server, as the issue's "Done when" describes them: `shop` in plaintext
 * (a verified 服务号), `bank` in safe mode only, `news` a 订阅号 without customer-service
 * permission; the fake WeChat serves all three AppIDs at one address. The accounts file is
 * written to a temporary folder with its secrets in environment variables, and read by the
 * same `loadAccounts` as `wxmp serve`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bot } from '../../src/bot.js'
import type { Logger } from '../../src/logger.js'
import { loadAccounts, type LoadedAccounts } from '../../src/accounts/config.js'
import { startServer, type WxmpServer } from '../../src/server/app.js'
import { startFakeWechatApps, type FakeWechatApps } from '../../src/testing/fake-wechat/apps.js'

export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

export interface TestAccount {
  name: string
  token: string
  appId: string
  appSecret: string
  mode: 'plain' | 'safe'
}

/** Fresh AppIDs per run, so Redis keys (wxmp:<appId>:…) never meet another test's. */
export function threeAccounts(): TestAccount[] {
  const id = () => 'wx' + randomBytes(8).toString('hex')
  const secret = () => randomBytes(16).toString('hex')
  return [
    { name: 'shop', token: 'shoptoken' + randomBytes(3).toString('hex'), appId: id(), appSecret: secret(), mode: 'plain' },
    { name: 'bank', token: 'banktoken' + randomBytes(3).toString('hex'), appId: id(), appSecret: secret(), mode: 'safe' },
    { name: 'news', token: 'newstoken' + randomBytes(3).toString('hex'), appId: id(), appSecret: secret(), mode: 'plain' },
  ]
}

/** The accounts file's entry for an account; secrets through {"env": …}. */
export function fileEntry(account: TestAccount, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const upper = account.name.toUpperCase()
  return {
    token: { env: `${upper}_TOKEN` },
    appId: account.appId,
    appSecret: { env: `${upper}_APPSECRET` },
    ...(account.mode === 'safe' ? { encodingAESKey: { env: `${upper}_AES_KEY` }, requireEncryption: true } : {}),
    accountKind: account.name === 'news' ? 'subscription' : 'service-verified',
    replyTimeoutMs: 1500,
    ...extra,
  }
}

export function envFor(accounts: TestAccount[], base: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base }
  for (const a of accounts) {
    const upper = a.name.toUpperCase()
    env[`${upper}_TOKEN`] = a.token
    env[`${upper}_APPSECRET`] = a.appSecret
    if (a.mode === 'safe') env[`${upper}_AES_KEY`] = AES_KEY
  }
  return env
}

/** A logger that keeps every line (for "logged under A"). */
export function capturingLogger(lines: Array<Record<string, unknown> & { msg?: string; level: string }> = []): Logger & { lines: typeof lines } {
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (fields: unknown, msg?: string) => {
      if (typeof fields === 'string') lines.push({ ...bindings, level, msg: fields })
      else lines.push({ ...bindings, ...(fields as object), level, ...(msg === undefined ? {} : { msg }) })
    }
    return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: (more: Record<string, unknown>) => make({ ...bindings, ...more }) } as unknown as Logger
  }
  return Object.assign(make({}), { lines })
}

/**
 * One handler shared by every account (ctx.account tells them apart): text `send` sends a
 * customer-service message first (news: WeChat answers 48001), anything else is echoed with
 * the account's name.
 */
export function sharedHandler(runs: string[]) {
  return (bot: Bot) => {
    bot.on('text', async (ctx) => {
      runs.push(`${ctx.account}:${ctx.message.MsgId}`)
      if (ctx.message.Content === 'send') {
        const sent = await ctx.send(`${ctx.account} says hello`)
        return ctx.reply(`${ctx.account} sent: ${sent.status}${sent.errcode === undefined ? '' : ` ${sent.errcode}`}`)
      }
      return ctx.reply(`${ctx.account}: ${ctx.message.Content}`)
    })
  }
}

export interface AccountsHarness {
  dir: string
  fake: FakeWechatApps
  loaded: LoadedAccounts
  env: NodeJS.ProcessEnv
  file: string
  close(): Promise<void>
}

/** The temporary folder, the fake WeChat for the accounts and the accounts file read back. */
export async function accountsHarness(accounts: TestAccount[], base: Record<string, string>, fake?: FakeWechatApps, extra: Record<string, unknown> = {}): Promise<AccountsHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-accounts-e2e-'))
  const fakes = fake ?? (await startFakeWechatApps(accounts.map((a) => ({ appId: a.appId, appSecret: a.appSecret, customerService: a.name !== 'news' }))))
  const file = join(dir, 'wxmp.config.json')
  writeFileSync(file, JSON.stringify({ accounts: Object.fromEntries(accounts.map((a) => [a.name, fileEntry(a, extra)])) }, null, 2))
  const env = envFor(accounts, { WECHAT_API_BASE: fakes.url, PORT: '0', HOST: '127.0.0.1', WXMP_CONSOLE: '0', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, ...base })
  const loaded = await loadAccounts({ env, cwd: dir, dotenv: false })
  return {
    dir,
    fake: fakes,
    loaded,
    env,
    file,
    async close() {
      if (fake === undefined) await fakes.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export function startAccountsServer(h: AccountsHarness, setup: (bot: Bot) => void, logger: Logger, spoolDir?: string): Promise<WxmpServer> {
  return startServer({ config: h.loaded.base, accounts: h.loaded.accounts, setup, logger, ...(spoolDir === undefined ? {} : { spoolDir }), reload: async () => (await loadAccounts({ env: h.env, cwd: h.dir, dotenv: false, base: h.loaded.base })).accounts })
}

/** The webhook URL of an account. */
export function urlOf(server: WxmpServer, name: string): string {
  const account = server.accounts.get(name)
  if (account === undefined) throw new Error(`no account ${name}`)
  return new URL(account.path, server.http.url).href
}
