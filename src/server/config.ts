/**
 * Server configuration from environment variables (a `.env` file in the working directory is
 * read first if present). Every value is validated with zod; a bad value fails at startup with
 * the variable named and the likely mistake. With no WECHAT_TOKEN the server runs in
 * development mode with a random Token generated once and kept in ./data/dev-token.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { WxmpError } from '../errors.js'
import { decodeAesKey } from '../pipeline/crypto.js'
import { TrustedProxies } from '../pipeline/client-address.js'

export interface WxmpConfig {
  token: string
  /** True when the Token was generated (no WECHAT_TOKEN). */
  dev: boolean
  /** Where the generated Token is kept (dev mode). */
  tokenFile: string | undefined
  appId: string | undefined
  appSecret: string | undefined
  encodingAESKey: string | undefined
  previousEncodingAESKey: string | undefined
  requireEncryption: boolean
  apiBase: string
  port: number
  host: string
  path: string
  databaseUrl: string
  redisUrl: string | undefined
  timestampToleranceSec: number
  replyTimeoutMs: number
  late: 'auto' | 'customer-service' | 'drop' | 'retry-window' | 'next-message'
  /** The account's kind (WECHAT_ACCOUNT_KIND): whether customer service is allowed, before WeChat says 48001. */
  accountKind: 'subscription' | 'subscription-verified' | 'service' | 'service-verified' | 'sandbox' | undefined
  /** Text answered when the answer will wait for the user's next message (WECHAT_PENDING_NOTICE). */
  pendingNotice: string | undefined
  /** Only this word fetches a pending answer (WECHAT_PENDING_KEYWORD); undefined: any message. */
  pendingKeyword: string | undefined
  /** What happens to the message that fetched a pending answer (WECHAT_PENDING_THEN). */
  pendingThen: 'skip' | 'handle'
  /** How long a pending answer is kept, in seconds (WECHAT_PENDING_TTL_SEC). */
  pendingTtlSec: number
  /** The footer of a page when more follow (WECHAT_PAGE_FOOTER): {n} pages left, {keyword} the word to send. */
  pageFooter: string | undefined
  /** Language of the default notices and footers (WECHAT_LANGUAGE). */
  language: 'zh' | 'en'
  /** Text answered passively at the deadline instead of `success` (WECHAT_INTERIM); the real answer follows. */
  interim: string | undefined
  /** "typing…" after this many ms while a handler runs; false = off (WECHAT_TYPING_AFTER_MS=0); undefined = the bot's default. */
  typingAfterMs: number | false | undefined
  logLevel: string
  /** Log lines: pretty on a terminal, JSON otherwise (WXMP_LOG_FORMAT). */
  logFormat: 'pretty' | 'json' | 'auto'
  maxBodyBytes: number
  /** Requests per minute per source address on the webhook path; 0 disables. */
  rateLimitPerMinute: number
  /** Keep the SQL message log (every message, its reply, latency, errors). */
  messageLog: boolean
  /** Most request-body bytes buffered at once across all requests (503 beyond). */
  maxBufferedBytes: number
  /** Your reverse proxies (addresses, CIDR ranges): only from them is the client address read from `clientIpHeader`. */
  trustedProxies: string[]
  clientIpHeader: 'x-forwarded-for' | 'x-real-ip'
  /** A separate listener for /healthz, /readyz and /metrics; undefined: they stay on the webhook port. */
  opsPort: number | undefined
  opsHost: string
  /** Rules engine (replies without code): before the code handlers, after them, or off (WXMP_RULES). */
  rules: 'rules-first' | 'code-first' | 'off'
  /** A rules file (JSON or YAML) imported at start when its content changed (WXMP_RULES_FILE). */
  rulesFile: string | undefined
  /** How often each instance checks the rules' version, ms (WXMP_RULES_POLL_MS). */
  rulesPollMs: number
  /** The operator console (src/console): see docs/console.md. */
  console: ConsoleConfig
}

