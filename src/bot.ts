import { Composer } from './composer.js'
import { WechatApi } from './api/client.js'
import { Context, type ContextHost } from './context.js'
import { DEFAULTS, validateBotOptions, type BotOptions } from './bot-options.js'
import { answerDelivery, type Delivery, type DeliveryAnswerer } from './bot-answers.js'
import { errorText, type LateListener, type MaybePromise, type OutcomeListener, type Processed, type RequestOutcome } from './bot-outcome.js'
import { WxmpError } from './errors.js'
import { createLogger, type Logger } from './logger.js'
import { MessageCrypto, pooledRandomBytes } from './pipeline/crypto.js'
import { Deduper, dedupKey, type DedupOutcome } from './pipeline/dedupe.js'
import { Dispatcher } from './pipeline/dispatch.js'
import { openEnvelope, parseOpened } from './pipeline/envelope.js'
import { assembleLate, type LateParts } from './pipeline/late/assemble.js'
import type { NextMessageAnswers } from './pipeline/late/next-message-answers.js'
import type { LateDelivery, CustomerServiceSender } from './pipeline/late-delivery.js'
import { bodyText, textResponse, type InboundRequest, type OutboundResponse, type Query } from './pipeline/request.js'
import { ReplayGuard, replayFingerprint } from './pipeline/verify.js'
import { Admission, type AdmissionRequest, type Admitted } from './pipeline/admission.js'
import { BodyBudget } from './pipeline/body-budget.js'
import { TrustedProxies } from './pipeline/client-address.js'
import { rejectionFor } from './pipeline/rejection.js'
import { MemoryStore } from './storage/memory.js'
import type { KeyValueStore } from './storage/types.js'

export type { RequestOutcome, OutcomeListener, LateListener }
/** The slice of the API client the core needs for late replies, ctx.send and "typing…". */
export type { CustomerServiceSender }

let requestCounter = 0
const requestPrefix = Math.random().toString(36).slice(2, 8)

/**
 * A WeChat Official Account bot: routes (from Composer), the webhook pipeline (`handle`) and
 * the API client (`api`).
 *
 * @example
 * const bot = new Bot({ token: process.env.WECHAT_TOKEN! })
 * bot.on('text', ctx => ctx.reply(ctx.message.Content))
 * const response = await bot.handle({ method: 'POST', query, body })
 */
export class Bot<C extends Context = Context> extends Composer<C> {
  readonly options: Readonly<BotOptions>
  readonly store: KeyValueStore
  readonly sharedStore: KeyValueStore
  readonly log: Logger
  readonly crypto: MessageCrypto | undefined
  private readonly now: () => number
  private readonly randomBytes: (size: number) => Buffer
  private readonly replay: ReplayGuard
  private readonly admission: Admission
  /** Queries `admit` passed, waiting for their `handle` (keyed by the adapter's query object). */
  private readonly admittedQueries = new WeakMap<object, Admitted>()
  /** The bound on request bodies buffered at once, which adapters reserve from while reading. */
  readonly bodyBudget: BodyBudget
  private readonly rejectionLog: Pick<Logger, 'warn'>
  private readonly deduper: Deduper
  private readonly host: ContextHost
  private readonly late: LateDelivery
  private readonly lateParts: LateParts
  private readonly dispatcher: Dispatcher<C>
  private readonly answerer: DeliveryAnswerer<C>
  private errorHandler: ((err: unknown, ctx: C) => unknown) | undefined
  private readonly outcomeListeners: OutcomeListener[] = []
  private readonly lateListeners: LateListener[] = []
  /** Handlers still running after their HTTP answer went out (late replies); drained on shutdown. */
  private readonly background = new Set<Promise<unknown>>()
  private apiClient: unknown
  private apiFactory: ((bot: Bot<C>) => unknown) | undefined

