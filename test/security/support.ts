/**
 * The real server (startServer on port 0, loopback, a temporary SQLite file) for the security
 * suites, with a logger that keeps every line and a record of what the handlers saw: a forged
 * request that slipped through would show up there, whatever status it got.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/server/config.js'
import { startServer, type WxmpServer } from '../../src/server/app.js'
import { installEchoBot } from '../../src/server/echo-bot.js'
import type { Logger } from '../../src/logger.js'

export const TOKEN = 'securityToken7'
export const APP_ID = 'wx5f1d7c8a9b3e2f10'
export const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'

export interface Line {
  level: 'debug' | 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string | undefined
}

export function keepingLogger(lines: Line[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: Line[] } {
  const at = (level: Line['level']) => (obj: object, msg?: string) => void lines.push({ level, obj: { ...bindings, ...obj }, msg })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => keepingLogger(lines, { ...bindings, ...more }) }
}

export interface SecurityServer {
  server: WxmpServer
  url: string
  /** "FromUserName|MsgType|Content or EventKey" of every message a handler ran for. */
  handled: string[]
  lines: Line[]
  close(): Promise<void>
}

export async function startSecurityServer(env: Record<string, string> = {}): Promise<SecurityServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-security-'))
  const config = loadConfig(
    { WECHAT_TOKEN: TOKEN, WECHAT_APPID: APP_ID, WECHAT_AES_KEY: AES_KEY, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, ...env },
    { cwd: dir, dotenv: false },
  )
  const logger = keepingLogger()
  const handled: string[] = []
  const server = await startServer({
    config,
    logger,
    setup: (bot) => {
      bot.use(async (ctx, next) => {
        const m = ctx.message as unknown as Record<string, unknown>
        handled.push(`${ctx.openid}|${ctx.msgType}|${String(m.Content ?? m.EventKey ?? '')}`)
        await next()
      })
      installEchoBot(bot)
    },
  })
  return { server, url: server.http.url, handled, lines: logger.lines, close: () => server.close({ drainMs: 1000 }) }
}

export async function send(url: string, search: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url + search, { method: init.method ?? 'POST', ...(init.body === undefined ? {} : { body: init.body, headers: { 'content-type': 'text/xml' } }) })
  return { status: res.status, body: await res.text(), headers: res.headers }
}
