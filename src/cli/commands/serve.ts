import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Bot } from '../../bot.js'
import { WxmpError } from '../../errors.js'
import type { WxmpConfig } from '../../server/config.js'
import { startServer, type WxmpServer } from '../../server/app.js'
import { loadAccounts, type LoadedAccounts, type ResolvedAccount } from '../../accounts/config.js'

export const SERVE_USAGE = `wxmp serve [--port N] [--host ADDR] [--path /wechat] [--bot ./my-bot.js] [--no-echo] [--config wxmp.config.json]
  Starts the webhook server (the same as npm start; npm start -- --port 3456 passes options).
  Without --bot it runs the echo bot. --bot loads a module (.js, or .ts with tsx installed or
  Node 22.18+) whose default export is (bot) => { bot.on(...) }.
  --port N       TCP port (default PORT, else 3000); --host ADDR (default HOST, else 0.0.0.0)
  --path /p      webhook path (default WECHAT_PATH, else /wechat)
  --no-echo      no code handlers at all, only the rules answer (wxmp rules)
  --config FILE  several accounts from an accounts file (default WXMP_CONFIG_FILE, else
                 ./wxmp.config.json, .yaml or .yml when present): each at its own path
                 (default /wechat/<name>); --bot is then the handler of accounts without "bot"
  SIGHUP reads the accounts file again: accounts are added, changed or removed without
  dropping the others' requests; a bad file keeps the running accounts (the error is logged).
  Stops on SIGINT/SIGTERM after running handlers finish (at most 10 s).`

/** Loads the user's bot module: its default export installs handlers on the bot. */
async function loadSetup(file: string): Promise<(bot: Bot) => void | Promise<void>> {
  let mod = await importBotModule(file)
  // a .ts file outside a "type": "module" package loads as CommonJS: its exports sit under default
  const inner = mod.default as { default?: unknown; setup?: unknown } | undefined
  if (typeof inner === 'object' && inner !== null && (typeof inner.default === 'function' || typeof inner.setup === 'function')) mod = inner
  const setup = mod.default ?? mod.setup
  if (typeof setup !== 'function') {
    throw new WxmpError('WX_ERR_CONFIG', `--bot ${file}: the module must export default (bot) => { … } that adds handlers`)
  }
  return setup as (bot: Bot) => void | Promise<void>
}

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/

/**
 * Imports a .js/.mjs module as is, and a TypeScript one with Node's type stripping where it is
 * on (Node 22.18+, 23.6+), else with tsx (an optional peer dependency: `npm i -D tsx`). A file
 * that is not there, or TypeScript with neither available, is a configuration error with a
 * sentence, not a loader stack trace.
 */
async function importBotModule(file: string): Promise<{ default?: unknown; setup?: unknown }> {
  const path = resolve(file)
  if (!existsSync(path)) {
    throw new WxmpError('WX_ERR_CONFIG', `--bot ${file}: no such file (looked for ${path}); the path is relative to the folder you run wxmp in`)
  }
  const url = pathToFileURL(path).href
  try {
    return (await import(url)) as { default?: unknown; setup?: unknown }
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TYPESCRIPT.test(path)) throw err
  }
  let tsx: { tsImport: (specifier: string, parent: string) => Promise<unknown> }
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    throw new WxmpError(
      'WX_ERR_CONFIG',
      `--bot ${file} is TypeScript and this Node (${process.version}) does not strip types: install tsx beside wxmp (npm i -D tsx) and wxmp loads it, or run Node 22.18 or later, or compile the bot to .js`,
    )
  }
  return (await tsx.tsImport(url, import.meta.url)) as { default?: unknown; setup?: unknown }
}

export async function runServeCommand(argv: string[], config: WxmpConfig, print: (line: string) => void): Promise<{ server: WxmpServer; code: number }> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, path: { type: 'string' }, bot: { type: 'string' }, 'no-echo': { type: 'boolean', default: false }, config: { type: 'string' } },
    allowPositionals: false,
  })
  const merged: WxmpConfig = { ...config }
  if (values.port !== undefined) {
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WxmpError('WX_ERR_CONFIG', `--port ${values.port} is not a TCP port (0–65535)`)
    merged.port = port
  }
  if (values.host !== undefined) merged.host = values.host
  if (values.path !== undefined) {
    if (!values.path.startsWith('/')) throw new WxmpError('WX_ERR_CONFIG', `--path ${values.path} must start with "/"`)
    merged.path = values.path
  }
  if (values['no-echo'] && values.bot !== undefined) throw new WxmpError('WX_ERR_CONFIG', '--no-echo and --bot: --bot already replaces the echo bot; give one of them')
  const setup = values.bot === undefined ? (values['no-echo'] ? () => undefined : undefined) : await loadSetup(values.bot)
  const readAccounts = () => loadAccounts({ env: process.env, base: merged, ...(values.config === undefined ? {} : { file: values.config }) })
  const loaded = await readAccounts()
  if (loaded.source === 'file' && values.path !== undefined) throw new WxmpError('WX_ERR_CONFIG', `--path with an accounts file (${loaded.file}): give each account its "path" in the file instead`)
  // an account's own module ("bot" in the file) wins over --bot; modules load once per path
  const modules = new Map<string, Promise<(bot: Bot) => void | Promise<void>>>()
  const accountSetup = async (bot: Bot, account: ResolvedAccount) => {
    if (account.botModule === undefined) return (setup ?? (await import('../../server/echo-bot.js')).installEchoBot)(bot)
    let loading = modules.get(account.botModule)
    if (loading === undefined) modules.set(account.botModule, (loading = loadSetup(account.botModule)))
    return (await loading)(bot)
  }
  const server = await startServer({
    config: loaded.base,
    setup: accountSetup,
    ...(loaded.source === 'file' ? { accounts: loaded.accounts, reload: async () => (await readAccounts()).accounts } : {}),
  })
  if (loaded.source === 'file') reloadOnSignal(server)
  for (const line of banner(merged, server, values.bot ?? (values['no-echo'] ? 'rules only (--no-echo)' : undefined), loaded)) print(line)
  return { server, code: 0 }
}

