/**
 * The GET WeChat sends when the console's 提交 is pressed in 服务器配置 (Token验证).
 */
import { WxmpError } from '../errors.js'
import { verificationRequest } from './signed-request.js'
import { deliver, WECHAT_REQUEST_HEADERS, WECHAT_TIMEOUT_MS } from './simulator-delivery.js'
import { hintFor } from './simulator-judge.js'
import { withQuery } from './simulator-request.js'


export interface VerifyUrlOptions {
  url: string
  token: string
  /** Default: random digits, as WeChat sends. */
  echostr?: string
  /** Default 5000. */
  timeoutMs?: number
  fetch?: typeof fetch
  /** Unix ms for the signed `timestamp`. */
  now?: () => number
}

export interface VerifyUrlResult {
  /** True only for HTTP 200 with the body exactly echostr: what the console accepts. */
  ok: boolean
  status?: number
  latencyMs: number
  echostr: string
  /** The body received (first 200 characters). */
  body?: string
  /** "Token验证成功" or the reason the console would say "Token验证失败". */
  detail: string
  warnings: string[]
}

/**
 * The GET WeChat sends when you press 提交 in 服务器配置: passes only on HTTP 200 whose body is
 * exactly echostr (no quotes, no newline).
 *
 * @example
 * const { ok, detail } = await verifyUrl({ url: 'http://127.0.0.1:3000/wechat', token: 'mytoken' })
 */
export async function verifyUrl(options: VerifyUrlOptions): Promise<VerifyUrlResult> {
  if (typeof options.token !== 'string' || options.token.length === 0) throw new WxmpError('WX_ERR_CONFIG', 'verifyUrl needs the Token from 服务器配置')
  const timeoutMs = options.timeoutMs ?? WECHAT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new WxmpError('WX_ERR_CONFIG', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  const now = options.now ?? Date.now
  const request = verificationRequest({
    token: options.token,
    timestamp: String(Math.floor(now() / 1000)),
    ...(options.echostr === undefined ? {} : { echostr: options.echostr }),
  })
  const echostr = request.query.echostr as string
  const target = withQuery(options.url, request.query)
  const warnings = portWarning(target)
  const headers: Record<string, string> = { ...WECHAT_REQUEST_HEADERS }
  delete headers['Content-Type']
  const delivery = await deliver(target, { method: 'GET', headers, redirect: 'manual' }, timeoutMs, options.fetch ?? fetch)
  if (delivery.kind !== 'answer') {
    return { ok: false, latencyMs: delivery.latencyMs, echostr, detail: `Token验证失败: ${delivery.detail}`, warnings }
  }
  const body = delivery.tooLarge ? '' : delivery.bytes.toString('utf8')
  const base = { status: delivery.status, latencyMs: delivery.latencyMs, echostr, body: body.slice(0, 200), warnings }
  if (delivery.status === 200 && !delivery.tooLarge && body === echostr) return { ...base, ok: true, detail: 'Token验证成功: the server echoed echostr' }
  return { ...base, ok: false, detail: `Token验证失败: ${echoProblem(delivery.status, body, echostr, delivery.tooLarge)}` }
}

function echoProblem(status: number, body: string, echostr: string, tooLarge: boolean): string {
  const firstLine = body.split('\n', 1)[0]?.trim().slice(0, 120) ?? ''
  if (status !== 200) return `HTTP ${status}${firstLine === '' ? '' : ` (${firstLine})`}${hintFor(status, firstLine).hint ? `: ${hintFor(status, firstLine).hint}` : ''}`
  if (tooLarge) return 'the body is far longer than echostr'
  if (body.trim() === echostr) return 'the body is echostr with whitespace or a newline around it: send it byte-exact'
  if (body === JSON.stringify(echostr) || body.trim() === JSON.stringify(echostr)) return 'the body is echostr in JSON quotes: send the bare string (text/plain)'
  if (body.includes(echostr)) return 'the body contains echostr but also other text: send echostr alone'
  if (body === '') return 'the body is empty: echo the echostr query parameter'
  return `the body ${JSON.stringify(body.slice(0, 60))} is not echostr ${JSON.stringify(echostr)}`
}

function portWarning(target: string): string[] {
  const url = new URL(target)
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port
  if (port === '80' || port === '443') return []
  return [`the console accepts only ports 80 and 443: put a reverse proxy (nginx, HTTPS) in front of port ${port} before entering the URL in 服务器配置`]
}
