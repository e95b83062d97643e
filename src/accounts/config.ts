/**
 * Several Official Accounts in one server: the accounts file (`wxmp.config.json`, or `.yaml` /
 * `.yml`) and the one-account case of the environment variables.
 *
 * Which configuration counts, first match wins:
 *   1. `--config <file>` on `wxmp serve` (the `file` option here);
 *   2. the WXMP_CONFIG_FILE variable;
 *   3. `wxmp.config.json`, `wxmp.config.yaml` or `wxmp.config.yml` in the working directory;
 *   4. none: WECHAT_TOKEN, WECHAT_APPID… describe one account named `default`, served at
 *      WECHAT_PATH exactly as before.
 *
 * Every account resolves to a full `WxmpConfig` (the process-wide one from the environment with
 * the account's fields laid over it) plus its name, so `botOptionsFrom`, the API client and the
 * rules take an account wherever they took the configuration. Secrets may be written as
 * `{"env": "SHOP_APPSECRET"}` so that the file can live in git.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { WxmpError } from '../errors.js'
import { decodeAesKey } from '../pipeline/crypto.js'
import { consoleConfig, loadConfig, type LoadConfigOptions, type WxmpConfig } from '../server/config.js'

/** One account: the configuration its bot runs with, its short name and its handler module. */
export interface ResolvedAccount extends WxmpConfig {
  /** Short name ([a-z0-9-]): `ctx.account`, the log's and metrics' `account`, `--account`. */
  name: string
  /** The module whose default export installs this account's handlers (absolute); undefined: the server's (`--bot`, else the echo bot). */
  botModule: string | undefined
}

export interface LoadedAccounts {
  accounts: ResolvedAccount[]
  /** `file`: an accounts file; `env`: the single-account environment variables. */
  source: 'file' | 'env'
  /** The accounts file (absolute) when source is `file`. */
  file?: string
  /** The process-wide configuration (port, database, Redis…) the accounts were laid over. */
  base: WxmpConfig
}

export interface LoadAccountsOptions {
  env?: NodeJS.ProcessEnv
  /** `--config <file>`: wins over WXMP_CONFIG_FILE and the working directory's file. */
  file?: string | undefined
  /** Where `.env`, `data/` and `wxmp.config.*` are looked for. Default process.cwd(). */
  cwd?: string
  /** The process-wide configuration when the caller already loaded it (the CLI does). */
  base?: WxmpConfig
  /** Passed to loadConfig in the environment case (see LoadConfigOptions.devToken). */
  devToken?: LoadConfigOptions['devToken']
  dotenv?: boolean
}

/** The name of the account the environment variables describe. */
export const DEFAULT_ACCOUNT = 'default'
export const ACCOUNT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/
const FILE_NAMES = ['wxmp.config.json', 'wxmp.config.yaml', 'wxmp.config.yml']

/** The accounts file in use, or undefined for the environment-variable case. */
export function accountsFileOf(options: { env?: NodeJS.ProcessEnv; file?: string | undefined; cwd?: string } = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const given = options.file ?? (env.WXMP_CONFIG_FILE === '' ? undefined : env.WXMP_CONFIG_FILE)
  if (given !== undefined) {
    const path = resolve(cwd, given)
    if (!existsSync(path)) {
      const from = options.file !== undefined ? '--config' : 'WXMP_CONFIG_FILE'
      throw new WxmpError('WX_ERR_CONFIG', `${from} ${given}: no such file (looked for ${path})`, { details: { variable: 'WXMP_CONFIG_FILE' } })
    }
    return path
  }
  for (const name of FILE_NAMES) {
    const path = resolve(cwd, name)
    if (existsSync(path)) return path
  }
  return undefined
}

/**
 * The accounts to serve: from the accounts file when there is one, else the one account of
 * the environment variables. Throws WX_ERR_CONFIG naming the file, the account and the field.
 *
 * @example
 * const { accounts } = await loadAccounts({ env: process.env })
 * const shop = selectAccount(accounts, 'shop')
 */
export async function loadAccounts(options: LoadAccountsOptions = {}): Promise<LoadedAccounts> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const file = accountsFileOf({ env, cwd, file: options.file })
  // in the file case WECHAT_TOKEN is not the accounts' Token: never create a development Token for it
  const devToken = file === undefined ? (options.devToken ?? 'create') : 'read'
  const base = options.base ?? loadConfig(env, { cwd, devToken, ...(options.dotenv === undefined ? {} : { dotenv: options.dotenv }) })
  if (file === undefined) return { accounts: [{ ...base, name: DEFAULT_ACCOUNT, botModule: undefined }], source: 'env', base }
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new WxmpError('WX_ERR_CONFIG', `${file}: cannot be read (${(err as Error).message})`, { cause: err })
  }
  const accounts = await parseAccountsFile(text, { file, env, base })
  // no development mode with an accounts file (every account has its Token): the operational
  // endpoints and the console run as in production
  const production: WxmpConfig = { ...base, dev: false, tokenFile: undefined, console: accounts[0]!.console }
  return { accounts, source: 'file', file, base: production }
}

