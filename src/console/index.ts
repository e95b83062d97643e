/**
 * The operator console: a web page at /console (or on its own port) to watch conversations
 * live, answer by hand, edit the menu, look after followers and watch the numbers. The server
 * loads this folder with a dynamic import only when the console is on, so the webhook path and
 * a plain library install never pay for it. See docs/console.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../logger.js'
import type { Records } from '../records/open-records.js'
import type { WxmpConfig } from '../server/config.js'
import { prefixed } from '../storage/prefixed.js'
import type { KeyValueStore } from '../storage/types.js'
import { loadAssets, shellHtml } from './assets.js'
import type { ServerRules } from '../rules/server.js'
import { accountOf, openConsoleAccount, type ConsoleAccount, type ConsoleAccountInput, type ConsoleBot, type SharedConsoleParts } from './accounts.js'
import { COOKIE } from './deps.js'
import { consoleError, ConsoleHttpError, cookie, send, sendError, sendJson, sameOrigin } from './http.js'
import { isWxmpError } from '../errors.js'
import { LoginGuard } from './login-guard.js'
import { loadOperators } from './operators.js'
import type { Pauses } from './pauses.js'
import { match, type Route } from './router.js'
import { authRoutes } from './routes/auth.js'
import { csrfMatches, SessionStore } from './sessions.js'

export type { ConsoleAccountInput } from './accounts.js'

export interface StartConsoleOptions {
  config: WxmpConfig
  bot: ConsoleBot
  /** The server's rules once installed (they are installed after the console's middleware). */
  rules?: () => ServerRules | undefined
  /**
   * Several Official Accounts: each with its configuration, bot and rules. The console then
   * shows one account at a time with a switcher (docs/console.md); `config`, `bot` and `rules`
   * above are ignored except `config` for the console's own settings (path, port, operators).
   * Unset: the one account of `config` and `bot`, named `default`.
   */
  accounts?: ConsoleAccountInput[]
  records: Records
  /** Durable shared state (sessions, sign-in limits): the server's sharedStore. */
  sharedStore: KeyValueStore
  /** The per-request store, for the health panel. */
  store: KeyValueStore
  logger: Logger
  now?: () => number
}

export interface OperatorConsole {
  /** The console's path, e.g. /console. */
  path: string
  /** Handles a request under `path` (when the console shares the webhook's port); false if not the console's. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>
  /** Bot middleware: conversations an operator paused get no bot answer. Install before the handlers. (The first account's; addAccount gives the others'.) */
  middleware: ReturnType<Pauses['middleware']>
  /**
   * Opens the console's side of an account whose bot is being opened (a server opening its
   * accounts one by one, or a reload) and returns its pause middleware, to install before its
   * rules. It is shown once `sync` names its bot.
   */
  addAccount(input: ConsoleAccountInput): Promise<ReturnType<Pauses['middleware']>>
  /**
   * The accounts the server serves now, in order (after start-up and after each reload): the
   * console shows exactly these; an account whose bot is gone (removed, replaced, or opened by
   * a reload that was then refused) is closed.
   */
  sync(serving: Iterable<{ bot: ConsoleBot }>): void
  /** With WXMP_CONSOLE_PORT: the console's own server and its URL. */
  server: { server: Server; url: string } | undefined
  /** Development mode without WXMP_CONSOLE_USERS: the generated sign-in. */
  dev: { user: string; password: string; file: string } | undefined
  close(): Promise<void>
}

