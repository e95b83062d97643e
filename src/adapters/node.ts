/**
 * node:http adapter (also Express and Connect: their req/res are node's). It translates the
 * request to InboundRequest and the OutboundResponse back; all policy lives in the core:
 * `bot.admit` decides from the request line alone (a forged, stale or replayed query is
 * answered before a byte of its body is read: node discards the upload), then the body is read
 * within the bot's limit and body budget, then `bot.handle`.
 *
 * @example
 * import { serve } from 'wxmp/node'
 * await serve(bot, { port: 3000, path: '/wechat' })
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import type { WxErrorCode } from '../errors.js'
import type { InboundRequest, OutboundResponse } from '../pipeline/request.js'
import { nodeRawBody } from './node-raw-body.js'
import { createWriteBatch, type WriteBatch } from './write-batch.js'
import { drainOnSignals } from './shutdown-signals.js'
import { AccountTable } from '../accounts/table.js'

/** A Bot, or a stand-in with the same `handle` (then the checks before the body run inside `handle`). */
type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget' | 'drain'>>

/**
 * A request listener for the webhook: `http.createServer(webhookCallback(bot))` or `app.all('/wechat', …)`.
 * With several accounts (`mountAccounts`), the request's path picks the bot; another path is 404.
 */
export function webhookCallback(bot: AnyBot | AccountTable): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (bot instanceof AccountTable) {
    const route = accountRoute(bot, undefined)
    return async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const webhook = route(url.pathname)
      if (webhook !== undefined) return webhook(req, res, url.searchParams)
      req.resume()
      send(res, NOT_FOUND, false)
    }
  }
  const webhook = webhookHandler(bot, undefined)
  return (req, res) => webhook(req, res, new URL(req.url ?? '/', 'http://localhost').searchParams)
}

type Webhook = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void>
const NOT_FOUND: OutboundResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'WX_ERR_NOT_FOUND\n' }

/** The webhook of the account at a path (one handler per bot, made on first use), or undefined. */
function accountRoute(table: AccountTable, batch: WriteBatch | undefined): (pathname: string) => Webhook | undefined {
  const handlers = new WeakMap<object, Webhook>()
  return (pathname) => {
    const bot = table.match(pathname)?.bot
    if (bot === undefined) return undefined
    let webhook = handlers.get(bot)
    if (webhook === undefined) handlers.set(bot, (webhook = webhookHandler(bot, batch)))
    return webhook
  }
}

/**
 * The query of a request for `path`, read straight from the request line when it names the
 * path exactly (WeChat always does); undefined when it does not, and the WHATWG URL parser
 * decides (dot segments, a trailing slash…), so routing is the same either way.
 */
export function exactPathQuery(rawUrl: string, path: string): URLSearchParams | undefined {
  const mark = rawUrl.indexOf('?')
  const pathname = mark === -1 ? rawUrl : rawUrl.slice(0, mark)
  if (pathname !== path) return undefined
  return new URLSearchParams(mark === -1 ? '' : rawUrl.slice(mark + 1))
}

/**
 * The webhook for a request whose query is already read (`serve` reads it once, for routing).
 * With a batch, answers are written at the end of the event-loop turn (see write-batch.ts).
 */
