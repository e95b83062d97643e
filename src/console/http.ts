/**
 * The console's HTTP plumbing: security headers on every answer, JSON in and out with size
 * limits, cookies, and the same-origin check every change must pass.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { WxmpError, isWxmpError, type WxErrorCode } from '../errors.js'

/** No inline script or style, nothing from another origin, not framable. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "font-src 'none'; object-src 'none'; media-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
})

export function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>): void {
  if (res.headersSent) return
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-length': String(Buffer.byteLength(body)), ...headers })
  res.end(body)
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
}

/** A console API failure: `{ error: { code, message } }`; `reason` is a stable word for the page (e.g. the errcode's meaning). */
export class ConsoleHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

export function consoleError(code: WxErrorCode, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): ConsoleHttpError {
  return new ConsoleHttpError(new WxmpError(code).status, code, message, extra, headers)
}

export function badInput(message: string): ConsoleHttpError {
  return new ConsoleHttpError(400, 'WX_ERR_API_INPUT', message)
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof ConsoleHttpError) return sendJson(res, err.status, { error: { code: err.code, message: err.message, ...err.extra } }, err.headers)
  if (isWxmpError(err)) return sendJson(res, err.status >= 400 ? err.status : 400, { error: { code: err.code, message: err.message } })
  sendJson(res, 500, { error: { code: 'WX_ERR_INTERNAL', message: 'internal error (see the server log)' } })
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) throw new ConsoleHttpError(413, 'WX_ERR_BODY_TOO_LARGE', `the body is over ${maxBytes} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBytes) throw new ConsoleHttpError(413, 'WX_ERR_BODY_TOO_LARGE', `the body is over ${maxBytes} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** JSON bodies only (a cross-site form cannot send application/json without a preflight). */
export async function readJson(req: IncomingMessage, maxBytes = 256 * 1024): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '')
  if (!/^application\/json\s*(;|$)/i.test(type)) throw consoleError('WX_ERR_CONSOLE_FORBIDDEN', 'changes must be sent as application/json')
  const body = await readBody(req, maxBytes)
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    throw badInput('the body is not valid JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badInput('the body must be a JSON object')
  return parsed as Record<string, unknown>
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** Whether the page reached us over HTTPS (directly, or through a proxy that says so). */
export function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true
  const proto = req.headers['x-forwarded-proto']
  return typeof proto === 'string' && proto.split(',')[0]!.trim().toLowerCase() === 'https'
}

/**
 * True when the request comes from a page of this same origin. Browsers send `Sec-Fetch-Site`
 * (and `Origin` on every POST); a request that carries neither is not from a browser page,
 * and is still held to the CSRF token by the caller.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false
  const origin = req.headers.origin
  if (origin === undefined) return true
  if (origin === 'null') return false
  // behind a proxy that rewrites Host, the public host comes in X-Forwarded-Host (a page of
  // another origin cannot add that header without a CORS preflight, which is never granted)
  const hosts = [req.headers.host, req.headers['x-forwarded-host']].flatMap((h) => (typeof h === 'string' ? [h.split(',')[0]!.trim().toLowerCase()] : []))
  try {
    const from = new URL(origin).host.toLowerCase()
    return hosts.includes(from)
  } catch {
    return false
  }
}

export function remoteOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown'
}
