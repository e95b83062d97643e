/**
 * The ready-to-run server: configuration → stores → bot → node:http, plus /healthz and
 * /readyz. `wxmp serve` and `npm start` call `startServer`; tests call it on port 0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Bot } from '../bot.js'
import { createWechatApiFromConfig } from '../api/from-config.js'
import { lateDeliveryProblem } from '../pipeline/late-delivery.js'
import { serve, type RunningServer } from '../adapters/node.js'
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
import { SourceRateLimit } from './rate-limit.js'
import { RejectionLog } from './rejection-log.js'
import { Readiness } from './readiness.js'
import { OPERATIONS_PATHS, isLoopback, operationsRoutes, serveOperations, type OperationsListener } from './operations.js'
import { TrustedProxies } from '../pipeline/client-address.js'

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
  /** The listener for /healthz, /readyz and /metrics when WXMP_OPS_PORT is set. */
  ops: OperationsListener | undefined
  /** Why a reply after the deadline could not be delivered, when it could not (the banner shows it in development). */
  lateReplyProblem: string | undefined
  /** The rules (replies without code) and their live cache; undefined with WXMP_RULES=off. */
  rules: import('../rules/server.js').ServerRules | undefined
  /** The operator console when it is on (WXMP_CONSOLE…): its URL, and the generated sign-in in development. */
  console: { url: string; dev: { user: string; password: string; file: string } | undefined } | undefined
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
    ...(config.accountKind === undefined ? {} : { accountKind: config.accountKind }),
    ...(config.pendingNotice === undefined ? {} : { pendingNotice: config.pendingNotice }),
    pendingAnswers: {
      then: config.pendingThen,
      ttlMs: config.pendingTtlSec * 1000,
      ...(config.pendingKeyword === undefined ? {} : { keyword: config.pendingKeyword }),
      ...(config.pageFooter === undefined ? {} : { footer: config.pageFooter }),
    },
    language: config.language,
    ...(config.interim === undefined ? {} : { interim: config.interim }),
    ...(config.typingAfterMs === undefined ? {} : { typingAfterMs: config.typingAfterMs }),
    maxBodyBytes: config.maxBodyBytes,
    apiBaseUrl: config.apiBase,
    maxBufferedBodyBytes: config.maxBufferedBytes,
    ...(config.trustedProxies.length === 0 ? {} : { trustedProxies: config.trustedProxies, clientIpHeader: config.clientIpHeader }),
  }
}

export { openSharedStore } from './stores.js'

export async function startServer(options: StartServerOptions): Promise<WxmpServer> {
  // every client and timer opened before a failure is closed again: a server that cannot start
  // must exit (a process manager then restarts it), not linger with a reconnecting Redis client
  const opened: (() => Promise<unknown>)[] = []
  try {
    return await startOpening(options, opened)
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => undefined)
    throw err
  }
}

