/**
 * The ready-to-run server: configuration → stores → bot → node:http, plus /healthz and
 * /readyz. `wxmp serve` and `npm start` call `startServer`; tests call it on port 0.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Bot } from '../bot.js'
import { WxmpError } from '../errors.js'
import { AccountTable } from '../accounts/table.js'
import type { ResolvedAccount } from '../accounts/config.js'
import { serve, type RunningServer } from '../adapters/node.js'
import { createLogger, type Logger } from '../logger.js'
import type { KeyValueStore } from '../storage/types.js'
import type { WxmpConfig } from './config.js'
import { installEchoBot } from './echo-bot.js'
import type { Records } from '../records/open-records.js'
import type { SpoolingRecorder } from '../records/spool.js'
import { ResilientStore } from '../storage/resilient.js'
import { openServerStores } from './stores.js'
import { boundHeap } from './heap-bounds.js'
import { WxmpMetrics } from './metrics.js'
import { SourceRateLimit } from './rate-limit.js'
import { RejectionLog } from './rejection-log.js'
import { Readiness } from './readiness.js'
import { OPERATIONS_PATHS, isLoopback, operationsRoutes, serveOperations, type OperationsListener } from './operations.js'
import { TrustedProxies } from '../pipeline/client-address.js'
import { envAccount, openAccount, type AccountDeps, type ServerAccount } from './server-accounts.js'
import { AccountReloader, type ReloadResult } from './reload.js'

export type { ServerAccount } from './server-accounts.js'
export type { ReloadResult } from './reload.js'

export interface StartServerOptions {
  /** The process-wide configuration (port, database, Redis…); with no `accounts`, also the one account's. */
  config: WxmpConfig
  /**
   * Several accounts in one server (src/accounts/config.ts `loadAccounts`): each answers at its
   * own path. Default: the one account of `config`, at `config.path`, named `default`.
   */
  accounts?: ResolvedAccount[]
  /** What `server.reload()` without an argument (SIGHUP) serves next: e.g. the accounts file read again. */
  reload?: () => Promise<ResolvedAccount[]>
  logger?: Logger
  /** Installs the handlers (on each account's bot); default: the echo bot. */
  setup?: (bot: Bot, account: ResolvedAccount) => void | Promise<void>
  /**
   * Where message-log records wait while the database is down. Default: `spool/` beside a
   * SQLite file, `./data/spool` for PostgreSQL; none for `memory:`.
   */
  spoolDir?: string
  /** Slow-client limits in ms (defaults 10 000 and 15 000): see the node adapter. */
  http?: { headersTimeoutMs?: number; requestTimeoutMs?: number }
}

export interface WxmpServer {
  /** The first account's bot (the only one without an accounts file). */
  bot: Bot
  /**
   * Every account served, by name: its bot, configuration, path and rules. A reload replaces
   * this map's entries in place.
   */
  accounts: Map<string, ServerAccount>
  /**
   * Serves `accounts` (default: StartServerOptions.reload(), e.g. the accounts file read
   * again) from now on: added accounts start, changed ones are replaced, removed ones stop
   * after their running handlers; requests in flight finish on the bot they started on. A bad
   * configuration changes nothing (the result says why, naming the account).
   */
  reload(accounts?: ResolvedAccount[]): Promise<ReloadResult>
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
  /** The first account's rules (replies without code) and their live cache; undefined with WXMP_RULES=off. */
  rules: import('../rules/server.js').ServerRules | undefined
  /** The operator console when it is on (WXMP_CONSOLE…): its URL, and the generated sign-in in development. */
  console: { url: string; dev: { user: string; password: string; file: string } | undefined } | undefined
  /** Stops accepting, lets running handlers finish (late replies included), closes stores. */
  close(options?: { drainMs?: number }): Promise<void>
}

