import { COMPLETED, Composer } from './composer.js'
import { WechatApi } from './api/client.js'
import { Context, type ContextHost } from './context.js'
import { DEFAULTS, validateBotOptions, type BotOptions, type InboundRecord, type MessageRecorder, type ReplyVia } from './bot-options.js'
import { WxmpError, isWxmpError } from './errors.js'
import { createLogger, lazyChild, type Logger } from './logger.js'
import { parseMessage } from './messages/parse.js'
import type { WechatMessage } from './messages/types.js'
import { MessageCrypto, pooledRandomBytes } from './pipeline/crypto.js'
import { Deduper, dedupKey, type DedupOutcome } from './pipeline/dedupe.js'
import { DeadlineQueue, type Deadline } from './pipeline/deadline-queue.js'
import { openEnvelope, sealReply, type Opened } from './pipeline/envelope.js'
import { LateDelivery, type CustomerServiceSender, type LateListenerEvent } from './pipeline/late-delivery.js'
import { ReplySlot } from './pipeline/reply-slot.js'
import { normaliseQuery, successResponse, textResponse, xmlResponse, type InboundRequest, type OutboundResponse, type Query } from './pipeline/request.js'
import { ReplayGuard, verifySignedQuery } from './pipeline/verify.js'
import { REPLY_LIMITS, serializeReply } from './reply/serialize.js'
import type { Reply } from './reply/types.js'
import { MemoryStore } from './storage/memory.js'
import type { KeyValueStore } from './storage/types.js'

/** One line per request for metrics and tests: what happened and how long it took. */
export interface RequestOutcome {
  requestId: string
  status: number
  /** `verified` (GET echo), `replied`, `no-reply`, `deadline` (answered success, handler still running), `duplicate`, `rejected`. */
  kind: 'verified' | 'replied' | 'no-reply' | 'deadline' | 'duplicate' | 'rejected'
  code?: string
  msgType?: string
  encrypted?: boolean
  durationMs: number
}
export type OutcomeListener = (outcome: RequestOutcome) => void

type MaybePromise<T> = T | Promise<T>
type First = 'written' | 'deferred' | 'done' | 'deadline'
interface Processed {
  response: OutboundResponse
  outcome: Pick<RequestOutcome, 'kind' | 'msgType' | 'encrypted'>
}
/** One first delivery on its way through the handlers. */
interface Dispatched<C> {
  message: WechatMessage
  opened: Opened
  started: number
  ctx: C
  slot: ReplySlot
  log: Logger
  recorded: Promise<string | number | undefined> | undefined
  handled: Promise<void>
  budget: number
}
export type LateListener = (event: LateListenerEvent) => void
/** The slice of the API client the core needs for late replies, ctx.send and "typing…". */
export type { CustomerServiceSender }