async function startOpening(options: StartServerOptions, opened: (() => Promise<unknown>)[]): Promise<WxmpServer> {
  const { config } = options
  const logger = options.logger ?? createLogger({ level: config.logLevel, format: config.logFormat })
  // the young generation stays a few MiB instead of V8's 32 (src/server/young-generation.ts)
  const youngGeneration = boundYoungGeneration()
  opened.push(async () => youngGeneration.stop())
  // stores, records, message log and spool as `npm start` runs them (src/server/stores.ts)
  const stores = await openServerStores(config, { logger, ...(options.spoolDir === undefined ? {} : { spoolDir: options.spoolDir }) })
  opened.push(() => stores.close())
  const { store, sharedStore, records, spool } = stores
  // a flood of refusals writes a few lines and a count per source, not a line each
  const rejections = new RejectionLog({ logger })
  const rateLimit = config.rateLimitPerMinute > 0 ? { rateLimit: new SourceRateLimit({ perMinute: config.rateLimitPerMinute }) } : {}
  const bot = new Bot({ ...botOptionsFrom(config), ...stores.botOptions, logger, rejectionLogger: rejections, ...rateLimit })
  const metrics = new WxmpMetrics().observe(bot)
  metrics.gauge('store_degraded', 'Whether the shared store runs on its in-process fallback (1) or its backend (0)', () => (sharedStore instanceof ResilientStore && sharedStore.degraded ? 1 : 0))
  metrics.gauge('spool_pending', 'Message-log records waiting in the local spool for the database', () => spool?.pending ?? 0)
  if (config.appId !== undefined && config.appSecret !== undefined) {
    // late replies, ctx.send and "typing…" use the same token store as `wxmp token` and other instances
    bot.setApiFactory(() => createWechatApiFromConfig(config, sharedStore, { logger, onCall: (call) => metrics.recordApiCall(call) }))
  }
  bot.use(followerTracking(spool ?? records.followers, config.appId ?? '', logger))
  let rules: import('../rules/server.js').ServerRules | undefined
  // the console is loaded only when it is on: the webhook and a library install never import it
  const operatorConsole = config.console.enabled ? await (await import('../console/index.js')).startConsole({ config, bot, records, sharedStore, store, logger, rules: () => rules }) : undefined
  // before the rules: a conversation an operator paused gets no rule reply either
  if (operatorConsole !== undefined) bot.use(operatorConsole.middleware)
  // before the code handlers, whatever the order: the rules middleware calls next() itself
  rules = config.rules === 'off' ? undefined : await (await import('../rules/server.js')).installRules(bot, config, logger)
  await (options.setup ?? installEchoBot)(bot)
  const lateProblem = lateDeliveryProblem(bot)
  // in development (generated Token, the echo bot) nothing is slow yet: an expected state, shown
  // in the banner (lateReplyProblem), not an error-coded log line
  if (lateProblem !== undefined && !config.dev) logger.warn({ code: 'WX_ERR_CONFIG' }, lateProblem)
  const readiness = new Readiness(
    [...[...new Set([store, sharedStore])].map((s) => ({ name: s.kind, probe: () => s.ping() })), { name: `${records.kind} (records)`, probe: () => records.messages.recent({ limit: 1 }) }],
    { logger, extra: () => ({ storeFallback: sharedStore instanceof ResilientStore && sharedStore.degraded, spoolPending: spool?.pending ?? 0 }) },
  )
  const proxies = config.trustedProxies.length === 0 ? undefined : new TrustedProxies({ proxies: config.trustedProxies, header: config.clientIpHeader })
  const clientOf = (req: IncomingMessage) => proxies?.clientAddress(req.socket.remoteAddress, req.headers) ?? req.socket.remoteAddress
  // on the webhook port in production, /readyz and /metrics are for this host only
  const operations = config.opsPort === undefined ? operationsRoutes({ metrics, readiness, ...(config.dev ? {} : { allow: (req) => isLoopback(clientOf(req)) }) }) : undefined
  const ops = config.opsPort === undefined ? undefined : await serveOperations(operationsRoutes({ metrics, readiness }), { port: config.opsPort, host: config.opsHost })
  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (operatorConsole !== undefined && (await operatorConsole.handle(req, res, url))) return true
    if (operations !== undefined && (await operations(req, res, url))) return true
    // scanners probe paths all day: one info line each, never an error
    const probing = req.method !== 'GET' || !OPERATIONS_PATHS.has(url.pathname)
    logger.info({ code: 'WX_ERR_NOT_FOUND', status: 404, remote: clientOf(req), method: req.method?.slice(0, 10), path: url.pathname.slice(0, 100), ...(probing ? {} : { hint: 'operational endpoints are served elsewhere (WXMP_OPS_PORT) or to loopback only' }) }, 'request rejected (WX_ERR_NOT_FOUND)')
    return false
  }
  const http = await serve(bot, {
    // the CLI drains on signals itself (and closes the stores after): not twice
    drainOnSignals: false,
    port: config.port,
    host: config.host,
    path: config.path,
    routes,
    ...options.http,
    onClientError: (event) => rejections.warn({ code: event.code, status: event.status, remote: event.remoteAddress, reason: event.reason }, `connection rejected (${event.code})`),
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
    ops,
    lateReplyProblem: lateProblem,
    rules,
    console: operatorConsole === undefined ? undefined : { url: operatorConsole.server?.url ?? new URL(`${operatorConsole.path}/`, http.url).href, dev: operatorConsole.dev },
    async close({ drainMs = 10_000 } = {}) {
      if (closed) return
      closed = true
      await operatorConsole?.close()
      const stopped = http.close()
      const opsStopped = ops?.close()
      const drained = await bot.drain(drainMs)
      if (!drained) logger.warn({ running: bot.backgroundCount }, 'shutdown: handlers still running after the drain timeout')
      await stopped
      await opsStopped
      rejections.close()
      await rules?.close().catch(() => undefined)
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