export interface ConsoleConfig {
  /** On by default in development mode, and in production once WXMP_CONSOLE_USERS is set. */
  enabled: boolean
  /** `name:scrypt:…` entries from WXMP_CONSOLE_USERS (`wxmp console add-user` prints one). */
  users: string | undefined
  /** URL path prefix (WXMP_CONSOLE_PATH, default /console). */
  path: string
  /** Serve the console on this port instead of the webhook's (WXMP_CONSOLE_PORT). */
  port: number | undefined
  /** Development mode without users: the generated password for `admin` is kept here. */
  passwordFile: string | undefined
}

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))

/** One row per variable: schema and the hint shown when it is wrong. */
const VARIABLES = {
  WECHAT_TOKEN: { schema: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be printable ASCII without spaces (the console Token is 3–32 letters or digits)'), hint: 'copy the Token from 服务器配置 again, without quotes or a newline' },
  WECHAT_APPID: { schema: z.string().regex(/^wx[0-9a-zA-Z]{4,30}$/, 'must look like wx followed by 16 letters or digits'), hint: 'the AppID is under 基本配置; the gh_… value is the 原始ID, not the AppID' },
  WECHAT_APPSECRET: { schema: z.string().regex(/^\S{1,128}$/, 'must not be empty or contain whitespace'), hint: 'the AppSecret is 32 letters or digits (基本配置 → AppSecret)' },
  WECHAT_AES_KEY: { schema: z.string(), hint: 'EncodingAESKey is exactly 43 letters or digits, with no trailing "="' },
  WECHAT_AES_KEY_PREVIOUS: { schema: z.string(), hint: 'the EncodingAESKey used before the last change in the console' },
  WECHAT_REQUIRE_ENCRYPTION: { schema: bool, hint: 'use 1 or 0' },
  WECHAT_API_BASE: { schema: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }), hint: 'e.g. https://api.weixin.qq.com, or http://127.0.0.1:8081 for `wxmp fake-wechat`' },
  PORT: { schema: int(0, 65535), hint: 'a TCP port such as 3000' },
  HOST: { schema: z.string().min(1), hint: 'an address to listen on, e.g. 0.0.0.0 or 127.0.0.1' },
  WECHAT_PATH: { schema: z.string().regex(/^\/[\w\-./~]*$/, 'must start with "/"'), hint: 'e.g. /wechat (the path part of the URL in 服务器配置)' },
  DATABASE_URL: { schema: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/|memory:)/, 'must start with sqlite:, postgres:// or memory:'), hint: 'e.g. sqlite:./data/wxmp.db or postgres://user@host/db' },
  REDIS_URL: { schema: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'), hint: 'e.g. redis://127.0.0.1:6379/0' },
  WECHAT_TIMESTAMP_TOLERANCE: { schema: int(0, 86_400), hint: 'seconds, e.g. 300; 0 disables the check' },
  WECHAT_REPLY_TIMEOUT_MS: { schema: int(100, 4900), hint: 'milliseconds below WeChat\'s 5000, e.g. 4500' },
  WECHAT_LATE_REPLY: { schema: z.enum(['auto', 'customer-service', 'drop', 'retry-window', 'next-message']), hint: 'auto (default), customer-service, drop, retry-window or next-message' },
  WECHAT_ACCOUNT_KIND: { schema: z.enum(['subscription', 'subscription-verified', 'service', 'service-verified', 'sandbox']), hint: 'subscription, subscription-verified, service, service-verified or sandbox (公众平台测试号)' },
  WECHAT_PENDING_NOTICE: { schema: z.string().regex(/\S/, 'must not be only whitespace').max(600, 'must be at most 600 characters'), hint: 'a short text telling the user to write again, e.g. 内容较长，回复任意文字获取结果' },
  WECHAT_PENDING_KEYWORD: { schema: z.string().regex(/^\S{1,32}$/, 'must be one word of 1–32 characters'), hint: 'the word that fetches a pending answer, e.g. 继续; unset: any message does' },
  WECHAT_PENDING_THEN: { schema: z.enum(['skip', 'handle']), hint: 'skip (the fetching message is not handled further) or handle' },
  WECHAT_PENDING_TTL_SEC: { schema: int(60, 30 * 86_400), hint: 'seconds a pending answer is kept, e.g. 86400' },
  WECHAT_PAGE_FOOTER: { schema: z.string().max(200, 'must be at most 200 characters'), hint: 'e.g. （回复"继续"查看剩余 {n} 页）; {n} is the pages left' },
  WECHAT_LANGUAGE: { schema: z.enum(['zh', 'en']), hint: 'zh (default) or en: the language of the default notices' },
  WECHAT_INTERIM: { schema: z.string().regex(/\S/, 'must not be only whitespace').max(600, 'must be at most 600 characters'), hint: 'a short text shown at once while the answer is prepared, e.g. 正在思考，请稍候…' },
  WECHAT_TYPING_AFTER_MS: { schema: int(0, 60_000), hint: 'milliseconds after arrival before "typing…" shows, e.g. 1000; 0 turns it off' },
  WXMP_LOG_LEVEL: { schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), hint: 'one of trace, debug, info, warn, error, fatal, silent' },
  WXMP_LOG_FORMAT: { schema: z.enum(['pretty', 'json', 'auto']), hint: 'pretty (human-readable), json (one JSON object per line) or auto (pretty on a terminal, else json)' },
  WXMP_MAX_BODY_BYTES: { schema: int(1024, 64 * 1024 * 1024), hint: 'bytes, e.g. 1048576' },
  WXMP_MESSAGE_LOG: { schema: bool, hint: 'use 1 (default) to log every message to DATABASE_URL, 0 to turn the log off' },
  WXMP_RATE_LIMIT: { schema: int(0, 10_000_000), hint: 'requests per minute per address; 0 disables' },
  WXMP_MAX_BUFFERED_BYTES: { schema: int(1024, 4 * 1024 * 1024 * 1024), hint: 'bytes of request bodies held at once across all requests, e.g. 16777216; at least WXMP_MAX_BODY_BYTES' },
  WXMP_TRUSTED_PROXIES: { schema: z.string().regex(/^[0-9A-Fa-f.:/,\s]+$/, 'must be IP addresses or CIDR ranges separated by commas'), hint: 'your own proxies only, e.g. 127.0.0.1,10.0.0.0/8 (never a range the public can send from)' },
  WXMP_CLIENT_IP_HEADER: { schema: z.enum(['x-forwarded-for', 'x-real-ip']), hint: 'x-forwarded-for (default; the proxy appends to it) or x-real-ip (the proxy overwrites it)' },
  WXMP_OPS_PORT: { schema: int(0, 65535), hint: 'a TCP port for /healthz, /readyz and /metrics, e.g. 9464' },
  WXMP_OPS_HOST: { schema: z.string().min(1), hint: 'the address the operations port listens on, e.g. 127.0.0.1 (default) or 0.0.0.0 behind a firewall' },
  WXMP_RULES: { schema: z.enum(['rules-first', 'code-first', 'off']), hint: 'rules-first (rules answer before your handlers), code-first (rules answer what your handlers leave) or off' },
  WXMP_RULES_FILE: { schema: z.string().regex(/\.(json|ya?ml)$/i, 'must name a .json, .yaml or .yml file'), hint: 'a rules file kept in git, e.g. ./rules.yaml (wxmp rules export writes one)' },
  WXMP_RULES_POLL_MS: { schema: int(100, 60_000), hint: 'milliseconds between checks of the rules version, e.g. 1000' },
  WXMP_CONSOLE: { schema: bool, hint: 'use 0 to turn the operator console off, 1 to require it (production needs WXMP_CONSOLE_USERS)' },
  WXMP_CONSOLE_USERS: { schema: z.string().regex(/^\s*[^\s:,]+:scrypt:\S+(\s*,\s*[^\s:,]+:scrypt:\S+)*\s*,?\s*$/, 'must be name:scrypt:… entries separated by commas'), hint: 'run `wxmp console add-user NAME` and paste the line it prints' },
  WXMP_CONSOLE_PATH: { schema: z.string().regex(/^\/[A-Za-z0-9\-_.~/]*[A-Za-z0-9\-_.~]$/, 'must start with "/" and not end with "/"'), hint: 'e.g. /console or /ops/console' },
  WXMP_CONSOLE_PORT: { schema: int(0, 65535), hint: 'a TCP port for the console alone, e.g. 3001 (unset: the webhook\'s port)' },
} as const