const utf8 = new TextDecoder('utf-8', { fatal: true })
let requestCounter = 0
/** Every bot's reply deadlines, on one timer (real time, like the setTimeout it replaces). */
const deadlines = new DeadlineQueue()
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
  private readonly deduper: Deduper
  private readonly host: ContextHost
  private readonly late: LateDelivery
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
    this.log = options.logger ?? createLogger()
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
    this.late = new LateDelivery({
      api: () => this.api as CustomerServiceSender,
      hasApi: () => this.apiConfigured,
      defaults: options,
      accountKey: options.appId ?? '',
      log: this.log,
      now: this.now,
      onLateReply: (event) => this.emitLate(event),
    })
    this.host = {
      get api() {
        return getApi()
      },
      sharedStore: this.sharedStore,
      accountKey: options.appId ?? '',
      deliverLate: (ctx, reply) => this.late.deliverLate(ctx, reply),
      sendNow: (ctx, reply) => this.late.push(ctx, reply),
      lateOptionsChanged: (ctx) => this.late.optionsChanged(ctx),
    }
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
      if (!(processed instanceof Promise)) return Promise.resolve(this.answered(processed, requestId, started))
      return processed.then(
        (done) => {
          try {
            return this.answered(done, requestId, started)
          } catch (err) {
            return this.reject(err, request, requestId, started)
          }
        },
        (err: unknown) => this.reject(err, request, requestId, started),
      )
    } catch (err) {
      return Promise.resolve(this.reject(err, request, requestId, started))
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
    const method = request.method.toUpperCase()
    const query = normaliseQuery(request.query)
    if (method === 'GET' || method === 'HEAD') {
      this.verify(query)
      const echostr = query.echostr
      if (echostr === undefined) throw new WxmpError('WX_ERR_ECHOSTR_MISSING', 'GET without echostr: WeChat sends echostr when the console checks the URL')
      return { response: textResponse(200, method === 'HEAD' ? '' : echostr), outcome: { kind: 'verified' } }
    }
    if (method !== 'POST') throw new WxmpError('WX_ERR_METHOD_NOT_ALLOWED', `method ${method.slice(0, 10)} is not allowed: WeChat uses GET (URL check) and POST (messages)`)
    const params = this.verify(query)
    const body = this.bodyText(request.body)
    const replayChecked = this.replay.check(params, body)
    if (replayChecked !== undefined) return replayChecked.then(() => this.processMessage(query, body, requestId, started))
    return this.processMessage(query, body, requestId, started)
  }

  private processMessage(query: Query, body: string, requestId: string, started: number): MaybePromise<Processed> {
    const opened = openEnvelope(query, body, this.crypto, this.options.requireEncryption === true)
    if (opened.key === 'previous') this.log.warn({ requestId }, 'message decrypted with the previous EncodingAESKey: finish the key switch in the console')
    const message = parseMessage(opened.xml)
    const key = dedupKey(message)
    const result = this.deduper.run(key, this.budget(started), () => this.dispatch(message, opened, requestId, started, key))
    const outcome = { msgType: message.MsgType, encrypted: opened.encrypted }
    if (result instanceof Promise) return result.then((settled) => this.deduped(settled, outcome, requestId, key))
    return this.deduped(result, outcome, requestId, key)
  }

  private deduped(result: DedupOutcome, outcome: Pick<RequestOutcome, 'msgType' | 'encrypted'>, requestId: string, key: string): Processed {
    const { msgType, encrypted } = outcome
    if (result.kind === 'first') return { response: result.response, outcome: { kind: kindOf(result.response), msgType, encrypted } }
    this.log.info({ requestId, msgKey: key }, 'WeChat retry of a message already being handled: answered with the first delivery\'s reply')
    return { response: result.kind === 'retry' ? result.response : successResponse(), outcome: { kind: 'duplicate', msgType, encrypted } }
  }

  private verify(query: Query) {
    return verifySignedQuery(query, {
      token: this.options.token,
      timestampToleranceSec: this.options.timestampToleranceSec ?? DEFAULTS.timestampToleranceSec,
      now: this.now,
    })
  }

  private budget(started: number): number {
    return Math.max(0, (this.options.replyTimeoutMs ?? DEFAULTS.replyTimeoutMs) - (this.now() - started))
  }

  private bodyText(body: InboundRequest['body']): string {
    if (body === undefined || body === null) throw new WxmpError('WX_ERR_BODY_EMPTY', 'POST without a body')
    const max = this.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
    if (typeof body === 'string') {
      if (Buffer.byteLength(body) > max) throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds ${max} bytes`)
      return stripBom(body)
    }
    if (!(body instanceof Uint8Array)) {
      throw new WxmpError('WX_ERR_BODY_NOT_RAW', 'the request body was already parsed by a body parser: mount wxmp before it, or give wxmp the raw body (Buffer or string)')
    }
    if (body.byteLength > max) throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds ${max} bytes`)
    if (body.byteLength === 0) throw new WxmpError('WX_ERR_BODY_EMPTY', 'POST with an empty body')
    try {
      return stripBom(utf8.decode(body))
    } catch (err) {
      throw new WxmpError('WX_ERR_XML_MALFORMED', 'body is not valid UTF-8', { cause: err })
    }
  }

  /** Runs the handlers for the first delivery of a message and produces its HTTP answer. */
  private dispatch(message: WechatMessage, opened: Opened, requestId: string, started: number, msgKey: string): MaybePromise<OutboundResponse> {
    const slot = new ReplySlot()
    const log = lazyChild(this.log, { requestId, msgKey })
    const ctx = new Context(message, this.host, slot, { id: requestId, encrypted: opened.encrypted, receivedAt: started }, log) as C
    const recorded = this.recordInbound(message, opened, msgKey, started, log)
    this.late.begin(ctx, slot)
    const handled = this.runHandlers(ctx)
    const budget = this.budget(started)
    const run: Dispatched<C> = { message, opened, started, ctx, slot, log, recorded, handled, budget }
    // a handler that replied (or deferred) synchronously needs no deadline timer: the race
    // below would settle on slot.ready anyway, since `handled` is still pending
    if (slot.reply !== undefined) return this.answer(run, 'written')
    if (slot.isDeferred) return this.answer(run, 'deferred')
    if (handled === COMPLETED) return this.answer(run, 'done') // finished at once without a reply
    // the same race as Promise.race([slot.ready, handled, timer]), on the shared deadline queue
    let deadline: Deadline | undefined
    return new Promise<First>((resolve) => {
      void slot.ready.then(resolve)
      void handled.then(() => resolve('done'))
      deadline = deadlines.schedule(budget, () => resolve('deadline'))
    }).then((first) => {
      if (deadline !== undefined) deadlines.cancel(deadline)
      return this.answer(run, first)
    })
  }

  /** The passive window closed (`first` says how): builds the HTTP answer and settles what follows it. */
  private answer(run: Dispatched<C>, first: First): MaybePromise<OutboundResponse> {
    const { ctx, slot, message, opened, log, budget } = run
    slot.expire()
    const handlerReply = slot.reply
    // no reply yet at the deadline (or the handler deferred): the interim, if any, goes out now
    const interim = handlerReply === undefined && first !== 'done' ? this.late.interimFor(ctx, slot) : undefined
    const reply: Reply | undefined = interim === undefined ? handlerReply : { type: 'text', content: interim }
    let response: OutboundResponse
    let replyXml: string | undefined
    if (reply === undefined || reply.type === 'success') {
      response = successResponse()
    } else {
      replyXml = this.serialize(reply, message, log)
      response = replyXml === undefined ? successResponse() : xmlResponse(opened.encrypted && this.crypto ? sealReply(replyXml, this.crypto, this.now(), this.randomBytes, opened.appId) : replyXml)
    }
    if (first === 'deadline' && handlerReply === undefined) {
      responseKinds.set(response, 'deadline')
      const late = this.late.settings(ctx).late === 'drop' ? "is dropped (late: 'drop')" : 'goes out through the customer-service API'
      log.warn({ budgetMs: budget }, `handlers did not reply before the deadline: answered ${replyXml === undefined ? '"success"' : 'the interim message'}; a later reply ${late}`)
    }
    this.late.passiveAnswered(ctx, replyXml === undefined ? 'success' : interim === undefined ? 'reply' : 'interim')
    const passive = interim === undefined
    if (run.recorded === undefined) return this.settle(run, first, undefined, response, replyXml, passive)
    return run.recorded.then((id) => this.settle(run, first, id, response, replyXml, passive))
  }

  /** What follows the answer: the outcome record and the handler's own sends, awaited or tracked. */
  private settle(run: Dispatched<C>, first: First, id: string | number | undefined, response: OutboundResponse, replyXml: string | undefined, passive: boolean): MaybePromise<OutboundResponse> {
    const { ctx, handled, started } = run
    // handlers finished synchronously, no message log, no sends: nothing follows
    if (handled === COMPLETED && id === undefined && !this.late.tracks(ctx)) return response
    const finish = handled.then(() => this.afterHandlers(id, ctx, replyXml, passive, started))
    // a handler done in time is recorded before the answer, unless a send it started is still running
    if (first === 'done' && !this.late.busy(ctx)) return finish.then(() => response)
    this.track(finish)
    return response
  }

  /** Once the handlers are done: waits for their sends, then records the outcome (when anything needs it). */
  private afterHandlers(id: string | number | undefined, ctx: C, replyXml: string | undefined, passive: boolean, started: number): Promise<void> | undefined {
    if (id === undefined && !this.late.tracks(ctx)) return undefined // no log, no sends: nothing left to do
    return this.late.finish(ctx, replyXml !== undefined && passive).then((late) => {
      if (late !== undefined) return this.recordOutcome(id, late.via, late.replyXml, started, ctx, late.status, late.error)
      return this.recordOutcome(id, replyXml === undefined ? 'none' : 'passive', replyXml, started, ctx)
    })
  }

  private serialize(reply: Reply, message: WechatMessage, log: Logger): string | undefined {
    try {
      if (reply.type === 'text' && Buffer.byteLength(reply.content) > REPLY_LIMITS.textBytesWarning) {
        log.warn({ bytes: Buffer.byteLength(reply.content) }, `text reply longer than ${REPLY_LIMITS.textBytesWarning} bytes: WeChat may cut or refuse it`)
      }
      return serializeReply(reply, { toUser: message.FromUserName, fromUser: message.ToUserName, createTime: this.now() / 1000, inReplyTo: message.MsgType })
    } catch (err) {
      log.error({ code: isWxmpError(err) ? err.code : 'WX_ERR_REPLY_INVALID', err: errorText(err) }, 'reply not sent: it breaks a documented limit; WeChat was answered "success"')
      return undefined
    }
  }

  /** The middleware chain; a synchronous chain that threw nothing returns COMPLETED itself. */
  private runHandlers(ctx: C): Promise<void> {
    let result: unknown
    try {
      result = this.middleware()(ctx, endOfChain)
    } catch (err) {
      return this.handlerFailed(err, ctx)
    }
    if (result === COMPLETED) return COMPLETED
    return Promise.resolve(result).then(
      () => undefined,
      (err: unknown) => this.handlerFailed(err, ctx),
    )
  }

  private async handlerFailed(err: unknown, ctx: C): Promise<void> {
    try {
      if (this.errorHandler !== undefined) await this.errorHandler(err, ctx)
      else ctx.log.error({ code: 'WX_ERR_HANDLER', msgId: ctx.msgId, msgType: ctx.msgType, err: errorText(err), stack: err instanceof Error ? err.stack : undefined }, 'handler threw; WeChat gets a valid answer')
    } catch (again) {
      ctx.log.error({ code: 'WX_ERR_HANDLER', err: errorText(again) }, 'error handler threw')
    }
  }

  private recordInbound(message: WechatMessage, opened: Opened, msgKey: string, receivedAt: number, log: Logger): Promise<string | number | undefined> | undefined {
    const records = this.options.records
    if (records === undefined) return undefined
    const entry: InboundRecord = {
      appId: this.options.appId ?? opened.appId ?? '',
      msgKey,
      openid: message.FromUserName,
      msgType: message.MsgType,
      event: message.MsgType === 'event' ? (message as { Event: string }).Event : undefined,
      msgId: msgIdOf(message),
      createTime: message.CreateTime,
      rawXml: opened.xml,
      receivedAt,
      encrypted: opened.encrypted,
    }
    return records.recordInbound(entry).catch((err: unknown) => {
      log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log write failed')
      return undefined
    })
  }

  private async recordOutcome(id: string | number | undefined, via: ReplyVia, replyXml: string | undefined, started: number, ctx: C, status?: string, error?: string): Promise<void> {
    const records = this.options.records
    if (records === undefined || id === undefined) return
    try {
      await records.recordOutcome(id, { replyXml, replyVia: via, ...(status === undefined ? {} : { replyStatus: status as 'sent' }), latencyMs: this.now() - started, error })
    } catch (err) {
      ctx.log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log outcome write failed')
    }
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
    const known = isWxmpError(err) ? err : undefined
    const status = known !== undefined && known.status >= 400 ? known.status : 500
    const code = known?.code ?? 'WX_ERR_INTERNAL'
    const fields = { requestId, code, status, remote: request.remoteAddress, method: request.method, err: errorText(err) }
    if (status >= 500) this.log.error({ ...fields, stack: err instanceof Error ? err.stack : undefined }, 'request failed')
    else this.log.warn(fields, `request rejected (${code})`)
    this.emitOutcome({ requestId, status, kind: 'rejected', code, durationMs: this.now() - started })
    const headers: Record<string, string> = code === 'WX_ERR_METHOD_NOT_ALLOWED' ? { allow: 'GET, POST' } : {}
    return textResponse(status, `${code}\n`, headers)
  }
}

const endOfChain = (): Promise<void> => COMPLETED

/** How each first-delivery response came about (the deduper stores only the response). */
const responseKinds = new WeakMap<OutboundResponse, RequestOutcome['kind']>()
function kindOf(response: OutboundResponse): RequestOutcome['kind'] {
  return responseKinds.get(response) ?? (response.body === 'success' ? 'no-reply' : 'replied')
}

function msgIdOf(message: WechatMessage): string | undefined {
  const id = (message as { MsgId?: unknown }).MsgId
  return typeof id === 'string' ? id : undefined
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