/**
 * The account `name`, or the only one when `name` is undefined. With several accounts and no
 * name, or an unknown name, the error lists the names.
 */
export function selectAccount<A extends { name: string }>(accounts: readonly A[], name: string | undefined): A {
  const names = accounts.map((a) => a.name).join(', ')
  if (name === undefined) {
    if (accounts.length === 1) return accounts[0] as A
    throw new WxmpError('WX_ERR_CONFIG', `${accounts.length} accounts are configured (${names}): say which one with --account <name>`, { details: { accounts: accounts.map((a) => a.name) } })
  }
  const found = accounts.find((a) => a.name === name)
  if (found === undefined) throw new WxmpError('WX_ERR_CONFIG', `no account named ${JSON.stringify(name.slice(0, 40))}: the accounts are ${names}`, { details: { accounts: accounts.map((a) => a.name) } })
  return found
}

const secret = z.union([z.string(), z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable') }).strict()])
const ACCOUNT = z
  .object({
    token: secret,
    appId: secret,
    appSecret: secret.optional(),
    encodingAESKey: secret.optional(),
    previousEncodingAESKey: secret.optional(),
    requireEncryption: z.boolean().optional(),
    late: z.enum(['auto', 'customer-service', 'drop', 'retry-window', 'next-message']).optional(),
    accountKind: z.enum(['subscription', 'subscription-verified', 'service', 'service-verified', 'sandbox']).optional(),
    bot: z.string().min(1).optional(),
    rules: z.enum(['rules-first', 'code-first', 'off']).optional(),
    rulesFile: z.string().regex(/\.(json|ya?ml)$/i, 'must name a .json, .yaml or .yml file').optional(),
    path: z.string().regex(/^\/[\w\-./~]*$/, 'must start with "/"').optional(),
    replyTimeoutMs: z.number().int().min(100).max(4900).optional(),
    pendingNotice: z.string().regex(/\S/, 'must not be only whitespace').max(600).optional(),
    pendingKeyword: z.string().regex(/^\S{1,32}$/, 'must be one word of 1–32 characters').optional(),
    interim: z.string().regex(/\S/, 'must not be only whitespace').max(600).optional(),
    language: z.enum(['zh', 'en']).optional(),
  })
  .strict()
type AccountInput = z.infer<typeof ACCOUNT>
const FILE = z.object({ accounts: z.record(z.string(), z.unknown()) }).strict()

const TOKEN = /^[\x21-\x7e]{1,128}$/
const APPID = /^wx[0-9a-zA-Z]{4,30}$/

/** Parses an accounts file's text (JSON, or YAML for .yaml/.yml) into resolved accounts. */
export async function parseAccountsFile(text: string, options: { file: string; env: NodeJS.ProcessEnv; base: WxmpConfig }): Promise<ResolvedAccount[]> {
  const { file, env, base } = options
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new WxmpError('WX_ERR_CONFIG', `${file}: ${message}`, { details: { file, ...details } })
  }
  let value: unknown
  if (/\.ya?ml$/i.test(file)) {
    const { parseDocument } = await import('yaml')
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
    const error = doc.errors[0]
    if (error !== undefined) fail(`not valid YAML${error.linePos?.[0] === undefined ? '' : ` at line ${error.linePos[0].line}`} (${error.message.split('\n')[0]})`)
    value = doc.toJS({ maxAliasCount: 100 })
  } else {
    try {
      value = JSON.parse(text)
    } catch (err) {
      fail(`not valid JSON (${(err as Error).message})`)
    }
  }
  const top = FILE.safeParse(value)
  if (!top.success) fail(`expected {"accounts": {"<name>": {...}, ...}} (${issueText(top.error.issues[0])})`)
  const entries = Object.entries((top.data as z.infer<typeof FILE>).accounts)
  if (entries.length === 0) fail('"accounts" is empty: list at least one account')
  const accounts: ResolvedAccount[] = []
  // in the file case the console runs as in production (operators from WXMP_CONSOLE_USERS), even
  // without WECHAT_TOKEN: the development mode belongs to the environment-variable case
  const operatorConsole = base.dev ? consoleConfig(env, false, dirname(file), '/') : base.console
  for (const [name, raw] of entries) {
    if (!ACCOUNT_NAME.test(name)) fail(`account name ${JSON.stringify(name.slice(0, 40))} must be 1–32 lowercase letters, digits or "-" (it goes in the URL path)`, { account: name })
    const parsed = ACCOUNT.safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const field = issue?.path[0] === undefined ? undefined : String(issue.path[0])
      fail(`account "${name}"${field === undefined ? '' : `, ${field}`}: ${issueText(issue, false)}`, { account: name, ...(field === undefined ? {} : { field }) })
    }
    accounts.push(resolveAccount(name, parsed.data as AccountInput, { file, env, base, console: operatorConsole, fail }))
  }
  checkUnique(accounts, base, fail)
  return accounts
}