function webhookHandler(bot: AnyBot, batch: WriteBatch | undefined): (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => Promise<void> {
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return async (req, res, query) => {
    const remoteAddress = req.socket.remoteAddress
    // the core reads req.headers only behind a trusted proxy (a getter on a class: see NodeInboundRequest)
    const request = new NodeInboundRequest(req, query)
    if (remoteAddress) request.remoteAddress = remoteAddress
    const refused = bot.admit?.(request)
    if (refused !== undefined) return send(res, refused, hasLargeUploadPending(req))
    let release: (() => void) | undefined
    try {
      // req.body is set when a body parser ran before us (Express, Connect)
      if (req.method === 'POST') {
        const raw = await nodeRawBody(req, (req as { body?: unknown }).body, limit, bot.bodyBudget)
        request.body = raw.body as InboundRequest['body']
        release = raw.release
      }
    } catch (err) {
      // body errors still go through the core, so the status and log line are the core's. After
      // a 413 the connection stays: a client still uploading would get a reset instead of the
      // answer, so Node discards the rest (requestTimeoutMs bounds how long). A large upload
      // turned away by the body budget (503) is not read on: that is what the budget is for.
      const response = bot.handleError(err, request)
      return send(res, response, response.status === 503 && hasLargeUploadPending(req))
    }
    let response: OutboundResponse
    try {
      response = await bot.handle(request)
    } finally {
      release?.()
    }
    if (batch === undefined) send(res, response, false)
    else batch.queue(() => send(res, response, false))
  }
}

/**
 * The request as the core sees it. Node builds req.headers on first read and the core reads it
 * only behind a trusted proxy, so it is a getter, on a class: an object literal with a getter gets a fresh
 * accessor (and hidden class) per request, which outlived the request in V8 and was most of
 * what the adapter made the garbage collector promote under load.
 */
class NodeInboundRequest implements InboundRequest {
  body?: InboundRequest['body']
  remoteAddress?: string
  readonly method: string
  constructor(
    private readonly req: IncomingMessage,
    readonly query: URLSearchParams,
  ) {
    this.method = req.method ?? 'GET'
  }

  get headers(): InboundRequest['headers'] {
    return this.req.headers
  }
}

/** Uploads smaller than this are read to their end after a refusal before the body; larger ones lose their connection. */
const DRAIN_AT_MOST = 64 * 1024

/**
 * Whether a request refused before its body (forged, stale, replayed) still has a large upload
 * coming. A small one is read to its end and discarded (Node does that by itself), so the
 * connection stays usable and the client surely reads the answer; a large or unannounced one
 * gets `Connection: close`, so that a thousand forged slow uploads cost their sockets for a
 * moment, not a gigabyte of reading (their client may see a reset after the answer).
 */
function hasLargeUploadPending(req: IncomingMessage): boolean {
  if (req.complete || req.method !== 'POST') return false
  const declared = Number(req.headers['content-length'])
  return !Number.isFinite(declared) || declared > DRAIN_AT_MOST
}

export function send(res: ServerResponse, response: OutboundResponse, close: boolean): void {
  if (res.headersSent) return
  const headers: Record<string, string> = { ...response.headers, 'content-length': String(Buffer.byteLength(response.body, 'utf8')) }
  if (close) headers.connection = 'close'
  res.writeHead(response.status, headers)
  // a string body goes out in one write with the head; a Buffer would cost a copy and a writev
  res.end(response.body, 'utf8')
}

export interface ServeOptions {
  port?: number
  host?: string
  /** Webhook path; other paths get 404. Default /wechat. */
  path?: string
  /** Extra routes (health, metrics) tried before the 404; return true when handled. */
  routes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>
  /** Runs before the webhook (rate limiting); return true when it answered the request itself. */
  guard?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean
  /** Slow-client limits (ms): headers must arrive within headersTimeoutMs, the whole request within requestTimeoutMs. */
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  /** Told about every connection answered before a request could be formed (timeouts, garbage, huge headers). */
  onClientError?: (event: ClientErrorEvent) => void
  /**
   * Write the webhook answers ready in one event-loop turn together at its end (default true):
   * fewer wake-ups of the client, so less CPU per request under load, for at most one turn of delay.
   */
  batchWrites?: boolean
  /**
   * On SIGINT/SIGTERM stop accepting, let requests in flight and handlers still running (late
   * replies) finish for at most `drainMs` (default 10 000), then end the process by that signal
   * (default true). `false` leaves the signals to you: call `server.close({ drainMs })`.
   */
  drainOnSignals?: boolean | { drainMs?: number }
}

/** A connection refused at the HTTP layer: slow-loris timeouts, unparseable requests, oversized headers. */
export interface ClientErrorEvent {
  status: number
  code: WxErrorCode
  /** Node's or llhttp's error code, e.g. ERR_HTTP_REQUEST_TIMEOUT, HPE_INVALID_METHOD. */
  reason: string
  remoteAddress: string | undefined
}

/** Node's HTTP-layer error codes → status and the body's WX_ERR-style code. */
function clientErrorStatus(reason: string): { status: number; code: WxErrorCode } {
  if (reason === 'ERR_HTTP_REQUEST_TIMEOUT' || reason === 'HPE_HEADER_TIMEOUT') return { status: 408, code: 'WX_ERR_REQUEST_TIMEOUT' }
  if (reason === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'WX_ERR_HEADERS_TOO_LARGE' }
  return { status: 400, code: 'WX_ERR_BAD_REQUEST' }
}

export interface RunningServer {
  server: Server
  /** e.g. http://127.0.0.1:3000/wechat */
  url: string
  port: number
  /**
   * Stops accepting and waits for the requests in flight. With `drainMs`, also waits up to that
   * long for handlers still running after their answer went out (late replies: `bot.drain()`).
   */
  close(options?: { drainMs?: number }): Promise<void>
}

/**
 * Starts a node:http server with the webhook at `path`. Resolves once listening. With several
 * accounts (`mountAccounts`), each bot answers at its own path and `path` is ignored.
 */
export function serve(target: AnyBot | AccountTable, options: ServeOptions = {}): Promise<RunningServer> {
  const table = target instanceof AccountTable ? target : undefined
  const bot = table === undefined ? (target as AnyBot) : undefined
  const drain = table !== undefined ? (ms: number) => table.drain(ms) : bot?.drain === undefined ? undefined : (ms: number) => bot.drain!(ms)
  const path = table === undefined ? (options.path ?? '/wechat') : (table.accounts[0]?.path ?? '/')
  const batch = options.batchWrites === false ? undefined : createWriteBatch()
  const single = bot === undefined ? undefined : webhookHandler(bot, batch)
  const route = table === undefined ? (pathname: string) => (pathname === path || pathname === path + '/' ? single : undefined) : accountRoute(table, batch)
  const headersTimeout = options.headersTimeoutMs ?? 10_000
  const requestTimeout = options.requestTimeoutMs ?? 15_000
  // Node checks for expired requests every 30 s by default: too coarse to end a slow upload on time.
  const connectionsCheckingInterval = Math.max(50, Math.min(1000, Math.floor(Math.min(headersTimeout, requestTimeout) / 4)))
  const server = createServer({ connectionsCheckingInterval }, async (req, res) => {
    try {
      if (options.guard === undefined) {
        // WeChat names the path exactly: no URL parsing on the common request
        const rawUrl = req.url ?? '/'
        const mark = rawUrl.indexOf('?')
        const exact = route(mark === -1 ? rawUrl : rawUrl.slice(0, mark))
        if (exact !== undefined) return await exact(req, res, new URLSearchParams(mark === -1 ? '' : rawUrl.slice(mark + 1)))
      }
      const url = new URL(req.url ?? '/', 'http://localhost')
      const webhook = route(url.pathname)
      if (webhook !== undefined) {
        if (options.guard?.(req, res, url) === true) return
        return await webhook(req, res, url.searchParams)
      }
      if (options.routes !== undefined && (await options.routes(req, res, url))) return
      req.resume()
      send(res, NOT_FOUND, false)
    } catch {
      // only a bug can land here (bot.handle never throws); answer without crashing the process
      send(res, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'WX_ERR_INTERNAL\n' }, true)
    }
  })
  server.headersTimeout = headersTimeout
  server.requestTimeout = requestTimeout
  server.keepAliveTimeout = 5_000
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const reason = err.code ?? 'UNKNOWN'
    const remoteAddress = socket.remoteAddress
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage
    if (reason === 'ECONNRESET' || reason === 'EPIPE' || !socket.writable || inProgress?.headersSent === true) {
      socket.destroy()
      return
    }
    const { status, code } = clientErrorStatus(reason)
    options.onClientError?.({ status, code, reason, remoteAddress })
    const body = `${code}\n`
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 3000, options.host ?? '0.0.0.0', () => {
      server.off('error', reject)
      const port = (server.address() as AddressInfo).port
      const host = options.host === undefined || options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
      const stopHttp = () =>
        new Promise<void>((done) => {
          // a connection busy when close() is called turns idle once its answer is out: sweep
          // again until none is left, rather than waiting for its keep-alive timeout
          const sweep = setInterval(() => server.closeIdleConnections(), 100)
          server.close(() => {
            clearInterval(sweep)
            done()
          })
          server.closeIdleConnections()
        })
      let closing: Promise<void> | undefined
      const signals = options.drainOnSignals ?? true
      const close = (closeOptions: { drainMs?: number } = {}): Promise<void> => {
        unregister()
        closing ??= stopHttp()
        const drainMs = closeOptions.drainMs
        return drainMs === undefined || drain === undefined ? closing : Promise.all([closing, drain(drainMs)]).then(() => undefined)
      }
      const unregister = signals === false ? () => {} : drainOnSignals({ close, drainMs: (typeof signals === 'object' ? signals.drainMs : undefined) ?? 10_000 })
      resolve({ server, port, url: `http://${host}:${port}${path}`, close })
    })
  })
}