export async function startConsole(options: StartConsoleOptions): Promise<OperatorConsole> {
  const { config, records, logger } = options
  const now = options.now ?? Date.now
  const base = config.console.path
  const inputs = options.accounts ?? [{ name: 'default', config, bot: options.bot, ...(options.rules === undefined ? {} : { rules: options.rules }) }]
  if (inputs.length === 0) throw new TypeError('startConsole: accounts is empty')
  const operators = await loadOperators(config.console)
  // the first account's namespace, as with one account before (sessions survive the upgrade)
  const consoleStore = prefixed(options.sharedStore, `wxmp:${inputs[0]!.config.appId ?? 'default'}:console:`)
  const shared: SharedConsoleParts = {
    base,
    records,
    sessions: new SessionStore(consoleStore, { now }),
    guard: new LoginGuard(consoleStore, { now }),
    operators,
    stores: { shared: options.sharedStore, perRequest: options.store },
    logger,
    now,
  }
  const accounts: ConsoleAccount[] = []
  try {
    for (const input of inputs) accounts.push(await openConsoleAccount(input, shared))
  } catch (err) {
    for (const opened of accounts) opened.close()
    throw err
  }
  const first = accounts[0]!
  /** Opened by addAccount, shown once sync names their bot. */
  const staged: ConsoleAccount[] = []
  // sign-in, sign-out and the session answer for whichever account the page is on
  const auth = authRoutes(accounts)

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    if (path !== base && !path.startsWith(base + '/')) return false
    try {
      await dispatch(req, res, url, path.slice(base.length))
    } catch (err) {
      if (!(err instanceof ConsoleHttpError) && !isWxmpError(err)) {
        logger.error({ code: 'WX_ERR_INTERNAL', err: (err as Error).message, stack: (err as Error).stack }, 'console: request failed')
      }
      req.resume()
      sendError(res, err)
    }
    return true
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL, rest: string): Promise<void> {
    const method = req.method ?? 'GET'
    if (rest === '') return send(res, 308, '', { location: `${base}/` })
    if (rest.startsWith('/api/')) return api_(req, res, url, method, rest.slice(4))
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: { code: 'WX_ERR_METHOD_NOT_ALLOWED', message: 'method not allowed' } }, { allow: 'GET, HEAD' })
    const assets = await loadAssets()
    if (rest === '/' || rest === '/index.html') {
      return send(res, 200, method === 'HEAD' ? '' : shellHtml(base, assets.version), { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    }
    const name = rest.startsWith('/assets/') ? rest.slice(8) : ''
    if (name === 'app.js' || name === 'app.css') {
      const asset = assets[name]
      if (req.headers['if-none-match'] === asset.etag) return send(res, 304, '', { etag: asset.etag })
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
      return send(res, 200, method === 'HEAD' ? '' : gzip ? asset.gzip : asset.body, {
        'content-type': asset.type,
        etag: asset.etag,
        'cache-control': 'no-cache',
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      })
    }
    sendJson(res, 404, { error: { code: 'WX_ERR_NOT_FOUND', message: 'no such console page' } })
  }

  async function api_(req: IncomingMessage, res: ServerResponse, url: URL, method: string, path: string): Promise<void> {
    // every account has the same routes: the first one's table says whether the path exists;
    // which account's routes answer is decided only once the operator is signed in
    const shared_ = match(auth, method, path)
    const found = shared_ ?? match(accounts[0]!.routes, method, path)
    if (found === undefined) throw new ConsoleHttpError(404, 'WX_ERR_NOT_FOUND', 'no such console API')
    if (found === 'method') throw new ConsoleHttpError(405, 'WX_ERR_METHOD_NOT_ALLOWED', 'method not allowed')
    // nothing in the API answers a page of another origin, reads included
    if (!sameOrigin(req)) {
      logger.warn({ code: 'WX_ERR_CONSOLE_FORBIDDEN', method, path: path.slice(0, 100), origin: String(req.headers.origin ?? '').slice(0, 100), remote: req.socket.remoteAddress }, 'console: cross-site request refused')
      throw consoleError('WX_ERR_CONSOLE_FORBIDDEN', 'cross-site request refused')
    }
    const sessionId = cookie(req, COOKIE) ?? ''
    if (found.route.public === true) return found.route.handle({ req, res, url, params: found.params, session: undefined as never, sessionId })
    const session = await shared.sessions.get(sessionId)
    if (session === undefined) throw consoleError('WX_ERR_CONSOLE_UNAUTHORIZED', 'not signed in (or the session ended): sign in again')
    if (method !== 'GET' && !csrfMatches(session, headerOf(req, 'x-csrf-token'))) throw consoleError('WX_ERR_CONSOLE_FORBIDDEN', 'the CSRF token is missing or wrong: reload the page')
    if (typeof shared_ === 'object') return shared_.route.handle({ req, res, url, params: shared_.params, session, sessionId })
    // the account's own route set: its handlers hold that account's deps and no other's
    const own = match(accountOf(accounts, url).routes, method, path) as { route: Route; params: Record<string, string> }
    await own.route.handle({ req, res, url, params: own.params, session, sessionId })
  }

  let own: { server: Server; url: string } | undefined
  if (config.console.port !== undefined) {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      void handle(req, res, url).then((handled) => {
        if (!handled) {
          req.resume()
          send(res, url.pathname === '/' ? 302 : 404, '', url.pathname === '/' ? { location: `${base}/` } : {})
        }
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.console.port, config.host, () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host
    own = { server, url: `http://${host}:${port}${base}/` }
  }

  return {
    path: base,
    handle: own === undefined ? handle : async () => false,
    middleware: first.deps.pauses.middleware(),
    async addAccount(input) {
      const opened = await openConsoleAccount(input, shared)
      staged.push(opened)
      return opened.deps.pauses.middleware()
    },
    sync(serving) {
      const candidates = [...accounts, ...staged]
      const next = [...serving].flatMap(({ bot }) => candidates.filter((a) => a.bot === bot).slice(-1))
      staged.length = 0
      if (next.length === 0) return
      for (const account of candidates) if (!next.includes(account)) account.close()
      accounts.splice(0, accounts.length, ...next)
    },
    server: own,
    dev: operators.dev,
    async close() {
      for (const account of [...accounts, ...staged]) account.close()
      if (own !== undefined) {
        own.server.closeAllConnections()
        await new Promise<void>((resolve) => own!.server.close(() => resolve()))
      }
    },
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return typeof v === 'string' ? v : undefined
}