/** SIGHUP reads the accounts file again (server.reload logs what changed, or why nothing did). */
function reloadOnSignal(server: WxmpServer): void {
  const onHangup = () => void server.reload()
  process.on('SIGHUP', onHangup)
  const close = server.close.bind(server)
  server.close = (options) => {
    process.off('SIGHUP', onHangup)
    return close(options)
  }
}

function banner(config: WxmpConfig, server: WxmpServer, botFile: string | undefined, loaded: LoadedAccounts): string[] {
  if (loaded.source === 'file') return accountsBanner(server, botFile, loaded)
  const mode = config.encodingAESKey === undefined ? 'plaintext (明文); set WECHAT_AES_KEY for safe mode (安全模式)' : config.requireEncryption ? 'safe mode only (安全模式)' : 'plaintext, compatible and safe mode accepted'
  return [
    '',
    `  wxmp — ${botFile === undefined ? 'echo bot (复读机)' : botFile} is listening`,
    `  Webhook URL : ${server.http.url}`,
    // the Token is a secret: shown only when it was generated for development
    `  Token       : ${config.dev ? `${config.token}   (development: generated once, kept in ${config.tokenFile}; set WECHAT_TOKEN in production)` : 'from WECHAT_TOKEN'}`,
    `  Encryption  : ${mode}`,
    `  API         : ${config.appId === undefined ? 'off (set WECHAT_APPID and WECHAT_APPSECRET)' : `${config.appId} via ${config.apiBase}`}`,
    `  Storage     : ${server.sharedStore.kind}${config.redisUrl === undefined ? ' (one instance; set REDIS_URL for several)' : ''}`,
    `  Operations  : ${server.ops !== undefined ? `${server.ops.url}/healthz, /readyz, /metrics` : `/healthz, /readyz, /metrics on this port${config.dev ? '' : ' (readyz and metrics: this host only; WXMP_OPS_PORT for a port of their own)'}`}`,
    `  Rules       : ${server.rules === undefined ? 'off (WXMP_RULES=off)' : `${server.rules.live.current.size} (${config.rules}); wxmp rules list`}`,
    ...consoleLines(server),
    `  Try it      : ${tryIt(server.http.url)}`,
    // an expected state in development, said once here rather than as an error-coded log line
    ...(server.lateReplyProblem === undefined || !config.dev ? [] : [`  Slow replies: a reply later than ${config.replyTimeoutMs} ms is lost until WECHAT_APPID and WECHAT_APPSECRET are set (customer-service API)`]),
    `  WeChat      : 公众号后台 → 设置与开发 → 基本配置 → 服务器配置: URL https://<your-domain>${config.path} (ports 80/443 only: put nginx with HTTPS in front), Token as above`,
    '',
  ]
}

/**
 * The simulator's command for this server. Without --url it targets PORT and WECHAT_PATH as
 * the other terminal sees them (environment, .env), which is this server only on the defaults.
 */
export function tryIt(webhookUrl: string): string {
  return webhookUrl === DEFAULT_URL ? 'npx wxmp simulate text 你好' : `npx wxmp simulate --url ${webhookUrl} text 你好`
}
const DEFAULT_URL = 'http://127.0.0.1:3000/wechat'

/** The console's address and, in development, its generated sign-in (like the dev Token). */
function consoleLines(server: WxmpServer): string[] {
  const operatorConsole = server.console
  if (operatorConsole === undefined) return []
  const dev = operatorConsole.dev
  return [
    `  Console     : ${operatorConsole.url}`,
    ...(dev === undefined ? [] : [`  Sign in     : ${dev.user} / ${dev.password}   (development: generated once, kept in ${dev.file}; set WXMP_CONSOLE_USERS in production)`]),
  ]
}

/** Several accounts: one line per account (path, mode, API) instead of the one-account lines. */
function accountsBanner(server: WxmpServer, botFile: string | undefined, loaded: LoadedAccounts): string[] {
  const origin = new URL(server.http.url).origin
  const config = loaded.base
  const lines = [...server.accounts.values()].map((a) => {
    const c = a.config
    const mode = c.encodingAESKey === undefined ? 'plaintext' : c.requireEncryption ? 'safe mode only' : 'compatible + safe'
    return `    ${a.name.padEnd(12)} ${origin}${a.path}   ${mode}; API ${c.appSecret === undefined ? 'off' : c.appId}${c.botModule === undefined ? '' : `; bot ${c.botModule}`}`
  })
  return [
    '',
    `  wxmp — ${server.accounts.size} accounts from ${loaded.file} (${botFile === undefined ? 'echo bot (复读机)' : botFile} where no "bot" is set)`,
    '  Accounts    :',
    ...lines,
    `  Storage     : ${server.sharedStore.kind}${config.redisUrl === undefined ? ' (one instance; set REDIS_URL for several)' : ''}`,
    `  Operations  : ${server.ops !== undefined ? `${server.ops.url}/healthz, /readyz, /metrics` : '/healthz, /readyz, /metrics on this port (readyz and metrics: this host only)'}`,
    ...consoleLines(server),
    `  Reload      : kill -HUP ${process.pid} reads ${loaded.file} again`,
    `  Try it      : npx wxmp simulate --url ${origin}${[...server.accounts.values()][0]?.path ?? '/'} --token <that account's Token> text 你好`,
    '',
  ]
}