type Variable = keyof typeof VARIABLES
export const CONFIG_VARIABLES = Object.keys(VARIABLES) as Variable[]

function read<V extends Variable>(env: NodeJS.ProcessEnv, name: V): z.output<(typeof VARIABLES)[V]['schema']> | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  const row = VARIABLES[name]
  const result = row.schema.safeParse(raw)
  if (!result.success) {
    const problem = result.error.issues[0]?.message ?? 'is invalid'
    throw new WxmpError('WX_ERR_CONFIG', `${name} ${problem} (got ${describe(name, raw)}): ${row.hint}`, { details: { variable: name } })
  }
  return result.data as z.output<(typeof VARIABLES)[V]['schema']>
}

/** Never echo secrets back in an error; say only their shape. */
function describe(name: Variable, raw: string): string {
  if (name === 'WECHAT_APPSECRET' || name === 'WECHAT_TOKEN' || name.startsWith('WECHAT_AES_KEY') || name === 'WXMP_CONSOLE_USERS') return `${raw.length} characters${/\s/.test(raw) ? ' including whitespace' : ''}`
  return JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw)
}

function checkAesKey(env: NodeJS.ProcessEnv, name: 'WECHAT_AES_KEY' | 'WECHAT_AES_KEY_PREVIOUS'): string | undefined {
  const key = read(env, name)
  if (key === undefined) return undefined
  try {
    decodeAesKey(key)
  } catch (err) {
    throw new WxmpError('WX_ERR_CONFIG', `${name}: ${(err as Error).message}`, { cause: err, details: { variable: name } })
  }
  return key
}

