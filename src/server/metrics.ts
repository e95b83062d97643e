/**
 * Prometheus metrics for the webhook server (prom-client, text exposition format at
 * `GET /metrics`). Every number comes from an event the core already emits: one
 * RequestOutcome per request, one late-reply event per reply that missed the passive window,
 * and the API client's per-call and token-refresh events. Label values are drawn from closed
 * sets (outcome kinds, WX_ERR_* codes, API paths, errcodes), so a scanner cannot grow the
 * number of series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Bot, LateListener, RequestOutcome } from '../bot.js'

/**
 * One HTTP attempt at a WeChat API call, as the API client's `onCall` hook reports it
 * (src/api/transport.ts `CallInfo`): the path never carries the query (it holds the token).
 */
export interface ApiCallEvent {
  /** The API path, e.g. `/cgi-bin/message/custom/send`; a query string is cut off. */
  path: string
  /** WeChat's errcode (0 on success, -1 busy); undefined when no JSON answer arrived. */
  errcode: number | undefined
  /** HTTP status; undefined when the request got no answer (network error, timeout). */
  status: number | undefined
  /** 0 for the first attempt, 1 for the first retry… */
  attempt: number
  ms?: number
}

/** One access-token fetch by the token manager. */
export interface TokenRefreshEvent {
  ok: boolean
  /** WeChat's errcode when the fetch was refused (40013, 40125, 40164…). */
  errcode?: number
}

export interface WxmpMetricsOptions {
  /** Prefix of every metric name. Default `wxmp_`. */
  prefix?: string
  /** Also export Node's process metrics (CPU, memory, event-loop lag, GC). Default true. */
  processMetrics?: boolean
}

/** Codes that mean "the ciphertext could not be opened" (bad key, tampering, wrong account). */
const DECRYPT_CODES = new Set(['WX_ERR_DECRYPT_BASE64', 'WX_ERR_DECRYPT_FAILED', 'WX_ERR_DECRYPT_PADDING', 'WX_ERR_DECRYPT_BUFFER', 'WX_ERR_APPID_MISMATCH', 'WX_ERR_MSG_SIGNATURE_INVALID'])

/** Latency buckets around WeChat's 5 s limit: most replies take milliseconds, the deadline is 4.5 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 4.5, 5, 10]

/** The `account` label, present only when the server names its accounts. */
function accountLabel(account: string | undefined): { account?: string } {
  return account === undefined ? {} : { account }
}

const TOKEN_PATHS = new Set(['/cgi-bin/token', '/cgi-bin/stable_token'])

function errcodeLabel(event: ApiCallEvent): string {
  if (event.errcode !== undefined && Number.isSafeInteger(event.errcode)) return String(event.errcode)
  if (event.status === undefined) return 'no-answer'
  return event.status >= 500 ? 'http-5xx' : event.status >= 400 ? 'http-4xx' : 'http-other'
}

/** API paths kept as labels; anything else is folded into `other` so labels stay bounded. */
const API_PATH = /^\/[a-z0-9_/.-]{1,80}$/i
const MAX_API_PATHS = 200

/**
 * The server's metrics registry.
 *
 * @example
 * const metrics = new WxmpMetrics().observe(bot)
 * // in a route: res.setHeader('content-type', metrics.contentType); res.end(await metrics.render())
 */
export class WxmpMetrics {
  readonly registry = new Registry()
  private readonly requests: Counter<'outcome' | 'code' | 'account'>
  private readonly latency: Histogram<'outcome' | 'account'>
  private readonly deadlineMisses: Counter<'account'>
  private readonly dedupHits: Counter<'account'>
  private readonly decryptFailures: Counter<'code' | 'account'>
  private readonly lateReplies: Counter<'via' | 'status' | 'account'>
  private readonly apiCalls: Counter<'path' | 'errcode' | 'account'>
  private readonly apiRetries: Counter<'path' | 'account'>
  private readonly tokenRefreshes: Counter<'result' | 'errcode' | 'account'>
  private readonly apiPaths = new Set<string>()
  private readonly prefix: string

