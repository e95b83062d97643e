/**
 * `wxmp doctor`: checks a deployment the way WeChat will see it and says what to fix. It runs
 * with the server's configuration (environment, .env) on the server's machine, reads only, and
 * exits 1 when any check fails, so it fits a deploy script.
 */
import { parseArgs } from 'node:util'
import type { WechatApi } from '../api/client.js'
import { createWechatApiFromConfig } from '../api/from-config.js'
import { openSharedStore } from '../server/app.js'
import type { WxmpConfig } from '../server/config.js'
import { MemoryStore } from '../storage/memory.js'
import type { KeyValueStore } from '../storage/types.js'
import type { EncryptionMode } from '../testing/signed-request.js'
import { checkCallbackIp, checkClock, checkPermissions, checkToken, type ApiCheckContext } from './api-checks.js'
import { formatReport, type CheckResult, type DoctorReport } from './report.js'
import { checkDatabase, checkSharedStore } from './storage-checks.js'
import { checkRoundTrip, checkUrlShape, checkVerification, MODE_NAMES, type WebhookTarget } from './webhook-checks.js'

export const DOCTOR_USAGE = `wxmp doctor [--url https://mp.example.com/wechat] [--mode plain|compat|safe] [--json] [--timeout 5000] [--account NAME]
  Checks a deployment the way WeChat sees it, with the server's configuration: the URL
  answers the console's GET verification with WECHAT_TOKEN (through nginx and HTTPS when
  --url is the public one), a POST round trip in the configured mode, this machine's clock
  against WeChat's, the access token (40164: the IP to whitelist; 40125: the AppSecret),
  getcallbackip, the account's permissions (customer service, menus, mass send) and so how a
  late reply reaches the user, and Redis and the database (reachable, migrated).
  --url URL      the webhook as entered in 服务器配置 (default: the local server, PORT/WECHAT_PATH)
  --mode M       the round trip's mode (default safe with WECHAT_AES_KEY, else plain)
  --json         the checklist as JSON
  --account NAME with an accounts file: the account to check (its path, Token, keys, AppID)
  Prints ✓/✗ per check with advice under each ✗; exit code 1 when any check fails.`

export interface DoctorIO {
  config: WxmpConfig
  /** With an accounts file: the account checked (--account, or the only one). */
  account?: { name: string } | undefined
  print: (line: string) => void
}

export interface DoctorOptions {
  /** Injected clock (tests move it to show a skew). */
  now?: () => number
  fetch?: typeof fetch
  /** A ready API client (tests); otherwise built from config on the shared store. */
  api?: WechatApi
}

export async function runDoctorCommand(argv: string[], io: DoctorIO, options: DoctorOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, mode: { type: 'string' }, json: { type: 'boolean', default: false }, timeout: { type: 'string', default: '5000' } },
    allowPositionals: false,
  })
  const timeoutMs = Number(values.timeout)
  if (!/^\d+$/.test(values.timeout) || timeoutMs < 100 || timeoutMs > 60_000) throw usage(`--timeout must be milliseconds from 100 to 60000, got ${JSON.stringify(values.timeout)}`)
  if (values.url !== undefined && !/^https?:\/\/[^\s/?#]+/.test(values.url)) throw usage(`--url must be an http(s) URL such as https://mp.example.com/wechat, got ${JSON.stringify(values.url.slice(0, 80))}`)
  const report = await runDoctor(io.config, {
    ...options,
    ...(io.account === undefined ? {} : { account: io.account.name }),
    timeoutMs,
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.mode === undefined ? {} : { mode: modeOf(values.mode) }),
  })
  if (values.json) io.print(JSON.stringify(report, null, 2))
  else for (const line of formatReport(report)) io.print(line)
  return report.ok ? 0 : 1
}

export interface RunDoctorOptions extends DoctorOptions {
  url?: string
  mode?: EncryptionMode
  timeoutMs?: number
  /** The account's name (an accounts file), shown in the configuration line. */
  account?: string
}