  constructor(options: BotOptions) {
    super()
    validateBotOptions(options)
    this.options = Object.freeze({ ...options })
    this.now = options.now ?? Date.now
    this.randomBytes = options.randomBytes ?? pooledRandomBytes
    // with several accounts, every line of this bot names its account
    this.log = options.account === undefined ? (options.logger ?? createLogger()) : (options.logger ?? createLogger()).child({ account: options.account })
    this.store = options.store ?? new MemoryStore({ now: this.now })
    this.sharedStore = options.sharedStore ?? this.store
    this.crypto =
      options.encodingAESKey === undefined
        ? undefined
        : new MessageCrypto({
            token: options.token,
            encodingAESKey: options.encodingAESKey,
            ...(options.appId === undefined ? {} : { appId: options.appId }),
            ...(options.previousEncodingAESKey === undefined ? {} : { previousEncodingAESKey: options.previousEncodingAESKey }),
            ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }),
          })
    const tolerance = options.timestampToleranceSec ?? DEFAULTS.timestampToleranceSec
    this.replay = new ReplayGuard(this.store, Math.max(tolerance * 2, 600) * 1000, this.now)
    const proxies = options.trustedProxies === undefined ? undefined : new TrustedProxies({ proxies: options.trustedProxies, ...(options.clientIpHeader === undefined ? {} : { header: options.clientIpHeader }) })
    this.admission = new Admission({ token: options.token, timestampToleranceSec: tolerance, now: this.now, replay: this.replay, limiter: options.rateLimit, proxies })
    this.bodyBudget = new BodyBudget(options.maxBufferedBodyBytes ?? Math.max(DEFAULTS.maxBufferedBodyBytes, options.maxBodyBytes ?? 0))
    this.rejectionLog = options.rejectionLogger ?? this.log
    this.deduper = new Deduper(this.store, { ttlMs: options.dedupTtlMs ?? DEFAULTS.dedupTtlMs, now: this.now })
    if (options.appId !== undefined && options.appSecret !== undefined) {
      const { appId, appSecret } = options
      // the default client: tokens cached in the shared store, so instances share one token
      this.apiFactory = () =>
        new WechatApi({
          appId,
          appSecret,
          store: this.sharedStore,
          baseUrl: options.apiBaseUrl ?? DEFAULTS.apiBaseUrl,
          logger: this.log,
          ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
          ...(options.now === undefined ? {} : { now: options.now }),
        })
    }
    const getApi = () => this.api
    this.lateParts = assembleLate({
      options: this.options,
      sharedStore: this.sharedStore,
      deduper: this.deduper,
      log: this.log,
      now: this.now,
      replyTimeoutMs: options.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs,
      api: () => this.api as CustomerServiceSender,
      hasApi: () => this.apiConfigured,
      onLateReply: (event) => this.emitLate(event),
      originOf: (ctx) => this.dispatcher.originOf(ctx),
      answerFirst: (ctx, reply) => this.dispatcher.answerFirst(ctx, reply),
      morePending: (ctx) => this.dispatcher.morePending(ctx),
    })
    this.late = this.lateParts.late
    this.host = {
      get api() {
        return getApi()
      },
      sharedStore: this.sharedStore,
      accountKey: options.appId ?? '',
      account: options.account ?? 'default',
      deliverLate: (ctx, reply, afterReturn) => this.late.deliverLate(ctx, reply, afterReturn),
      sendNow: (ctx, reply) => this.late.push(ctx, reply),
      lateOptionsChanged: (ctx) => this.late.optionsChanged(ctx),
    }
    this.dispatcher = new Dispatcher<C>({
      options: this.options,
      host: this.host,
      late: this.late,
      deduper: this.deduper,
      route: this.lateParts.route,
      texts: this.lateParts.texts,
      log: this.log,
      crypto: this.crypto,
      now: this.now,
      randomBytes: this.randomBytes,
      middleware: () => this.middleware(),
      errorHandler: () => this.errorHandler,
      track: (work) => this.track(work),
    })
    this.answerer = { options: this.options, log: this.log, lateParts: this.lateParts, dispatcher: this.dispatcher }
    // a pending answer of an earlier message comes before anything else the message meets
    this.use(this.lateParts.middleware<C>())
  }

  /** Answers for a user's next message queued from outside a handler (the console's operator answers). */
  get nextMessage(): NextMessageAnswers {
    return this.lateParts.nextMessage
  }

  /** True when an API client is installed (late replies, ctx.send and "typing…" can go out). */
  get apiConfigured(): boolean {
    return this.apiClient !== undefined || this.apiFactory !== undefined
  }

  /** The WeChat API client (needs appId and appSecret), created on first use. */
  get api(): WechatApi {
    if (this.apiClient === undefined) {
      if (this.apiFactory === undefined) throw new WxmpError('WX_ERR_CONFIG', 'no WeChat API client: set appId and appSecret (WECHAT_APPID, WECHAT_APPSECRET)')
      this.apiClient = this.apiFactory(this)
    }
    // the factory is trusted to return a WechatApi (tests may give a narrower stand-in)
    return this.apiClient as WechatApi
  }

  /** Installs the API client factory (done by the package entry point; tests may inject one). */
  setApiFactory(factory: (bot: Bot<C>) => unknown): this {
    this.apiFactory = factory
    this.apiClient = undefined
    return this
  }

  /** Handles errors thrown by handlers (default: log with the message id). */
  catch(handler: (err: unknown, ctx: C) => unknown): this {
    this.errorHandler = handler
    return this
  }

  /** Observes every request's outcome (metrics, tests). */
  onOutcome(listener: OutcomeListener): this {
    this.outcomeListeners.push(listener)
    return this
  }

  /** Observes replies delivered (or dropped) after the passive window. */
  onLateReply(listener: LateListener): this {
    this.lateListeners.push(listener)
    return this
  }

  /** Resolves when every handler still running in the background has finished, or after `timeoutMs`. */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const deadline = this.now() + timeoutMs
    while (this.background.size > 0) {
      const left = deadline - this.now()
      if (left <= 0) return false
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled([...this.background]), new Promise((resolve) => (timer = setTimeout(resolve, left)))])
      clearTimeout(timer)
    }
    return true
  }

  /** Number of handlers running after their HTTP answer went out. */
  get backgroundCount(): number {
    return this.background.size
  }

  /**
   * The whole webhook pipeline for one HTTP request, in process: verify → decrypt → parse →
   * dedupe → handlers → reply → serialize → encrypt. Never throws: every failure becomes the
   * documented status with a precise log line.
   */
  handle(request: InboundRequest): Promise<OutboundResponse> {
    const started = this.now()
    const requestId = `${requestPrefix}-${(++requestCounter).toString(36)}`
    // each stage goes on synchronously when the one before finished synchronously (the
    // in-process store, a handler that replies at once): no promise per stage on the hot path
    try {
      const processed = this.process(request, requestId, started)
      const answered = (done: Processed): OutboundResponse => {
        try {
          return this.answered(done, requestId, started)
        } catch (err) {
          return this.reject(err, request, requestId, started)
        }
      }
      // an answer that waits for writes (the message log's, usually the turn's) leaves once they ran
      const leave = (done: Processed) => (done.until === undefined ? answered(done) : done.until.then(() => answered(done)))
      if (!(processed instanceof Promise)) return Promise.resolve(leave(processed))
      return processed.then(leave, (err: unknown) => this.reject(err, request, requestId, started))
    } catch (err) {
      return Promise.resolve(this.reject(err, request, requestId, started))
    }
  }

  /**
   * The checks that need only the request line (method, signature, timestamp, a URL check's query
   * reused, the rate limit), for adapters to run before they read the body. Returns the refusal
   * to send (already logged and counted), or undefined: read the body, then `handle` the request
   * with the same `query` object (it is not checked twice).
   */
  admit(request: AdmissionRequest): OutboundResponse | undefined {
    try {
      this.admittedQueries.set(request.query, this.admission.admit(request))
      return undefined
    } catch (err) {
      return this.reject(err, request, `${requestPrefix}-${(++requestCounter).toString(36)}`, this.now())
    }
  }

  /**
   * The response for a request that failed before the core could take it (an adapter could not
   * read the body, say): the same status mapping and log line as failures inside `handle`.
   */
  handleError(err: unknown, request: InboundRequest): OutboundResponse {
    const requestId = `${requestPrefix}-${(++requestCounter).toString(36)}`
    return this.reject(err, request, requestId, this.now())
  }

  private answered({ response, outcome }: Processed, requestId: string, started: number): OutboundResponse {
    this.emitOutcome({ requestId, status: response.status, durationMs: this.now() - started, ...outcome })
    return response
  }

  private process(request: InboundRequest, requestId: string, started: number): MaybePromise<Processed> {
    const { method, query, params } = this.admittedQueries.get(request.query) ?? this.admission.admit(request)
    this.admittedQueries.delete(request.query)
    if (method !== 'POST') {
      const echostr = query.echostr
      if (echostr === undefined) throw new WxmpError('WX_ERR_ECHOSTR_MISSING', 'GET without echostr: WeChat sends echostr when the console checks the URL')
      const verified: Processed = { response: textResponse(200, method === 'HEAD' ? '' : echostr), outcome: { kind: 'verified' } }
      // recorded, so that the query of a URL check can never sign a message
      const recorded = this.replay.check(params, replayFingerprint('GET', query, ''))
      return recorded === undefined ? verified : recorded.then(() => verified)
    }
    const body = bodyText(request.body, this.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes)
    // on a shared store the check is a round trip: the message goes on meanwhile, as far as its
    // dedup claim, which the deduper sends in the same round trip and acts on only once the
    // check has passed (Deduper.run's `check`)
    const replayChecked = this.replay.check(params, replayFingerprint('POST', query, body))
    replayChecked?.catch(() => undefined) // every path below reads it; none may leave it unhandled meanwhile
    return this.processMessage(query, body, requestId, started, replayChecked)
  }

  private processMessage(query: Query, body: string, requestId: string, started: number, replayChecked: Promise<void> | undefined): MaybePromise<Processed> {
    let opened: ReturnType<typeof openEnvelope>
    let message: ReturnType<typeof parseOpened>
    let key: string
    try {
      opened = openEnvelope(query, body, this.crypto, this.options.requireEncryption === true)
      message = parseOpened(opened)
      key = dedupKey(message)
    } catch (err) {
      // a replayed query is refused as a replay whatever its body, as when the check came first
      if (replayChecked !== undefined) return replayChecked.then(() => Promise.reject(err))
      throw err
    }
    if (opened.key === 'previous') this.warnPreviousKey(requestId, replayChecked)
    const budget = this.budget(started)
    const result = this.deduper.run(key, budget, (delivery) => this.dispatcher.dispatch(message, opened, requestId, started, key, budget, delivery), replayChecked)
    const delivery: Delivery = { message, opened, requestId, key, started }
    if (result instanceof Promise) return result.then((settled) => this.deduped(settled, delivery))
    return this.deduped(result, delivery)
  }

  /** Once the message is known not to be a replay: a refused one says nothing about the keys. */
  private warnPreviousKey(requestId: string, replayChecked: Promise<void> | undefined): void {
    const warn = () => this.log.warn({ requestId }, 'message decrypted with the previous EncodingAESKey: finish the key switch in the console')
    if (replayChecked === undefined) warn()
    else replayChecked.then(warn, () => undefined)
  }

  /** A delivery's answer from the dedup outcome (src/bot-answers.ts). */
  private deduped(result: DedupOutcome, d: Delivery): MaybePromise<Processed> {
    return answerDelivery(this.answerer, result, d)
  }


  private budget(started: number): number {
    return Math.max(0, (this.options.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs) - (this.now() - started))
  }

  private track(work: Promise<unknown>): void {
    const done = () => void this.background.delete(tracked)
    const tracked: Promise<void> = work.then(done, done)
    this.background.add(tracked)
  }

  private emitOutcome(outcome: RequestOutcome): void {
    for (const listener of this.outcomeListeners) listener(outcome)
  }

  private emitLate(event: Parameters<LateListener>[0]): void {
    for (const listener of this.lateListeners) listener(event)
  }

  /** Maps any failure to its status and logs one precise line; never a stack of 5xx. */
  private reject(err: unknown, request: InboundRequest, requestId: string, started: number): OutboundResponse {
    const { status, code, reason, headers, quiet } = rejectionFor(err)
    const precise = reason === undefined ? {} : { reason }
    const fields = { requestId, code, ...precise, status, remote: this.admission.clientAddress(request), method: request.method, err: errorText(err), ...(this.options.account === undefined ? {} : { account: this.options.account }) }
    if (status >= 500 && code !== 'WX_ERR_OVERLOADED') this.log.error({ ...fields, stack: err instanceof Error ? err.stack : undefined }, 'request failed')
    else if (!quiet) this.rejectionLog.warn(fields, `request rejected (${code})`)
    this.emitOutcome({ requestId, status, kind: 'rejected', code, ...precise, durationMs: this.now() - started })
    return textResponse(status, `${code}\n`, headers)
  }
}
