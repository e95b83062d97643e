/**
 * One HTTP exchange with WeChat, plus the retries that are always safe: errcode -1 (WeChat
 * busy) with a bounded backoff, and network errors / 5xx only for idempotent requests. The
 * access-token rules (refresh once on 40001…) sit one layer up, in client.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../logger.js'
import { BUSY_ERRCODE, HttpError, WechatApiError } from './errors.js'
import { parseWechatJson } from './json.js'

export type QueryValue = string | number | boolean | undefined
export type Query = Record<string, QueryValue>

export interface RequestSpec {
  /** Path on the API host, e.g. `/cgi-bin/menu/get`. */
  path: string
  method: 'GET' | 'POST'
  query?: Query
  /** JSON body (POST). */
  json?: unknown
  /** Multipart body (POST), built afresh for every attempt. */
  form?: () => FormData
  /** A body sent exactly as given (raw JSON text or bytes) with its Content-Type. */
  raw?: { body: string | Uint8Array; contentType: string }
  /** Safe to send twice: network errors and 5xx are retried. Default: GET requests. */
  idempotent?: boolean
  /** `binary`: a non-JSON answer is returned as the Response (media download). Default `json`. */
  expect?: 'json' | 'binary'
  /** Errors say "could not obtain an access token" and carry WX_ERR_TOKEN. */
  duringTokenFetch?: boolean
}

/** What the `onCall` hook sees for every HTTP attempt (no query string: it holds secrets). */
export interface CallInfo {
  path: string
  method: string
  /** WeChat's errcode (0 on success); undefined when no JSON answer arrived. */
  errcode: number | undefined
  /** HTTP status, undefined on network errors. */
  status: number | undefined
  ms: number
  attempt: number
}

export interface TransportOptions {
  baseUrl: string
  fetch: typeof globalThis.fetch
  timeoutMs: number
  /** Extra attempts for retryable failures. */
  retries: number
  /** First backoff delay; doubles per attempt, with jitter. */
  retryDelayMs: number
  now: () => number
  logger: Logger | undefined
  onCall: ((info: CallInfo) => void) | undefined
}

export type BinaryResult = { kind: 'binary'; response: Response } | { kind: 'json'; body: Record<string, unknown> }

/** Builds `base + path + ?query`, skipping undefined values. */
export function buildUrl(baseUrl: string, path: string, query: Query | undefined): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path))
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value))
  }
  return url.toString()
}

function isJsonType(contentType: string): boolean {
  return /json|text\/plain|text\/javascript/i.test(contentType)
}

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl
  }

  /** Sends with the safe retries; returns WeChat's JSON (errcode 0 or absent). */
  async json<T = Record<string, unknown>>(spec: RequestSpec): Promise<T> {
    const result = await this.withRetries(spec, (attempt) => this.attempt(spec, attempt))
    if (result.kind !== 'json') throw new HttpError({ path: spec.path, message: 'expected JSON, got a binary answer', duringTokenFetch: spec.duringTokenFetch })
    return result.body as T
  }

  /** Like `json`, but a non-JSON answer (a file) comes back as the Response, body unread. */
  async binary(spec: RequestSpec): Promise<BinaryResult> {
    const binarySpec: RequestSpec = { ...spec, expect: 'binary' }
    return this.withRetries(binarySpec, (attempt) => this.attempt(binarySpec, attempt))
  }

  private async withRetries(spec: RequestSpec, once: (attempt: number) => Promise<BinaryResult>): Promise<BinaryResult> {
    const idempotent = spec.idempotent ?? spec.method === 'GET'
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(attempt)
      } catch (err) {
        const busy = err instanceof WechatApiError && err.errcode === BUSY_ERRCODE
        const transient = err instanceof HttpError && (err.httpStatus === undefined || err.httpStatus >= 500) && idempotent
        if (!(busy || transient) || attempt >= this.options.retries) throw err
        const delay = this.options.retryDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5)
        this.options.logger?.warn({ path: spec.path, attempt: attempt + 1, delayMs: Math.round(delay), reason: (err as Error).message }, 'WeChat API call failed, retrying')
        await sleep(delay)
      }
    }
  }

  private async attempt(spec: RequestSpec, attempt: number): Promise<BinaryResult> {
    const { options } = this
    const started = options.now()
    let status: number | undefined
    let errcode: number | undefined
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), options.timeoutMs)
    try {
      let response: Response
      try {
        const init: RequestInit = { method: spec.method, signal: controller.signal }
        if (spec.form !== undefined) init.body = spec.form()
        else if (spec.raw !== undefined) {
          init.body = spec.raw.body
          init.headers = { 'content-type': spec.raw.contentType }
        } else if (spec.json !== undefined) {
          init.body = JSON.stringify(spec.json)
          init.headers = { 'content-type': 'application/json; charset=utf-8' }
        }
        response = await options.fetch(buildUrl(options.baseUrl, spec.path, spec.query), init)
      } catch (err) {
        throw this.networkError(spec, err, controller.signal.aborted)
      }
      status = response.status
      if (status !== 200) {
        await response.body?.cancel().catch(() => undefined)
        throw new HttpError({
          path: spec.path,
          status,
          message: `HTTP ${status} from WeChat${status === 404 ? ': is the path right, and does WECHAT_API_BASE point at the API host?' : status >= 500 ? ': WeChat or a proxy in between failed' : ''}`,
          duringTokenFetch: spec.duringTokenFetch,
        })
      }
      const contentType = response.headers.get('content-type') ?? ''
      if (spec.expect === 'binary' && !isJsonType(contentType)) {
        errcode = 0
        // the timeout covers the wait for headers; a long download is not cut short
        return { kind: 'binary', response }
      }
      let text: string
      try {
        text = await response.text()
      } catch (err) {
        throw this.networkError(spec, err, controller.signal.aborted)
      }
      let body: unknown
      try {
        body = parseWechatJson(text)
      } catch {
        throw new HttpError({ path: spec.path, status, message: `the answer is not JSON (${JSON.stringify(text.slice(0, 80))}): is WECHAT_API_BASE pointing at WeChat's API host?`, duringTokenFetch: spec.duringTokenFetch })
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new HttpError({ path: spec.path, status, message: 'the answer is JSON but not an object', duringTokenFetch: spec.duringTokenFetch })
      }
      const record = body as Record<string, unknown>
      errcode = typeof record.errcode === 'number' ? record.errcode : 0
      if (errcode !== 0) {
        throw new WechatApiError({ errcode, errmsg: typeof record.errmsg === 'string' ? record.errmsg : '', path: spec.path, duringTokenFetch: spec.duringTokenFetch })
      }
      return { kind: 'json', body: record }
    } finally {
      clearTimeout(timer)
      const ms = options.now() - started
      options.onCall?.({ path: spec.path, method: spec.method, errcode, status, ms, attempt })
      options.logger?.debug({ path: spec.path, errcode, status, ms }, 'WeChat API call')
    }
  }

  private networkError(spec: RequestSpec, err: unknown, timedOut: boolean): HttpError {
    const reason = timedOut ? `no answer within ${this.options.timeoutMs} ms` : describeNetworkError(err)
    return new HttpError({
      path: spec.path,
      message: `${reason}: is ${new URL(this.options.baseUrl).host} reachable from this server (WECHAT_API_BASE)?`,
      timedOut,
      cause: err,
      duringTokenFetch: spec.duringTokenFetch,
    })
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err)
}
