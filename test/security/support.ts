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
import { prefixed } from '../../src/storage/prefixed.js'
import { RedisStore } from '../../src/storage/redis.js'
import { ResilientStore } from '../../src/storage/resilient.js'
import type { KeyValueStore } from '../../src/storage/types.js'
import { REDIS_URL } from '../support/services.js'

export const TOKEN = 'securityToken7'
export const APP_ID = 'wx5f1d7c8a9b3e2f10'
export const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'

/** A logger that says nothing, for the bots and stores of tests that read no log lines. */
export const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

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

type StoreCall = 'get' | 'set' | 'delete' | 'add' | 'deleteIf'

/**
 * The store the server builds for REDIS_URL (a ResilientStore over a RedisStore), under
 * `prefix`; `watch` is told of every call as it is made, with its result. `raw` is the same
 * store unwatched, for a test's own reads.
 */
export function watchedRedisStore(prefix: string, watch: (call: StoreCall, key: string, result: Promise<unknown>) => void): { store: KeyValueStore; raw: KeyValueStore; close(): Promise<void> } {
  const resilient = new ResilientStore(new RedisStore(REDIS_URL), { logger: quiet })
  const raw = prefixed(resilient, prefix)
  const seen = <R>(call: StoreCall, key: string, result: Promise<R>): Promise<R> => (watch(call, key, result), result)
  const store: KeyValueStore = {
    kind: raw.kind,
    get: (key) => seen('get', key, raw.get(key)),
    set: (key, value, ttl) => seen('set', key, raw.set(key, value, ttl)),
    delete: (key) => seen('delete', key, raw.delete(key)),
    add: (key, value, ttl) => seen('add', key, raw.add(key, value, ttl)),
    deleteIf: (key, expected) => seen('deleteIf', key, raw.deleteIf(key, expected)),
    wouldRemember: (key, at) => raw.wouldRemember!(key, at),
    close: () => raw.close(),
    ping: () => raw.ping(),
  }
  return { store, raw, close: () => resilient.close() }
}
