/**
 * `wxmp accounts`: every configured Official Account and how it is doing: whether an
 * access_token can be had (through the token manager and the shared store, as `wxmp token`
 * and the server get theirs), the last message in the message log, the encryption mode, the
 * path and the late-reply strategy. Reads only; exit 1 when an account's token fails.
 */
import { parseArgs } from 'node:util'
import { WechatApiError } from '../../api/errors.js'
import { createWechatApiFromConfig } from '../../api/from-config.js'
import type { Records } from '../../records/open-records.js'
import type { KeyValueStore } from '../../storage/types.js'
import type { WxmpConfig } from '../../server/config.js'
import { logFilterOf, type CliAccount } from '../account-option.js'

export const ACCOUNTS_USAGE = `wxmp accounts [--json] [--config wxmp.config.json] [--account NAME]
  Lists the configured accounts (the accounts file, or the environment's one account) with
  their health: whether an access_token can be had (ok, or WeChat's errcode), the last message
  in the message log, the mode (plaintext, compatible, safe; "required" with
  requireEncryption), the webhook path and the late-reply strategy. --account shows one.
  Exit code 1 when an account's token fails.`

export interface AccountHealth {
  name: string
  path: string
  appId: string | null
  /** plaintext (no EncodingAESKey), compatible (plaintext or safe), safe (encryption required). */
  mode: 'plaintext' | 'compatible' | 'safe'
  requireEncryption: boolean
  late: WxmpConfig['late']
  token: { status: 'ok' | 'failed' | 'not-configured'; errcode?: number; error?: string; expiresAt?: string }
  /** ISO time of the latest message in the log, null when there is none. */
  lastMessageAt: string | null
  /** Why the log could not be read (the rest of the row is still right). */
  logError?: string
}

export interface AccountsCommandContext {
  accounts: CliAccount[]
  /** Environment-only configuration: the log is not filtered by account. */
  filtered: boolean
  print: (line: string) => void
  /** Injected in tests; otherwise opened per database / store URL, once each. */
  openRecords?: (url: string) => Promise<Records>
  openSharedStore?: (config: WxmpConfig) => KeyValueStore
}

export function modeOf(config: Pick<WxmpConfig, 'encodingAESKey' | 'requireEncryption'>): AccountHealth['mode'] {
  if (config.encodingAESKey === undefined) return 'plaintext'
  return config.requireEncryption ? 'safe' : 'compatible'
}

export async function runAccountsCommand(argv: string[], ctx: AccountsCommandContext): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: false })
  const rows = await accountsHealth(ctx)
  if (values.json) ctx.print(JSON.stringify(rows, null, 2))
  else for (const line of formatAccounts(rows)) ctx.print(line)
  return rows.some((r) => r.token.status === 'failed') ? 1 : 0
}

/** One row per account; stores and databases shared by several accounts are opened once. */
export async function accountsHealth(ctx: AccountsCommandContext): Promise<AccountHealth[]> {
  const records = new Map<string, Promise<Records>>()
  const stores = new Map<string, KeyValueStore>()
  const openRecords = ctx.openRecords ?? (async (url: string) => (await import('../../records/open-records.js')).openRecords(url))
  const openStore = ctx.openSharedStore ?? (await import('../../server/app.js')).openSharedStore
  try {
    const rows: AccountHealth[] = []
    for (const { name, path, config } of ctx.accounts) {
      const row: AccountHealth = { name, path, appId: config.appId ?? null, mode: modeOf(config), requireEncryption: config.requireEncryption, late: config.late, token: { status: 'not-configured' }, lastMessageAt: null }
      if (config.appId !== undefined && config.appSecret !== undefined) {
        const key = config.redisUrl ?? config.databaseUrl
        if (!stores.has(key)) stores.set(key, openStore(config))
        row.token = await tokenHealth(config, stores.get(key)!)
      }
      try {
        if (!records.has(config.databaseUrl)) records.set(config.databaseUrl, openRecords(config.databaseUrl))
        const log = await records.get(config.databaseUrl)!
        const [latest] = await log.messages.recent({ ...(ctx.filtered ? logFilterOf({ name }) : {}), limit: 1 })
        row.lastMessageAt = latest === undefined ? null : new Date(latest.receivedAt).toISOString()
      } catch (err) {
        row.logError = (err as Error).message
      }
      rows.push(row)
    }
    return rows
  } finally {
    for (const store of stores.values()) await store.close().catch(() => undefined)
    for (const opened of records.values()) await opened.then((r) => r.close()).catch(() => undefined)
  }
}

async function tokenHealth(config: WxmpConfig, store: KeyValueStore): Promise<AccountHealth['token']> {
  try {
    const api = createWechatApiFromConfig(config, store, { timeoutMs: 5000, retries: 0 })
    await api.token.get()
    const record = await api.token.peek()
    return { status: 'ok', ...(record === undefined ? {} : { expiresAt: new Date(record.expiresAt).toISOString() }) }
  } catch (err) {
    if (err instanceof WechatApiError) return { status: 'failed', errcode: err.errcode, error: err.errmsg }
    return { status: 'failed', error: (err as Error).message }
  }
}

/** The table: one line per account, then a line per problem below it. */
export function formatAccounts(rows: readonly AccountHealth[]): string[] {
  const cells = rows.map((r) => [
    r.name,
    r.path,
    r.mode === 'safe' ? 'safe (required)' : r.mode,
    r.token.status === 'ok' ? 'ok' : r.token.status === 'not-configured' ? 'no AppSecret' : r.token.errcode === undefined ? 'failed' : `errcode ${r.token.errcode}`,
    r.logError !== undefined ? 'log unreadable' : (r.lastMessageAt ?? 'none yet'),
    r.late,
  ])
  const header = ['ACCOUNT', 'PATH', 'MODE', 'TOKEN', 'LAST MESSAGE', 'LATE REPLY']
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ')
  const out = [line(header)]
  rows.forEach((r, i) => {
    out.push(line(cells[i]!))
    if (r.token.status === 'failed') out.push(`  ${r.name}: token: ${r.token.errcode === undefined ? '' : `errcode ${r.token.errcode}: `}${r.token.error ?? ''}`)
    if (r.logError !== undefined) out.push(`  ${r.name}: message log: ${r.logError}`)
  })
  return out
}