  constructor(options: WxmpMetricsOptions = {}) {
    const prefix = (this.prefix = options.prefix ?? 'wxmp_')
    const registers = [this.registry]
    this.requests = new Counter({ name: `${prefix}requests_total`, help: 'Webhook requests by outcome (verified, replied, no-reply, deadline, duplicate, rejected, rate-limited) and WX_ERR code', labelNames: ['outcome', 'code', 'account'], registers })
    this.latency = new Histogram({ name: `${prefix}handler_duration_seconds`, help: 'Time from request to webhook answer, by outcome', labelNames: ['outcome', 'account'], buckets: LATENCY_BUCKETS, registers })
    this.deadlineMisses = new Counter({ name: `${prefix}deadline_misses_total`, help: 'Handlers that did not reply before the passive deadline (answered "success")', labelNames: ['account'], registers })
    this.dedupHits = new Counter({ name: `${prefix}dedup_hits_total`, help: 'WeChat retries answered from the first delivery instead of running handlers again', labelNames: ['account'], registers })
    this.decryptFailures = new Counter({ name: `${prefix}decrypt_failures_total`, help: 'Encrypted requests that could not be opened, by precise WX_ERR code (the webhook answers all of them WX_ERR_DECRYPT_FAILED)', labelNames: ['code', 'account'], registers })
    this.lateReplies = new Counter({ name: `${prefix}late_replies_total`, help: 'Replies that missed the passive window, by how they left and what became of them', labelNames: ['via', 'status', 'account'], registers })
    this.apiCalls = new Counter({ name: `${prefix}api_calls_total`, help: 'WeChat API call attempts by path and errcode (no-answer, http-5xx, http-4xx when no errcode came back)', labelNames: ['path', 'errcode', 'account'], registers })
    this.apiRetries = new Counter({ name: `${prefix}api_retries_total`, help: 'WeChat API calls that were attempts after the first', labelNames: ['path', 'account'], registers })
    this.tokenRefreshes = new Counter({ name: `${prefix}token_refreshes_total`, help: 'access_token fetches by result and errcode', labelNames: ['result', 'errcode', 'account'], registers })
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix })
  }

  /**
   * Subscribes to a bot's outcome and late-reply events. With `account` (several accounts in
   * one server, a closed set from the configuration) every series carries an `account` label.
   */
  observe(bot: Pick<Bot, 'onOutcome' | 'onLateReply'>, account?: string): this {
    bot.onOutcome((outcome) => this.recordOutcome(outcome, account))
    bot.onLateReply((event) => this.recordLateReply(event, account))
    return this
  }

  recordOutcome(outcome: RequestOutcome, account?: string): void {
    // the core refuses over-limit requests before their body; they keep their own outcome label
    const kind = outcome.code === 'WX_ERR_RATE_LIMITED' ? 'rate-limited' : outcome.kind
    const a = accountLabel(account)
    this.requests.inc({ outcome: kind, code: outcome.code ?? '', ...a })
    this.latency.observe({ outcome: kind, ...a }, Math.max(0, outcome.durationMs) / 1000)
    if (outcome.kind === 'deadline') this.deadlineMisses.inc(a)
    if (outcome.kind === 'duplicate') this.dedupHits.inc(a)
    // the precise cause behind the one outward WX_ERR_DECRYPT_FAILED (operator-only, like the log)
    const cause = outcome.reason ?? outcome.code
    if (cause !== undefined && (DECRYPT_CODES.has(cause) || outcome.code === 'WX_ERR_DECRYPT_FAILED')) this.decryptFailures.inc({ code: cause, ...a })
  }

  /** A request turned away by a rate limit outside the core (the core's own refusals arrive as outcomes). */
  recordRateLimited(): void {
    this.requests.inc({ outcome: 'rate-limited', code: 'WX_ERR_RATE_LIMITED' })
  }

  recordLateReply(event: Parameters<LateListener>[0], account?: string): void {
    this.lateReplies.inc({ via: event.via, status: event.status, ...accountLabel(account) })
  }

  /**
   * For the API client's `onCall` hook: one count per HTTP attempt, labelled by errcode, or by
   * `no-answer` / `http-5xx` / `http-4xx` when WeChat's JSON never came. Fetches of an access
   * token (`/cgi-bin/token`, `/cgi-bin/stable_token`) also count as token refreshes.
   */
  recordApiCall(event: ApiCallEvent, account?: string): void {
    const path = this.pathLabel(event.path)
    const a = accountLabel(account)
    this.apiCalls.inc({ path, errcode: errcodeLabel(event), ...a })
    if (event.attempt > 0) this.apiRetries.inc({ path, ...a })
    if (TOKEN_PATHS.has(path)) this.recordTokenRefresh({ ok: event.errcode === 0, ...(event.errcode === undefined || event.errcode === 0 ? {} : { errcode: event.errcode }) }, account)
  }

  /** For the token manager: one fetch of an access token. */
  recordTokenRefresh(event: TokenRefreshEvent, account?: string): void {
    this.tokenRefreshes.inc({ result: event.ok ? 'ok' : 'failed', errcode: event.errcode === undefined ? '' : String(event.errcode), ...accountLabel(account) })
  }

  /** A gauge read at scrape time, e.g. whether a store runs on its fallback. */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name: `${this.prefix}${name}`,
      help,
      registers: [this.registry],
      collect() {
        this.set(read())
      },
    })
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private pathLabel(path: string): string {
    const bare = path.split('?')[0] ?? ''
    if (!API_PATH.test(bare)) return 'other'
    if (this.apiPaths.has(bare)) return bare
    if (this.apiPaths.size >= MAX_API_PATHS) return 'other'
    this.apiPaths.add(bare)
    return bare
  }
}