/** Reads KEY=VALUE lines from `.env` into `env` without overriding what is already set. */
export function loadDotEnv(file: string, env: NodeJS.ProcessEnv): void {
  if (!existsSync(file)) return
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/)
    if (m === null || line.trimStart().startsWith('#')) continue
    const [, key, rawValue = ''] = m
    const value = rawValue.replace(/^(['"])(.*)\1$/, '$2')
    if (key !== undefined && env[key] === undefined) env[key] = value
  }
}

export interface LoadConfigOptions {
  cwd?: string
  /** Read `.env` (default true). */
  dotenv?: boolean
  /**
   * Without WECHAT_TOKEN: 'create' (default, the server) generates the development Token into
   * ./data/dev-token once; 'read' (the tools) reads it when it is there and otherwise uses a
   * throwaway Token, so a tool run in any folder leaves nothing behind.
   */
  devToken?: 'create' | 'read'
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): WxmpConfig {
  const cwd = options.cwd ?? process.cwd()
  if (options.dotenv !== false) loadDotEnv(resolve(cwd, '.env'), env)
  const dataDir = resolve(cwd, 'data')
  let token = read(env, 'WECHAT_TOKEN')
  let tokenFile: string | undefined
  const dev = token === undefined
  if (token === undefined) {
    tokenFile = resolve(dataDir, 'dev-token')
    token = options.devToken === 'read' ? (savedDevToken(tokenFile) ?? newDevToken()) : devToken(tokenFile)
  }
  const encodingAESKey = checkAesKey(env, 'WECHAT_AES_KEY')
  const requireEncryption = read(env, 'WECHAT_REQUIRE_ENCRYPTION') ?? false
  if (requireEncryption && encodingAESKey === undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'WECHAT_REQUIRE_ENCRYPTION is on but WECHAT_AES_KEY is not set: encrypted messages could not be read', { details: { variable: 'WECHAT_REQUIRE_ENCRYPTION' } })
  }
  const appId = read(env, 'WECHAT_APPID')
  const appSecret = read(env, 'WECHAT_APPSECRET')
  if ((appId === undefined) !== (appSecret === undefined) && appSecret !== undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'WECHAT_APPSECRET is set but WECHAT_APPID is not: API calls need both', { details: { variable: 'WECHAT_APPID' } })
  }
  const maxBodyBytes = read(env, 'WXMP_MAX_BODY_BYTES') ?? 1024 * 1024
  const maxBufferedBytes = read(env, 'WXMP_MAX_BUFFERED_BYTES') ?? Math.max(16 * 1024 * 1024, maxBodyBytes)
  if (maxBufferedBytes < maxBodyBytes) {
    throw new WxmpError('WX_ERR_CONFIG', `WXMP_MAX_BUFFERED_BYTES (${maxBufferedBytes}) is below WXMP_MAX_BODY_BYTES (${maxBodyBytes}): one body of the largest accepted size must fit`, { details: { variable: 'WXMP_MAX_BUFFERED_BYTES' } })
  }
  const opsPort = read(env, 'WXMP_OPS_PORT')
  if (opsPort === undefined && read(env, 'WXMP_OPS_HOST') !== undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'WXMP_OPS_HOST is set but WXMP_OPS_PORT is not: the operations listener needs a port', { details: { variable: 'WXMP_OPS_PORT' } })
  }
  if (encodingAESKey !== undefined && appId === undefined) {
    // without the AppID the one inside each ciphertext cannot be checked: any account's messages would be accepted
    throw new WxmpError('WX_ERR_CONFIG', 'WECHAT_AES_KEY is set but WECHAT_APPID is not: set WECHAT_APPID (基本配置 → AppID) so that messages encrypted for another account are refused', { details: { variable: 'WECHAT_APPID' } })
  }
  return {
    token,
    dev,
    tokenFile,
    appId,
    appSecret,
    encodingAESKey,
    previousEncodingAESKey: checkAesKey(env, 'WECHAT_AES_KEY_PREVIOUS'),
    requireEncryption,
    apiBase: (read(env, 'WECHAT_API_BASE') ?? 'https://api.weixin.qq.com').replace(/\/+$/, ''),
    port: read(env, 'PORT') ?? 3000,
    host: read(env, 'HOST') ?? '0.0.0.0',
    path: read(env, 'WECHAT_PATH') ?? '/wechat',
    databaseUrl: read(env, 'DATABASE_URL') ?? `sqlite:${resolve(dataDir, 'wxmp.db')}`,
    redisUrl: read(env, 'REDIS_URL'),
    timestampToleranceSec: read(env, 'WECHAT_TIMESTAMP_TOLERANCE') ?? 300,
    replyTimeoutMs: read(env, 'WECHAT_REPLY_TIMEOUT_MS') ?? 4500,
    late: read(env, 'WECHAT_LATE_REPLY') ?? 'auto',
    accountKind: read(env, 'WECHAT_ACCOUNT_KIND'),
    pendingNotice: read(env, 'WECHAT_PENDING_NOTICE'),
    pendingKeyword: read(env, 'WECHAT_PENDING_KEYWORD'),
    pendingThen: read(env, 'WECHAT_PENDING_THEN') ?? 'skip',
    pendingTtlSec: read(env, 'WECHAT_PENDING_TTL_SEC') ?? 86_400,
    pageFooter: read(env, 'WECHAT_PAGE_FOOTER'),
    language: read(env, 'WECHAT_LANGUAGE') ?? 'zh',
    interim: read(env, 'WECHAT_INTERIM'),
    typingAfterMs: typingAfter(read(env, 'WECHAT_TYPING_AFTER_MS')),
    logLevel: read(env, 'WXMP_LOG_LEVEL') ?? 'info',
    logFormat: read(env, 'WXMP_LOG_FORMAT') ?? 'auto',
    maxBodyBytes,
    rateLimitPerMinute: read(env, 'WXMP_RATE_LIMIT') ?? 0,
    messageLog: read(env, 'WXMP_MESSAGE_LOG') ?? true,
    maxBufferedBytes,
    trustedProxies: trustedProxies(read(env, 'WXMP_TRUSTED_PROXIES')),
    clientIpHeader: read(env, 'WXMP_CLIENT_IP_HEADER') ?? 'x-forwarded-for',
    opsPort,
    opsHost: read(env, 'WXMP_OPS_HOST') ?? '127.0.0.1',
    rules: read(env, 'WXMP_RULES') ?? 'rules-first',
    rulesFile: read(env, 'WXMP_RULES_FILE'),
    rulesPollMs: read(env, 'WXMP_RULES_POLL_MS') ?? 1000,
    console: consoleConfig(env, dev, dataDir, read(env, 'WECHAT_PATH') ?? '/wechat'),
  }
}