export { botOptionsFrom } from './bot-options-from.js'
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
  // the heap stays near what is live: a young generation of a few MiB, the old one collected early (src/server/heap-bounds.ts)
  const heapBounds = boundHeap()
  opened.push(async () => heapBounds.stop())
  // stores, records, message log and spool as `npm start` runs them (src/server/stores.ts)
  const stores = await openServerStores(config, { logger, ...(options.spoolDir === undefined ? {} : { spoolDir: options.spoolDir }) })
  opened.push(() => stores.close())
  const { store, sharedStore, records, spool } = stores
  // a flood of refusals writes a few lines and a count per source, not a line each
  const rejections = new RejectionLog({ logger })
  const metrics = new WxmpMetrics()
  metrics.gauge('store_degraded', 'Whether the shared store runs on its in-process fallback (1) or its backend (0)', () => (sharedStore instanceof ResilientStore && sharedStore.degraded ? 1 : 0))
  metrics.gauge('spool_pending', 'Message-log records waiting in the local spool for the database', () => spool?.pending ?? 0)
  const configured = options.accounts ?? [envAccount(config)]
  if (configured.length === 0) throw new WxmpError('WX_ERR_CONFIG', 'no account to serve')
  let rules: import('../rules/server.js').ServerRules | undefined
  let operatorConsole: Awaited<ReturnType<typeof import('../console/index.js')['startConsole']>> | undefined
  const consoleAccount = configured[0]!.name
  const setup = options.setup ?? installEchoBot
  const deps: AccountDeps = {
    stores,
    metrics,
    logger,
    rejections,
    named: options.accounts !== undefined,
    rateLimit: config.rateLimitPerMinute > 0 ? new SourceRateLimit({ perMinute: config.rateLimitPerMinute }) : undefined,
    setup: (bot, account) => setup(bot, account),
    // the console (every account's, one at a time: src/console/accounts.ts) is loaded only when
    // it is on: the webhook and a library install never import it; it runs before the rules, so
    // that a conversation an operator paused gets no rule reply either
    async beforeRules(bot, account) {
      if (!config.console.enabled) return
      const input = { name: account.name, config: account, bot, rules: () => accounts.get(account.name)?.rules }
      if (operatorConsole === undefined) {
        operatorConsole = await (await import('../console/index.js')).startConsole({ config: account, bot, records, sharedStore, store, logger, accounts: [input] })
        bot.use(operatorConsole.middleware)
      } else bot.use(await operatorConsole.addAccount(input))
    },
  }
  const accounts = new Map<string, ServerAccount>()
  opened.push(() => operatorConsole?.close() ?? Promise.resolve())
  for (const account of configured) {
    const running = await openAccount(account, deps)
    opened.push(() => running.close(0))
    accounts.set(account.name, running)
  }
  operatorConsole?.sync(accounts.values())
  const first = accounts.get(consoleAccount)!
  rules = first.rules
  const table = new AccountTable([...accounts.values()].map((a) => ({ name: a.name, path: a.path, bot: a.bot })))
  const readiness = new Readiness(
    [...[...new Set([store, sharedStore])].map((s) => ({ name: s.kind, probe: () => s.ping() })), { name: `${records.kind} (records)`, probe: () => records.messages.recent({ limit: 1 }) }],
    { logger, extra: () => ({ storeFallback: sharedStore instanceof ResilientStore && sharedStore.degraded, spoolPending: spool?.pending ?? 0 }) },
  )
  const proxies = config.trustedProxies.length === 0 ? undefined : new TrustedProxies({ proxies: config.trustedProxies, header: config.clientIpHeader })
  const clientOf = (req: IncomingMessage) => proxies?.clientAddress(req.socket.remoteAddress, req.headers) ?? req.socket.remoteAddress
  // on the webhook port in production, /readyz and /metrics are for this host only
  const operations = config.opsPort === undefined ? operationsRoutes({ metrics, readiness, ...(config.dev ? {} : { allow: (req) => isLoopback(clientOf(req)) }) }) : undefined
  const ops = config.opsPort === undefined ? undefined : await serveOperations(operationsRoutes({ metrics, readiness }), { port: config.opsPort, host: config.opsHost })
  if (ops !== undefined) opened.push(() => ops.close())
  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (operatorConsole !== undefined && (await operatorConsole.handle(req, res, url))) return true
    if (operations !== undefined && (await operations(req, res, url))) return true
    // scanners probe paths all day: one info line each, never an error; no account is touched
    const probing = req.method !== 'GET' || !OPERATIONS_PATHS.has(url.pathname)
    logger.info({ code: 'WX_ERR_NOT_FOUND', status: 404, remote: clientOf(req), method: req.method?.slice(0, 10), path: url.pathname.slice(0, 100), ...(probing ? {} : { hint: 'operational endpoints are served elsewhere (WXMP_OPS_PORT) or to loopback only' }) }, 'request rejected (WX_ERR_NOT_FOUND)')
    return false
  }
  const http = await serve(table, {
    // the CLI drains on signals itself (and closes the stores after): not twice
    drainOnSignals: false,
    port: config.port,
    host: config.host,
    routes,
    ...options.http,
    onClientError: (event) => rejections.warn({ code: event.code, status: event.status, remote: event.remoteAddress, reason: event.reason }, `connection rejected (${event.code})`),
  })
  let closed = false
  const reloader = new AccountReloader({ accounts, table, deps, logger, ...(options.reload === undefined ? {} : { load: options.reload }) })
  return {
    bot: first.bot,
    accounts,
    http,
    store,
    sharedStore,
    records,
    spool,
    metrics,
    ops,
    lateReplyProblem: first.lateReplyProblem,
    rules,
    console: operatorConsole === undefined ? undefined : { url: operatorConsole.server?.url ?? new URL(`${operatorConsole.path}/`, http.url).href, dev: operatorConsole.dev },
    reload: async (next) => {
      const result = await reloader.reload(next)
      operatorConsole?.sync(accounts.values())
      return result
    },
    async close({ drainMs = 10_000 } = {}) {
      if (closed) return
      closed = true
      await reloader.stop()
      await operatorConsole?.close()
      const stopped = http.close()
      const opsStopped = ops?.close()
      await Promise.all([...accounts.values()].map((a) => a.close(drainMs)))
      await stopped
      await opsStopped
      rejections.close()
      await stores.close()
      heapBounds.stop()
    },
  }
}
