/**
 * The first delivery of a message on its way through the handlers: the context, the reply
 * slot, the deadline race, the HTTP answer, and what follows it (late replies, the message log
 * outcome). The bot hands it one parsed message at a time; everything about HTTP stays in the
 * bot, everything about WeChat's deadline lives here and in ./late/.
 */
import { COMPLETED } from '../composer.js'
import { Context, type ContextHost } from '../context.js'
import type { BotOptions, InboundRecord, ReplyVia } from '../bot-options.js'
import { isWxmpError } from '../errors.js'
import { lazyChild, type Logger } from '../logger.js'
import type { WechatMessage } from '../messages/types.js'
import { REPLY_LIMITS, serializeReply } from '../reply/serialize.js'
import type { Reply } from '../reply/types.js'
import type { MessageCrypto } from './crypto.js'
import { DeadlineQueue, type Deadline } from './deadline-queue.js'
import { sealReply, type Opened } from './envelope.js'
import type { LateDelivery } from './late-delivery.js'
import { ReplySlot } from './reply-slot.js'
import { successResponse, xmlResponse, type OutboundResponse } from './request.js'

type MaybePromise<T> = T | Promise<T>
type First = 'written' | 'deferred' | 'done' | 'deadline'

/** How a first delivery's response came about (the deduper stores only the response). */
export type AnswerKind = 'replied' | 'no-reply' | 'deadline'

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

export interface DispatcherOptions<C extends Context> {
  options: Readonly<BotOptions>
  host: ContextHost
  late: LateDelivery
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

/** Every bot's reply deadlines, on one timer (real time, like the setTimeout it replaces). */
const deadlines = new DeadlineQueue()

/** How each first-delivery response came about. */
const responseKinds = new WeakMap<OutboundResponse, AnswerKind>()
export function answerKindOf(response: OutboundResponse): AnswerKind {
  return responseKinds.get(response) ?? (response.body === 'success' ? 'no-reply' : 'replied')
}

export class Dispatcher<C extends Context> {
  constructor(private readonly o: DispatcherOptions<C>) {}

  /** Runs the handlers for the first delivery of a message and produces its HTTP answer. */
  dispatch(message: WechatMessage, opened: Opened, requestId: string, started: number, msgKey: string, budget: number): MaybePromise<OutboundResponse> {
    const slot = new ReplySlot()
    const log = lazyChild(this.o.log, { requestId, msgKey })
    const ctx = new Context(message, this.o.host, slot, { id: requestId, encrypted: opened.encrypted, receivedAt: started }, log) as C
    const recorded = this.recordInbound(message, opened, msgKey, started, log)
    this.o.late.begin(ctx, slot)
    const handled = this.runHandlers(ctx)
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
    const interim = handlerReply === undefined && first !== 'done' ? this.o.late.interimFor(ctx, slot) : undefined
    const reply: Reply | undefined = interim === undefined ? handlerReply : { type: 'text', content: interim }
    let response: OutboundResponse
    let replyXml: string | undefined
    if (reply === undefined || reply.type === 'success') {
      response = successResponse()
    } else {
      replyXml = this.serialize(reply, message, log)
      response = replyXml === undefined ? successResponse() : xmlResponse(opened.encrypted && this.o.crypto ? sealReply(replyXml, this.o.crypto, this.o.now(), this.o.randomBytes, opened.appId) : replyXml)
    }
    if (first === 'deadline' && handlerReply === undefined) {
      responseKinds.set(response, 'deadline')
      const late = this.o.late.settings(ctx).late === 'drop' ? "is dropped (late: 'drop')" : 'goes out through the customer-service API'
      log.warn({ budgetMs: budget }, `handlers did not reply before the deadline: answered ${replyXml === undefined ? '"success"' : 'the interim message'}; a later reply ${late}`)
    }
    this.o.late.passiveAnswered(ctx, replyXml === undefined ? 'success' : interim === undefined ? 'reply' : 'interim')
    const passive = interim === undefined
    if (run.recorded === undefined) return this.settle(run, first, undefined, response, replyXml, passive)
    return run.recorded.then((id) => this.settle(run, first, id, response, replyXml, passive))
  }