function resolveAccount(
  name: string,
  input: AccountInput,
  context: { file: string; env: NodeJS.ProcessEnv; base: WxmpConfig; console: WxmpConfig['console']; fail: (message: string, details?: Record<string, unknown>) => never },
): ResolvedAccount {
  const { env, base, fail } = context
  const where = (field: string) => `account "${name}", ${field}`
  const value = (field: string, v: string | { env: string } | undefined): string | undefined => {
    if (v === undefined || typeof v === 'string') return v
    const fromEnv = env[v.env]
    if (fromEnv === undefined || fromEnv === '') fail(`${where(field)}: the environment variable ${v.env} is not set`, { account: name, field, variable: v.env })
    return fromEnv
  }
  const check = (field: string, v: string | undefined, pattern: RegExp, hint: string): string | undefined => {
    // a secret's value is never echoed: only its length
    if (v !== undefined && !pattern.test(v)) fail(`${where(field)}: ${hint} (got ${v.length} characters)`, { account: name, field })
    return v
  }
  const aesKey = (field: string, v: string | undefined): string | undefined => {
    if (v === undefined) return undefined
    try {
      decodeAesKey(v)
    } catch (err) {
      fail(`${where(field)}: ${(err as Error).message}`, { account: name, field })
    }
    return v
  }
  const token = check('token', value('token', input.token), TOKEN, 'must be printable ASCII without spaces (the console Token is 3–32 letters or digits)') as string
  const appId = check('appId', value('appId', input.appId), APPID, 'must look like wx followed by 16 letters or digits (the gh_… value is the 原始ID, not the AppID)') as string
  const appSecret = check('appSecret', value('appSecret', input.appSecret), /^\S{1,128}$/, 'must not be empty or contain whitespace')
  const encodingAESKey = aesKey('encodingAESKey', value('encodingAESKey', input.encodingAESKey))
  const previousEncodingAESKey = aesKey('previousEncodingAESKey', value('previousEncodingAESKey', input.previousEncodingAESKey))
  const requireEncryption = input.requireEncryption ?? false
  if (requireEncryption && encodingAESKey === undefined) fail(`${where('requireEncryption')}: is true but no encodingAESKey is set: encrypted messages could not be read`, { account: name, field: 'requireEncryption' })
  const dir = dirname(context.file)
  return {
    ...base,
    name,
    botModule: input.bot === undefined ? undefined : resolve(dir, input.bot),
    token,
    dev: false,
    tokenFile: undefined,
    appId,
    appSecret,
    encodingAESKey,
    previousEncodingAESKey,
    requireEncryption,
    late: input.late ?? base.late,
    accountKind: input.accountKind ?? base.accountKind,
    rules: input.rules ?? base.rules,
    rulesFile: input.rulesFile === undefined ? undefined : resolve(dir, input.rulesFile),
    path: input.path ?? `/wechat/${name}`,
    replyTimeoutMs: input.replyTimeoutMs ?? base.replyTimeoutMs,
    pendingNotice: input.pendingNotice ?? base.pendingNotice,
    pendingKeyword: input.pendingKeyword ?? base.pendingKeyword,
    interim: input.interim ?? base.interim,
    language: input.language ?? base.language,
    // in the file case the console runs as in production: operators from WXMP_CONSOLE_USERS
    console: context.console,
  }
}

function checkUnique(accounts: ResolvedAccount[], base: WxmpConfig, fail: (message: string, details?: Record<string, unknown>) => never): void {
  const seen = { path: new Map<string, string>(), appId: new Map<string, string>() }
  for (const account of accounts) {
    for (const field of ['path', 'appId'] as const) {
      const v = account[field] as string
      const other = seen[field].get(field === 'path' ? v.replace(/\/+$/, '') : v)
      if (other !== undefined) fail(`accounts "${other}" and "${account.name}" have the same ${field} ${v}: each account needs its own`, { account: account.name, field })
      seen[field].set(field === 'path' ? v.replace(/\/+$/, '') : v, account.name)
    }
    const consolePath = base.console.path
    if (account.path === consolePath || account.path.startsWith(consolePath + '/')) fail(`account "${account.name}", path: ${account.path} overlaps the console's ${consolePath} (WXMP_CONSOLE_PATH)`, { account: account.name, field: 'path' })
    if (account.path === '/healthz' || account.path === '/readyz' || account.path === '/metrics') fail(`account "${account.name}", path: ${account.path} is an operational endpoint`, { account: account.name, field: 'path' })
  }
}

function issueText(issue: z.core.$ZodIssue | undefined, withPath = true): string {
  if (issue === undefined) return 'invalid'
  const path = withPath && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  if (issue.code === 'unrecognized_keys') return `${path}unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
  if (issue.code === 'invalid_union') return `${path}must be a text or {"env": "VARIABLE"}`
  return `${path}${issue.message}`
}
