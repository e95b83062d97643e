/**
 * A message on its way through the handlers: the context, the reply slot, the deadline race,
 * the first delivery's HTTP answer, and what follows it (the retry window, late replies, pages,
 * the message-log outcome). The bot hands it one parsed message at a time; everything about
 * HTTP stays in the bot, everything about WeChat's deadline lives here and in ./late/.
 */
import { COMPLETED } from '../composer.js'
import { Context, coreRecordOf, type ContextHost } from '../context.js'
import type { BotOptions, ReplyVia } from '../bot-options.js'
import { isWxmpError } from '../errors.js'
import { lazyChild, type Logger } from '../logger.js'
import type { WechatMessage } from '../messages/types.js'
import { serializeReply } from '../reply/serialize.js'
import type { Reply } from '../reply/types.js'
import type { MessageCrypto } from './crypto.js'
import { deadlines, type Deadline } from './deadline-queue.js'
import { WECHAT_DELIVERIES, type Deduper, type DeliveryInfo, type FirstAnswer, type GatedAnswer } from './dedupe.js'
import { sealReply, type Opened } from './envelope.js'
import { opensWindow } from './late/customer-service-rules.js'
import type { PendingRoute } from './late/pending-route.js'
import { BUSY_MS } from './late/retry-window.js'
import type { PendingTexts } from './late/texts.js'
import type { LateDelivery } from './late-delivery.js'
import { inboundEntry } from './inbound-entry.js'
import { ReplySlot } from './reply-slot.js'
import { afterTurnWrites } from './turn-end.js'
import { successResponse, withNext, xmlResponse, type NextHint, type OutboundResponse } from './request.js'

type MaybePromise<T> = T | Promise<T>
type First = 'written' | 'deferred' | 'done' | 'deadline'

/** A text of at most this many UTF-16 units is at most 2048 bytes of UTF-8 (3 bytes per unit at most). */
const SURELY_ONE_PAGE = 682
const NO_PAGES: Reply[] = []

/** How a first delivery's response came about (the deduper stores only the response). */
export type AnswerKind = 'replied' | 'no-reply' | 'deadline'


/** One message on its way through the handlers. */
interface Run<C> {
  message: WechatMessage
  opened: Opened
  msgKey: string
  started: number
  delivery: DeliveryInfo
  ctx: C
  slot: ReplySlot
  log: Logger
  /** The message-log record's id once its write has run (undefined: the record was refused, or recordInbound's write failed); see recordedOf. */
  recorded: Promise<string | number | undefined> | undefined
  /** The message-log id, when the recorder knows it at once (MessageRecorder.idOf, appendInbound). */
  recordId: string | number | undefined
  /** A record appended to this turn's write (MessageRecorder.appendInbound): the turn's writes, which the answer waits for. */
  gate: Promise<unknown> | undefined
  handled: Promise<void>
  budget: number
  /** Set when more answers wait for the user's next messages after this one (pending pages). */
  more: boolean
}

export interface DispatcherOptions<C extends Context> {
  options: Readonly<BotOptions>
  host: ContextHost
  late: LateDelivery
  deduper: Deduper
  route: PendingRoute
  texts: PendingTexts
  log: Logger
  crypto: MessageCrypto | undefined
  now: () => number
  randomBytes: (size: number) => Buffer
  /** The bot's middleware chain, built when a message arrives. */
  middleware(): (ctx: C, next: () => Promise<void>) => unknown
  /** The handler for errors thrown by handlers, if the bot has one. */
  errorHandler(): ((err: unknown, ctx: C) => unknown) | undefined
  /** Work still running after the HTTP answer (the bot drains it on shutdown). */
  track(work: Promise<unknown>): void
}

/** How each first-delivery response came about. */
const responseKinds = new WeakMap<OutboundResponse, AnswerKind>()
export function answerKindOf(response: OutboundResponse): AnswerKind {
  return responseKinds.get(response) ?? (response.body === 'success' ? 'no-reply' : 'replied')
}

export class Dispatcher<C extends Context> {
  constructor(private readonly o: DispatcherOptions<C>) {}

