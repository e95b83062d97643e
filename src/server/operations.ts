/**
 * The operational endpoints: `GET /healthz` (the process serves HTTP), `GET /readyz` (every
 * dependency answers; cached, see readiness.ts) and `GET /metrics` (Prometheus). They are served
 * either on a listener of their own (WXMP_OPS_PORT, on WXMP_OPS_HOST, default 127.0.0.1), or on
 * the webhook port, where in production /readyz and /metrics answer only loopback clients (after
 * the trusted proxies): a scanner on the public port gets the same 404 as for any unknown path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { BlockList, isIP, type AddressInfo } from 'node:net'
import { send } from '../adapters/node.js'
import type { WxmpMetrics } from './metrics.js'
import type { Readiness } from './readiness.js'

export const OPERATIONS_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics'])

export interface OperationsOptions {
  metrics: WxmpMetrics
  readiness: Readiness
  /** Who may read /readyz and /metrics; undefined: anyone who reaches the listener. */
  allow?: (req: IncomingMessage) => boolean
}

export type Routes = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>

/** Answers the operational paths (true when it did); anything else is left to the caller (404). */
export function operationsRoutes(options: OperationsOptions): Routes {
  return async (req, res, url) => {
    if (req.method !== 'GET' || !OPERATIONS_PATHS.has(url.pathname)) return false
    if (url.pathname === '/healthz') {
      send(res, json(200, { status: 'ok' }), false)
      return true
    }
    if (options.allow !== undefined && !options.allow(req)) return false
    if (url.pathname === '/metrics') {
      send(res, { status: 200, headers: { 'content-type': options.metrics.contentType }, body: await options.metrics.render() }, false)
      return true
    }
    const { ok, body } = await options.readiness.report()
    send(res, json(ok ? 200 : 503, body), false)
    return true
  }
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const family = isIP(address)
  return family !== 0 && LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4')
}

export interface OperationsListener {
  /** e.g. http://127.0.0.1:9464 */
  url: string
  port: number
  close(): Promise<void>
}

/** The operational endpoints on a listener of their own; every other path is 404. */
export function serveOperations(routes: Routes, options: { port: number; host: string }): Promise<OperationsListener> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (await routes(req, res, url)) return
      req.resume()
      send(res, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'WX_ERR_NOT_FOUND\n' }, false)
    } catch {
      send(res, { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'WX_ERR_INTERNAL\n' }, true)
    }
  })
  server.headersTimeout = 10_000
  server.requestTimeout = 15_000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      const port = (server.address() as AddressInfo).port
      const host = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          }),
      })
    })
  })
}

function json(status: number, body: unknown) {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) }
}
