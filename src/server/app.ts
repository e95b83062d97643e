/**
 * The ready-to-run server: configuration → stores → bot → node:http, plus /healthz and
 * /readyz. `wxmp serve` and `npm start` call `startServer`; tests call it on port 0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Bot } from '../bot.js'
import { serve, send, type RunningServer } from '../adapters/node.js'
import { createLogger, type Logger } from '../logger.js'
import { createStore } from '../storage/create-store.js'
import { MemoryStore } from '../storage/memory.js'
import { prefixed } from '../storage/prefixed.js'
import type { KeyValueStore } from '../storage/types.js'
import type { WxmpConfig } from './config.js'
import { installEchoBot } from './echo-bot.js'
import { openRecords, type Records } from '../records/open-records.js'
import type { Context } from '../context.js'

export interface StartServerOptions {
  config: WxmpConfig
  logger?: Logger
  /** Installs the handlers; default: the echo bot. */
  setup?: (bot: Bot) => void | Promise<void>
}

export interface WxmpServer {
  bot: Bot
  http: RunningServer
  /** Per-request state (dedup, replay guard): memory for one instance, Redis for several. */
  store: KeyValueStore
  /** Durable shared state (tokens, sessions, locks): Redis when set, else the database. */
  sharedStore: KeyValueStore
  /** The SQL message log and followers (DATABASE_URL). */
  records: Records
  /** Stops accepting, lets running handlers finish (late replies included), closes stores. */
  close(options?: { drainMs?: number }): Promise<void>
}

export function botOptionsFrom(config: WxmpConfig) {
  return {
    token: config.token,
    ...(config.appId === undefined ? {} : { appId: config.appId }),
    ...(config.appSecret === undefined ? {} : { appSecret: config.appSecret }),
    ...(config.encodingAESKey === undefined ? {} : { encodingAESKey: config.encodingAESKey }),
    ...(config.previousEncodingAESKey === undefined ? {} : { previousEncodingAESKey: config.previousEncodingAESKey }),
    requireEncryption: config.requireEncryption,
    timestampToleranceSec: config.timestampToleranceSec,
    replyTimeoutMs: config.replyTimeoutMs,
    late: config.late,
    maxBodyBytes: config.maxBodyBytes,
    apiBaseUrl: config.apiBase,
  }
}

/** The durable store for tokens and sessions that the CLI and the server share. */
export function openSharedStore(config: WxmpConfig): KeyValueStore {
  return createStore(config.redisUrl ?? config.databaseUrl, { variable: config.redisUrl === undefined ? 'DATABASE_URL' : 'REDIS_URL' })
}

export async function startServer(options: StartServerOptions): Promise<WxmpServer> {
  const { config } = options
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  const sharedStore = openSharedStore(config)
  const store = config.redisUrl === undefined ? new MemoryStore() : sharedStore
  // one Redis or one database can serve several accounts: every key is namespaced by account
  const namespace = `wxmp:${config.appId ?? 'default'}:`
  await sharedStore.ping()
  const records = await openRecords(config.databaseUrl)
  const bot = new Bot({ ...botOptionsFrom(config), store: prefixed(store, namespace), sharedStore: prefixed(sharedStore, namespace), ...(config.messageLog ? { records: records.messages } : {}), logger })
  bot.use(followerTracking(records, config.appId ?? '', logger))
  await (options.setup ?? installEchoBot)(bot)
  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET') return false
    if (url.pathname === '/healthz') {
      send(res, json(200, { status: 'ok' }), false)
      return true
    }
    if (url.pathname === '/readyz') {
      const checks = await Promise.all(
        [...new Set([store, sharedStore])].map(async (s) => {
          try {
            await s.ping()
            return { store: s.kind, ok: true }
          } catch (err) {
            return { store: s.kind, ok: false, error: (err as Error).message }
          }
        }),
      )
      const ok = checks.every((c) => c.ok)
      send(res, json(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', checks }), false)
      return true
    }
    return false
  }
  const http = await serve(bot, { port: config.port, host: config.host, path: config.path, routes })
  let closed = false
  return {
    bot,
    http,
    store,
    sharedStore,
    records,
    async close({ drainMs = 10_000 } = {}) {
      if (closed) return
      closed = true
      const stopped = http.close()
      const drained = await bot.drain(drainMs)
      if (!drained) logger.warn({ running: bot.backgroundCount }, 'shutdown: handlers still running after the drain timeout')
      await stopped
      await Promise.all([...new Set([store, sharedStore])].map((s) => s.close().catch(() => undefined)))
      await records.close().catch(() => undefined)
    },
  }
}

/** Records every subscribe and unsubscribe (time and QR scene) before the user's handlers run. */
function followerTracking(records: Records, appId: string, logger: Logger) {
  return async (ctx: Context, next: () => Promise<void>) => {
    const event = ctx.event
    if (event === 'subscribe' || event === 'unsubscribe') {
      try {
        await records.followers.record({ appId, openid: ctx.openid, event, at: ctx.message.CreateTime * 1000, scene: event === 'subscribe' ? (ctx.scene ?? null) : null })
      } catch (err) {
        logger.error({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'follower record failed')
      }
    }
    await next()
  }
}

function json(status: number, body: unknown) {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) }
}