  /** The message's dedup key and message-log row, for late delivery. */
  originOf(ctx: Context): { msgKey: string; recordId: Promise<string | number | undefined> | undefined } {
    const run = runOf<C>(ctx)
    return { msgKey: run?.msgKey ?? '', recordId: run === undefined ? undefined : recordedOf(run) }
  }

  /** A pending answer is this message's passive reply; the handlers still run, and their reply goes the late way. */
  answerFirst(ctx: Context, reply: Reply): void {
    runOf<C>(ctx)?.slot.answerFirst(reply)
  }

  /** More answers wait for the user's next messages after this message's (said in the answer's x-wxmp-next). */
  morePending(ctx: Context): void {
    const run = runOf<C>(ctx)
    if (run !== undefined) run.more = true
  }

  /** Runs the handlers for the first delivery of a message and produces its HTTP answer (or leaves it unanswered: the retry window). */
  dispatch(message: WechatMessage, opened: Opened, requestId: string, started: number, msgKey: string, budget: number, delivery: DeliveryInfo): MaybePromise<FirstAnswer> {
    const slot = new ReplySlot()
    const log = lazyChild(this.o.log, { requestId, msgKey })
    const run: Run<C> = { message, opened, msgKey, started, delivery, ctx: undefined as unknown as C, slot, log, recorded: undefined, recordId: undefined, gate: undefined, handled: COMPLETED, budget, more: false }
    this.recordInbound(run)
    const ctx = new Context(message, this.o.host, slot, { id: requestId, encrypted: opened.encrypted, receivedAt: started }, log, run) as C
    run.ctx = ctx
    this.o.late.begin(ctx, slot)
    const handled = this.runHandlers(ctx, slot)
    run.handled = handled
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
  private answer(run: Run<C>, first: First): MaybePromise<FirstAnswer> {
    const { ctx, slot, log, budget } = run
    slot.expire()
    const handlerReply = slot.reply
    if (first === 'deadline' && handlerReply === undefined) {
      const strategy = this.o.late.strategy(ctx)
      if (strategy === 'retry-window' && run.delivery.number < WECHAT_DELIVERIES) return this.lapse(run)
      if ((strategy === 'retry-window' || strategy === 'next-message') && opensWindow(ctx.message)) return this.notice(run)
    }
    // no reply yet at the deadline (or the handler deferred): the interim, if any, goes out now
    const interim = handlerReply === undefined && first !== 'done' ? this.o.late.interimFor(ctx, slot) : undefined
    const reply: Reply | undefined = interim === undefined ? handlerReply : { type: 'text', content: interim }
    const passive = reply === undefined || reply.type === 'success' ? undefined : this.passive(run, reply)
    const replyXml = passive?.replyXml
    // what follows, for tools playing WeChat: a customer-service answer after an interim or "success", or the next message
    const lateFollows = first !== 'done' && handlerReply === undefined && this.o.late.strategy(ctx) === 'customer-service' ? 'customer-service' : undefined
    const next: NextHint | undefined = passive?.next ?? (run.more ? 'next-message' : lateFollows)
    const response = withNext(passive?.response ?? successResponse(), next)
    if (first === 'deadline' && handlerReply === undefined) {
      responseKinds.set(response, 'deadline')
      const later = this.o.late.strategy(ctx) === 'drop' ? "is dropped (late: 'drop')" : this.o.late.strategy(ctx) === 'customer-service' ? 'goes out through the customer-service API' : "waits for the user's next message"
      // an interim the bot configured is the plan working, not a problem
      if (interim === undefined) log.warn({ budgetMs: budget }, `handlers did not reply before the deadline: answered "success"; a later reply ${later}`)
      else log.info({ budgetMs: budget }, `no reply by the deadline: answered the interim message; the reply ${later}`)
    }
    this.o.late.passiveAnswered(ctx, replyXml === undefined ? 'success' : interim === undefined ? 'reply' : 'interim')
    if (passive !== undefined && passive.rest.length > 0 && reply !== undefined) this.o.late.overflow(ctx, reply, passive.rest, passive.byCustomerService)
    return this.settled(run, first, response, replyXml, interim === undefined)
  }

  /** The retry window: this delivery is left unanswered, so WeChat delivers the message again; the reply goes out on a later delivery. */
  private lapse(run: Run<C>): MaybePromise<FirstAnswer> {
    const { ctx, log } = run
    this.o.late.openWindow(ctx, (reply) => this.publishLate(run, reply))
    log.info({ delivery: run.delivery.number, budgetMs: run.budget }, `no reply by the deadline: delivery ${run.delivery.number} is left unanswered so that WeChat delivers the message again (retry window); the reply goes out on the delivery open when it is ready`)
    const notice = this.o.late.settings(ctx).pendingNotice ?? this.o.texts.notice
    // once the handlers are done without a reply, later deliveries answer "success"
    const closed = run.handled.then(() => {
      if (this.o.late.windowOpen(ctx)) return this.o.deduper.publish(run.msgKey, successResponse())
      return undefined
    })
    this.o.track(closed.then(() => this.afterHandlers(run, undefined, false)))
    return { lapse: true, notice }
  }

  /** The answer waits for the user's next message: the notice is this delivery's answer. */
  private notice(run: Run<C>): MaybePromise<FirstAnswer> {
    const { ctx, log } = run
    const text = this.o.late.settings(ctx).pendingNotice ?? this.o.texts.notice
    this.o.late.noticeGiven(ctx)
    const response = withNext(this.responseFor(run.message, run.opened, { type: 'text', content: text }, log) ?? successResponse(), 'next-message')
    responseKinds.set(response, 'deadline')
    log.info({ delivery: run.delivery.number, budgetMs: run.budget }, "no reply by the deadline: answered the pending notice; the reply waits for the user's next message")
    const busy = this.o.route.busy(this.o.late.userOf(ctx), run.msgKey, BUSY_MS).catch(() => undefined)
    return busy.then(() => this.settled(run, 'deadline', response, undefined, false))
  }

  /** A reply ready during the retry window: the message's answer for the next delivery, unless the last one was answered meanwhile. */
  private async publishLate(run: Run<C>, reply: Reply): Promise<boolean> {
    const passive = reply.type === 'success' ? undefined : this.passive(run, reply)
    const { won } = await this.o.deduper.publish(run.msgKey, passive?.response ?? successResponse())
    if (!won) return false
    run.log.info({ replyType: reply.type }, 'reply ready within WeChat\'s retries: it is the passive answer of the delivery open now (or the next one)')
    if (passive !== undefined && passive.rest.length > 0) this.o.late.overflow(run.ctx, reply, passive.rest, passive.byCustomerService)
    return true
  }

  /** A passive reply: long text paged (the first page now, with a footer when the rest waits for the next messages). */
  private passive(run: Run<C>, reply: Reply): { response: OutboundResponse; replyXml: string | undefined; rest: Reply[]; byCustomerService: boolean; next: NextHint | undefined } | undefined {
    if (reply.type !== 'text' || reply.content.length <= SURELY_ONE_PAGE) {
      // the common case: one page (a text this short cannot exceed 2048 bytes even at 4 bytes a character)
      const replyXml = this.xmlOf(reply, run.message, run.log)
      return replyXml === undefined ? undefined : { response: this.seal(replyXml, run.opened), replyXml, rest: NO_PAGES, byCustomerService: false, next: undefined }
    }
    const pages = this.o.route.split(reply)
    const byCustomerService = pages.length > 1 && this.o.late.pagesByCustomerService(run.ctx)
    const first = pages.length > 1 && !byCustomerService ? this.o.route.shown(pages[0]!, pages.length - 1) : pages[0]!
    if (pages.length > 1) run.log.info({ bytes: Buffer.byteLength((reply as { content: string }).content), pages: pages.length }, `text reply longer than one passive message: sent in ${pages.length} pages, the rest ${byCustomerService ? 'as customer-service messages' : "one per following message of the user's"}`)
    const replyXml = this.xmlOf(first, run.message, run.log)
    if (replyXml === undefined) return undefined
    const next = pages.length === 1 ? undefined : byCustomerService ? 'customer-service' : 'next-message'
    return { response: withNext(this.seal(replyXml, run.opened), next), replyXml, rest: pages.slice(1), byCustomerService, next }
  }

  /** The HTTP answer carrying `reply` for this message (encrypted when the message was); undefined when the reply breaks a limit. */
  responseFor(message: WechatMessage, opened: Opened, reply: Reply, log: Logger): OutboundResponse | undefined {
    const xml = this.xmlOf(reply, message, log)
    return xml === undefined ? undefined : this.seal(xml, opened)
  }

  private seal(xml: string, opened: Opened): OutboundResponse {
    return xmlResponse(opened.encrypted && this.o.crypto ? sealReply(xml, this.o.crypto, this.o.now(), this.o.randomBytes, opened.appId) : xml)
  }

  /**
   * The answer, and what follows it: the outcome record and the handler's own sends, awaited or
   * tracked. With a message log, the answer may leave only once the inbound record is written:
   * it is handed over gated, so that the deduper stores it in the same turn (src/pipeline/dedupe.ts).
   */
  private settled(run: Run<C>, first: First, response: OutboundResponse, replyXml: string | undefined, passive: boolean): MaybePromise<FirstAnswer> {
    const gate = run.gate ?? run.recorded
    if (gate === undefined) return this.settle(run, first, response, replyXml, passive)
    // handlers done at once, nothing sent or scheduled: the outcome is known now, and a log that
    // knows the row's id takes it in the same write as the message (nothing to track: the log's
    // close writes what is appended; a failure is logged where it happens)
    if (run.handled === COMPLETED && run.recordId !== undefined && !this.o.late.tracks(run.ctx)) {
      void this.recordOutcome(run.recordId, replyXml === undefined ? 'none' : 'passive', replyXml, run)
      return { response, until: gate } satisfies GatedAnswer
    }
    const answer = this.settle(run, first, response, replyXml, passive)
    if (answer instanceof Promise) return gate.then(() => answer)
    return { response: answer, until: gate } satisfies GatedAnswer
  }

  private settle(run: Run<C>, first: First, response: OutboundResponse, replyXml: string | undefined, passive: boolean): MaybePromise<OutboundResponse> {
    const { ctx, handled } = run
    // handlers finished synchronously, no message log, no sends: nothing follows
    if (handled === COMPLETED && run.recorded === undefined && run.gate === undefined && !this.o.late.tracks(ctx)) return response
    const finish = handled.then(() => this.afterHandlers(run, replyXml, passive))
    // a handler done in time is recorded before the answer, unless a send it started is still running
    if (first === 'done' && !this.o.late.busy(ctx)) return finish.then(() => response)
    this.o.track(finish)
    return response
  }

  /** Once the handlers are done: waits for their sends, then records the outcome (when anything needs it). */
  private async afterHandlers(run: Run<C>, replyXml: string | undefined, passive: boolean): Promise<void> {
    const { ctx } = run
    const id = await recordedOf(run)
    if (id === undefined && !this.o.late.tracks(ctx)) return // no log, no sends: nothing left to do
    const late = await this.o.late.finish(ctx, replyXml !== undefined && passive)
    if (late !== undefined) return this.recordOutcome(id, late.via, late.replyXml ?? replyXml, run, late.status, late.error)
    return this.recordOutcome(id, replyXml === undefined ? 'none' : 'passive', replyXml, run)
  }

  private xmlOf(reply: Reply, message: WechatMessage, log: Logger): string | undefined {
    try {
      return serializeReply(reply, { toUser: message.FromUserName, fromUser: message.ToUserName, createTime: this.o.now() / 1000, inReplyTo: message.MsgType })
    } catch (err) {
      log.error({ code: isWxmpError(err) ? err.code : 'WX_ERR_REPLY_INVALID', err: errorText(err) }, 'reply not sent: it breaks a documented limit; WeChat was answered "success"')
      return undefined
    }
  }

  /** The middleware chain; a synchronous chain that threw nothing returns COMPLETED itself. */
  private runHandlers(ctx: C, slot: ReplySlot): Promise<void> {
    let result: unknown
    try {
      result = this.o.middleware()(ctx, endOfChain)
    } catch (err) {
      return this.handlerFailed(err, ctx).finally(() => slot.markReturned())
    }
    if (result === COMPLETED) {
      slot.markReturned()
      return COMPLETED
    }
    return Promise.resolve(result).then(
      () => slot.markReturned(),
      (err: unknown) => this.handlerFailed(err, ctx).finally(() => slot.markReturned()),
    )
  }

  private async handlerFailed(err: unknown, ctx: C): Promise<void> {
    try {
      const handler = this.o.errorHandler()
      if (handler !== undefined) await handler(err, ctx)
      else ctx.log.error({ code: 'WX_ERR_HANDLER', msgId: ctx.msgId, msgType: ctx.msgType, err: errorText(err), stack: err instanceof Error ? err.stack : undefined }, 'handler threw; WeChat gets a valid answer')
    } catch (again) {
      ctx.log.error({ code: 'WX_ERR_HANDLER', err: errorText(again) }, 'error handler threw')
    }
  }

  /**
   * Records the message: appended to this turn's write when the recorder can (`run.gate`, the
   * turn's writes), else `run.recorded`; `run.recordId` when the id is known at once.
   */
  private recordInbound(run: Run<C>): void {
    const records = this.o.options.records
    if (records === undefined) return
    const entry = inboundEntry(this.o.options.appId, run.message, run.opened, run.msgKey, run.started, this.o.options.account)
    const { log } = run
    if (records.appendInbound !== undefined) {
      try {
        run.recordId = records.appendInbound(entry)
        // one promise for the whole turn's answers; a recorder whose append is no turn write has written it already
        run.gate = afterTurnWrites() ?? COMPLETED
      } catch (err) {
        log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log write failed')
        run.recorded = NOT_RECORDED
      }
      return
    }
    run.recorded = records.recordInbound(entry).catch((err: unknown) => {
      log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log write failed')
      return undefined
    })
    if (records.idOf !== undefined) {
      try {
        run.recordId = records.idOf(entry)
      } catch {
        // the entry was refused: recordInbound says why; its outcome goes the usual way
      }
    }
  }

  /**
   * The outcome record. What waits for its write (the bot's drain on shutdown) holds only the
   * logger, not the request: with the message log on, that write is the next turn's, and a
   * request kept alive until then was copied by the next scavenges and often promoted.
   */
  private recordOutcome(id: string | number | undefined, via: ReplyVia, replyXml: string | undefined, run: Run<C>, status?: string, error?: string): Promise<void> | undefined {
    const records = this.o.options.records
    if (records === undefined || id === undefined) return undefined
    const log = run.ctx.log
    if (records.appendOutcome !== undefined) {
      // into the turn's write: a failure is reported by the log
      try {
        records.appendOutcome(id, { replyXml, replyVia: via, ...(status === undefined ? {} : { replyStatus: status as 'sent' }), latencyMs: this.o.now() - run.started, error })
      } catch (err) {
        log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log outcome write failed')
      }
      return undefined
    }
    let written: Promise<void>
    try {
      written = records.recordOutcome(id, { replyXml, replyVia: via, ...(status === undefined ? {} : { replyStatus: status as 'sent' }), latencyMs: this.o.now() - run.started, error })
    } catch (err) {
      written = Promise.reject(err)
    }
    return written.catch((err: unknown) => log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log outcome write failed'))
  }
}

const endOfChain = (): Promise<void> => COMPLETED
const NOT_RECORDED: Promise<undefined> = Promise.resolve(undefined)

/**
 * The message-log id once the record's write has run, made when first asked for (undefined: no
 * log, or the record was refused, or recordInbound's write failed; an appended record's failed
 * write is reported by the log, and its id still comes back: an outcome for it matches no row).
 */
function recordedOf<C extends Context>(run: Run<C>): Promise<string | number | undefined> | undefined {
  if (run.recorded === undefined && run.gate !== undefined) {
    const id = run.recordId
    run.recorded = run.gate.then(() => id)
  }
  return run.recorded
}

/** The run a context belongs to (set when the dispatcher made the context). */
function runOf<C extends Context>(ctx: Context): Run<C> | undefined {
  return coreRecordOf(ctx) as Run<C> | undefined
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
