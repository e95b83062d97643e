import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Bot } from '../../bot.js'
import { WxmpError } from '../../errors.js'
import type { WxmpConfig } from '../../server/config.js'
import { startServer, type WxmpServer } from '../../server/app.js'

export const SERVE_USAGE = `wxmp serve [--port N] [--host ADDR] [--path /wechat] [--bot ./my-bot.js]
  Starts the webhook server (the same as npm start). Without --bot it runs the echo bot.
  --bot loads a module whose default export is (bot) => { bot.on(...) }.`

/** Loads the user's bot module: its default export installs handlers on the bot. */
async function loadSetup(file: string): Promise<(bot: Bot) => void | Promise<void>> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown; setup?: unknown }
  const setup = mod.default ?? mod.setup
  if (typeof setup !== 'function') {
    throw new WxmpError('WX_ERR_CONFIG', `--bot ${file}: the module must export default (bot) => { … } that adds handlers`)
  }
  return setup as (bot: Bot) => void | Promise<void>
}

export async function runServeCommand(argv: string[], config: WxmpConfig, print: (line: string) => void): Promise<{ server: WxmpServer; code: number }> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string' }, host: { type: 'string' }, path: { type: 'string' }, bot: { type: 'string' } },
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
  const setup = values.bot === undefined ? undefined : await loadSetup(values.bot)
  const server = await startServer({ config: merged, ...(setup === undefined ? {} : { setup }) })
  for (const line of banner(merged, server, values.bot)) print(line)
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
    ...consoleLines(server),
    `  Try it      : npx wxmp simulate text 你好`,
    `  WeChat      : 公众号后台 → 设置与开发 → 基本配置 → 服务器配置: URL https://<your-domain>${config.path} (ports 80/443 only: put nginx with HTTPS in front), Token as above`,
    '',
  ]
}

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