/** Runs every check; the report says what failed and why. */
export async function runDoctor(config: WxmpConfig, options: RunDoctorOptions = {}): Promise<DoctorReport> {
  const timeoutMs = options.timeoutMs ?? 5000
  const mode = options.mode ?? (config.encodingAESKey === undefined ? 'plain' : 'safe')
  const target: WebhookTarget = {
    url: options.url ?? `http://127.0.0.1:${config.port}${config.path}`,
    explicit: options.url !== undefined,
    token: config.token,
    mode,
    encodingAESKey: config.encodingAESKey,
    appId: config.appId,
    timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
  }
  const checks: CheckResult[] = [configuration(config, mode, options.account)]
  checks.push(checkUrlShape(target), await checkVerification(target), await checkRoundTrip(target))
  const variable = config.redisUrl === undefined ? 'DATABASE_URL' : 'REDIS_URL'
  // first, so that nothing below creates a SQLite file that was not there
  const database = await checkDatabase(config.databaseUrl)
  const noDatabase = variable === 'DATABASE_URL' && database.status === 'fail' && database.detail.endsWith('does not exist')
  const store: KeyValueStore = noDatabase ? new MemoryStore() : openSharedStore(config)
  try {
    const apiConfigured = config.appId !== undefined && config.appSecret !== undefined
    const api = options.api ?? (apiConfigured ? createWechatApiFromConfig(config, store, options.fetch ? { fetch: options.fetch } : {}) : undefined)
    const ctx: ApiCheckContext = {
      api,
      apiBase: config.apiBase,
      toleranceSec: config.timestampToleranceSec,
      late: config.late,
      timeoutMs,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.now ? { now: options.now } : {}),
    }
    checks.push(await checkClock(ctx))
    const token = await checkToken(ctx)
    checks.push(token)
    if (token.status === 'fail') {
      const skipped = { status: 'skip' as const, detail: 'not checked without an access token', advice: 'fix the access token first' }
      checks.push({ id: 'callback-ip', title: 'callback IPs', ...skipped }, { id: 'customer-service', title: 'customer service', ...skipped })
    } else {
      checks.push(await checkCallbackIp(ctx), ...(await checkPermissions(ctx)))
    }
    checks.push(noDatabase ? { id: 'store', title: 'shared store', status: 'skip', detail: 'the database (DATABASE_URL) holds it, and it does not exist' } : await checkSharedStore(store, variable))
  } finally {
    await store.close().catch(() => undefined)
  }
  checks.push(database)
  return { ok: checks.every((c) => c.status !== 'fail'), url: target.url, mode: MODE_NAMES[mode], checks }
}

function configuration(config: WxmpConfig, mode: EncryptionMode, account: string | undefined): CheckResult {
  const token = config.dev ? `the development Token from ${config.tokenFile ?? './data/dev-token'}` : 'WECHAT_TOKEN'
  const api = config.appId === undefined ? 'no API credentials' : `AppID ${config.appId} via ${config.apiBase}`
  const detail = `${account === undefined ? '' : `account ${account}: `}${MODE_NAMES[mode]}, Token from ${token}, ${api}`
  // the development Token works, but a new machine or a wiped ./data generates another one
  if (config.dev) return { id: 'config', title: 'configuration', status: 'info', detail, advice: 'in production set WECHAT_TOKEN to the Token entered in 服务器配置' }
  return { id: 'config', title: 'configuration', status: 'ok', detail }
}

function modeOf(raw: string): EncryptionMode {
  if (raw === 'plain' || raw === 'compat' || raw === 'safe') return raw
  throw usage(`--mode must be plain, compat or safe, got ${JSON.stringify(raw.slice(0, 40))}`)
}

/** A bad option is a usage error (exit 2 in the dispatcher). */
function usage(message: string): Error {
  return Object.assign(new TypeError(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' })
}