  /** What follows the answer: the outcome record and the handler's own sends, awaited or tracked. */
  private settle(run: Dispatched<C>, first: First, id: string | number | undefined, response: OutboundResponse, replyXml: string | undefined, passive: boolean): MaybePromise<OutboundResponse> {
    const { ctx, handled, started } = run
    // handlers finished synchronously, no message log, no sends: nothing follows
    if (handled === COMPLETED && id === undefined && !this.o.late.tracks(ctx)) return response
    const finish = handled.then(() => this.afterHandlers(id, ctx, replyXml, passive, started))
    // a handler done in time is recorded before the answer, unless a send it started is still running
    if (first === 'done' && !this.o.late.busy(ctx)) return finish.then(() => response)
    this.o.track(finish)
    return response
  }

  /** Once the handlers are done: waits for their sends, then records the outcome (when anything needs it). */
  private afterHandlers(id: string | number | undefined, ctx: C, replyXml: string | undefined, passive: boolean, started: number): Promise<void> | undefined {
    if (id === undefined && !this.o.late.tracks(ctx)) return undefined // no log, no sends: nothing left to do
    return this.o.late.finish(ctx, replyXml !== undefined && passive).then((late) => {
      if (late !== undefined) return this.recordOutcome(id, late.via, late.replyXml, started, ctx, late.status, late.error)
      return this.recordOutcome(id, replyXml === undefined ? 'none' : 'passive', replyXml, started, ctx)
    })
  }

  private serialize(reply: Reply, message: WechatMessage, log: Logger): string | undefined {
    try {
      if (reply.type === 'text' && Buffer.byteLength(reply.content) > REPLY_LIMITS.textBytesWarning) {
        log.warn({ bytes: Buffer.byteLength(reply.content) }, `text reply longer than ${REPLY_LIMITS.textBytesWarning} bytes: WeChat may cut or refuse it`)
      }
      return serializeReply(reply, { toUser: message.FromUserName, fromUser: message.ToUserName, createTime: this.o.now() / 1000, inReplyTo: message.MsgType })
    } catch (err) {
      log.error({ code: isWxmpError(err) ? err.code : 'WX_ERR_REPLY_INVALID', err: errorText(err) }, 'reply not sent: it breaks a documented limit; WeChat was answered "success"')
      return undefined
    }
  }

  /** The middleware chain; a synchronous chain that threw nothing returns COMPLETED itself. */
  private runHandlers(ctx: C): Promise<void> {
    let result: unknown
    try {
      result = this.o.middleware()(ctx, endOfChain)
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
      const handler = this.o.errorHandler()
      if (handler !== undefined) await handler(err, ctx)
      else ctx.log.error({ code: 'WX_ERR_HANDLER', msgId: ctx.msgId, msgType: ctx.msgType, err: errorText(err), stack: err instanceof Error ? err.stack : undefined }, 'handler threw; WeChat gets a valid answer')
    } catch (again) {
      ctx.log.error({ code: 'WX_ERR_HANDLER', err: errorText(again) }, 'error handler threw')
    }
  }

  private recordInbound(message: WechatMessage, opened: Opened, msgKey: string, receivedAt: number, log: Logger): Promise<string | number | undefined> | undefined {
    const records = this.o.options.records
    if (records === undefined) return undefined
    const entry: InboundRecord = {
      appId: this.o.options.appId ?? opened.appId ?? '',
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
    const records = this.o.options.records
    if (records === undefined || id === undefined) return
    try {
      await records.recordOutcome(id, { replyXml, replyVia: via, ...(status === undefined ? {} : { replyStatus: status as 'sent' }), latencyMs: this.o.now() - started, error })
    } catch (err) {
      ctx.log.error({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log outcome write failed')
    }
  }
}

const endOfChain = (): Promise<void> => COMPLETED

function msgIdOf(message: WechatMessage): string | undefined {
  const id = (message as { MsgId?: unknown }).MsgId
  return typeof id === 'string' ? id : undefined
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