/** The console is on in development, and in production only once operators are configured. */
export function consoleConfig(env: NodeJS.ProcessEnv, dev: boolean, dataDir: string, webhookPath: string): ConsoleConfig {
  const wanted = read(env, 'WXMP_CONSOLE')
  const users = read(env, 'WXMP_CONSOLE_USERS')
  const path = read(env, 'WXMP_CONSOLE_PATH') ?? '/console'
  if (wanted === true && !dev && users === undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'WXMP_CONSOLE=1 but WXMP_CONSOLE_USERS is not set: in production the console needs operators (wxmp console add-user NAME)', { details: { variable: 'WXMP_CONSOLE_USERS' } })
  }
  if (path === webhookPath || webhookPath.startsWith(path + '/')) {
    throw new WxmpError('WX_ERR_CONFIG', `WXMP_CONSOLE_PATH ${path} overlaps the webhook path ${webhookPath}: choose another path`, { details: { variable: 'WXMP_CONSOLE_PATH' } })
  }
  return {
    enabled: wanted ?? (dev || users !== undefined),
    users,
    path,
    port: read(env, 'WXMP_CONSOLE_PORT'),
    passwordFile: dev && users === undefined ? resolve(dataDir, 'console-password') : undefined,
  }
}

/** The proxies, each checked now so a typo fails at startup with the variable named. */
function trustedProxies(list: string | undefined): string[] {
  const entries = (list ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')
  try {
    new TrustedProxies({ proxies: entries })
  } catch (err) {
    throw new WxmpError('WX_ERR_CONFIG', `WXMP_TRUSTED_PROXIES: ${(err as Error).message}`, { cause: err, details: { variable: 'WXMP_TRUSTED_PROXIES' } })
  }
  return entries
}

function savedDevToken(file: string): string | undefined {
  if (!existsSync(file)) return undefined
  const saved = readFileSync(file, 'utf8').trim()
  return /^[A-Za-z0-9]{3,32}$/.test(saved) ? saved : undefined
}

function newDevToken(): string {
  return randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32)
}

/** WECHAT_TYPING_AFTER_MS=0 means "never show typing…", not "show it at once". */
function typingAfter(ms: number | undefined): number | false | undefined {
  return ms === 0 ? false : ms
}

/** The development Token: generated once, then read back, so the console setting stays valid. */
function devToken(file: string): string {
  const saved = savedDevToken(file)
  if (saved !== undefined) return saved
  const token = newDevToken()
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, token + '\n', { mode: 0o600 })
  return token
}
