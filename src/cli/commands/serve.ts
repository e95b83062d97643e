import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Bot } from '../../bot.js'
import { WxmpError } from '../../errors.js'
import type { WxmpConfig } from '../../server/config.js'
import { startServer, type WxmpServer } from '../../server/app.js'

export const SERVE_USAGE = `wxmp serve [--port N] [--host ADDR] [--path /wechat] [--bot ./my-bot.js] [--no-echo]
  Starts the webhook server (the same as npm start; npm start -- --port 3456 passes options).
  Without --bot it runs the echo bot. --bot loads a module (.js, or .ts with tsx installed or
  Node 22.18+) whose default export is (bot) => { bot.on(...) }.
  --port N       TCP port (default PORT, else 3000); --host ADDR (default HOST, else 0.0.0.0)
  --path /p      webhook path (default WECHAT_PATH, else /wechat)
  --no-echo      no code handlers at all, only the rules answer (wxmp rules)
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
    options: { port: { type: 'string' }, host: { type: 'string' }, path: { type: 'string' }, bot: { type: 'string' }, 'no-echo': { type: 'boolean', default: false } },
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
  const server = await startServer({ config: merged, ...(setup === undefined ? {} : { setup }) })
  for (const line of banner(merged, server, values.bot ?? (values['no-echo'] ? 'rules only (--no-echo)' : undefined))) print(line)
  return { server, code: 0 }
}

function banner(config: WxmpConfig, server: WxmpServer, botFile: string | undefined): string[] {
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
