/**
 * The ready-to-run server: configuration → stores → bot → node:http, plus /healthz and
 * /readyz. `wxmp serve` and `npm start` call `startServer`; tests call it on port 0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Bot } from '../bot.js'
import { createWechatApiFromConfig } from '../api/from-config.js'
import { lateDeliveryProblem } from '../pipeline/late-delivery.js'
import { serve, send, type RunningServer } from '../adapters/node.js'
import { createLogger, type Logger } from '../logger.js'
import type { KeyValueStore } from '../storage/types.js'
import type { WxmpConfig } from './config.js'
import { installEchoBot } from './echo-bot.js'
import type { Records } from '../records/open-records.js'
import type { Context } from '../context.js'
import type { SpoolingRecorder } from '../records/spool.js'
import { ResilientStore } from '../storage/resilient.js'
import { openServerStores } from './stores.js'
import { boundYoungGeneration } from './young-generation.js'
import { WxmpMetrics } from './metrics.js'
import { RateLimiter, rateLimitGuard } from './rate-limit.js'

export interface StartServerOptions {
  config: WxmpConfig
  logger?: Logger
  /** Installs the handlers; default: the echo bot. */
  setup?: (bot: Bot) => void | Promise<void>
  /**
   * Where message-log records wait while the database is down. Default: `spool/` beside a
   * SQLite file, `./data/spool` for PostgreSQL; none for `memory:`.
   */
  spoolDir?: string
  /** Slow-client limits in ms (defaults 10 000 and 15 000): see the node adapter. */
  http?: { headersTimeoutMs?: number; requestTimeoutMs?: number }
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
  /** The message log as the bot writes it: through the spool when there is one. */
  spool: SpoolingRecorder | undefined
  /** Prometheus metrics served at GET /metrics; give `metrics.recordApiCall` to the API client's `onCall`. */
  metrics: WxmpMetrics
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
    ...(config.interim === undefined ? {} : { interim: config.interim }),
    ...(config.typingAfterMs === undefined ? {} : { typingAfterMs: config.typingAfterMs }),
    maxBodyBytes: config.maxBodyBytes,
    apiBaseUrl: config.apiBase,
  }
}

export { openSharedStore } from './stores.js'

export async function startServer(options: StartServerOptions): Promise<WxmpServer> {
  const { config } = options
  const logger = options.logger ?? createLogger({ level: config.logLevel })
  // the young generation stays a few MiB instead of V8's 32 (src/server/young-generation.ts)
  const youngGeneration = boundYoungGeneration()
  // stores, records and spool as `npm start` runs them (src/server/stores.ts)
  const stores = await openServerStores(config, { logger, ...(options.spoolDir === undefined ? {} : { spoolDir: options.spoolDir }) })
  const { store, sharedStore, records, spool } = stores
  const bot = new Bot({ ...botOptionsFrom(config), ...stores.botOptions, logger })
  const metrics = new WxmpMetrics().observe(bot)
  metrics.gauge('store_degraded', 'Whether the shared store runs on its in-process fallback (1) or its backend (0)', () => (sharedStore instanceof ResilientStore && sharedStore.degraded ? 1 : 0))
  metrics.gauge('spool_pending', 'Message-log records waiting in the local spool for the database', () => spool?.pending ?? 0)
  if (config.appId !== undefined && config.appSecret !== undefined) {
    // late replies, ctx.send and "typing…" use the same token store as `wxmp token` and other instances
    bot.setApiFactory(() => createWechatApiFromConfig(config, sharedStore, { logger, onCall: (call) => metrics.recordApiCall(call) }))
  }
  bot.use(followerTracking(spool ?? records.followers, config.appId ?? '', logger))
  await (options.setup ?? installEchoBot)(bot)
  const lateProblem = lateDeliveryProblem(bot)
  // in development (generated Token, the echo bot) nothing is slow yet: a note, not a warning
  if (lateProblem !== undefined) (config.dev ? logger.info.bind(logger) : logger.warn.bind(logger))({ code: 'WX_ERR_CONFIG' }, lateProblem)
  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET' || !OPERATIONS_PATHS.has(url.pathname)) {
      // scanners probe paths all day: one info line each, never an error
      logger.info({ code: 'WX_ERR_NOT_FOUND', status: 404, remote: req.socket.remoteAddress, method: req.method?.slice(0, 10), path: url.pathname.slice(0, 100) }, 'request rejected (WX_ERR_NOT_FOUND)')
      return false
    }
    if (url.pathname === '/metrics') {
      send(res, { status: 200, headers: { 'content-type': metrics.contentType }, body: await metrics.render() }, false)
      return true
    }
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
      try {
        await records.messages.recent({ limit: 1 })
        checks.push({ store: `${records.kind} (records)`, ok: true })
      } catch (err) {
        checks.push({ store: `${records.kind} (records)`, ok: false, error: (err as Error).message })
      }
      const ok = checks.every((c) => c.ok)
      const degraded = { storeFallback: sharedStore instanceof ResilientStore && sharedStore.degraded, spoolPending: spool?.pending ?? 0 }
      send(res, json(ok ? 200 : 503, { status: ok ? 'ready' : 'unavailable', checks, ...degraded }), false)
      return true
    }
    return false
  }
  const http = await serve(bot, {
    port: config.port,
    host: config.host,
    path: config.path,
    routes,
    ...options.http,
    ...(config.rateLimitPerMinute > 0 ? { guard: rateLimitGuard(new RateLimiter({ perMinute: config.rateLimitPerMinute }), { logger, onLimited: () => metrics.recordRateLimited() }) } : {}),
    onClientError: (event) => logger.warn({ code: event.code, status: event.status, remote: event.remoteAddress, reason: event.reason }, `connection rejected (${event.code})`),
  })
  let closed = false
  return {
    bot,
    http,
    store,
    sharedStore,
    records,
    spool,
    metrics,
    async close({ drainMs = 10_000 } = {}) {
      if (closed) return
      closed = true
      const stopped = http.close()
      const drained = await bot.drain(drainMs)
      if (!drained) logger.warn({ running: bot.backgroundCount }, 'shutdown: handlers still running after the drain timeout')
      await stopped
      await stores.close()
      youngGeneration.stop()
    },
  }
}

/**
 * Records every subscribe and unsubscribe (time and QR scene) before the user's handlers run;
 * through the spool when there is one, so that a change made while the database is down is
 * written when it is back.
 */
function followerTracking(followers: Pick<SpoolingRecorder, 'recordFollower'> | Records['followers'], appId: string, logger: Logger) {
  return async (ctx: Context, next: () => Promise<void>) => {
    const event = ctx.event
    if (event === 'subscribe' || event === 'unsubscribe') {
      try {
        const change = { appId, openid: ctx.openid, event: event as 'subscribe' | 'unsubscribe', at: ctx.message.CreateTime * 1000, scene: event === 'subscribe' ? (ctx.scene ?? null) : null }
        await ('recordFollower' in followers ? followers.recordFollower(change) : followers.record(change))
      } catch (err) {
        logger.error({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'follower record failed')
      }
    }
    await next()
  }
}

const OPERATIONS_PATHS = new Set(['/healthz', '/readyz', '/metrics'])

function json(status: number, body: unknown) {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) }
}
