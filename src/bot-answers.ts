/**
 * A delivery's HTTP answer from its dedup outcome (src/pipeline/dedupe.ts): the first
 * delivery's own, a retry's (the message's answer), one left unanswered on purpose (the retry
 * window), or the pending notice at WeChat's last delivery. Used by `Bot.handle` (src/bot.ts).
 */
import type { BotOptions } from './bot-options.js'
import { errorText, type MaybePromise, type Processed } from './bot-outcome.js'
import type { Context } from './context.js'
import { lazyChild, type Logger } from './logger.js'
import type { WechatMessage } from './messages/types.js'
import { WECHAT_DELIVERIES, type DedupOutcome } from './pipeline/dedupe.js'
import { answerKindOf, type Dispatcher } from './pipeline/dispatch.js'
import { inboundEntry } from './pipeline/inbound-entry.js'
import type { Opened } from './pipeline/envelope.js'
import type { LateParts } from './pipeline/late/assemble.js'
import { opensWindow } from './pipeline/late/customer-service-rules.js'
import { userQueue } from './pipeline/late/pending-route.js'
import { successResponse, withNext } from './pipeline/request.js'

/** One HTTP delivery of a parsed message. */
export interface Delivery {
  message: WechatMessage
  opened: Opened
  requestId: string
  key: string
  started: number
}

/** The parts of the bot a delivery's answer needs. */
export interface DeliveryAnswerer<C extends Context> {
  options: Readonly<BotOptions>
  log: Logger
  lateParts: LateParts
  dispatcher: Dispatcher<C>
}

/** A delivery's answer from the dedup outcome: the first's, a retry's, or one left unanswered (the retry window). */
export function answerDelivery<C extends Context>(bot: DeliveryAnswerer<C>, result: DedupOutcome, d: Delivery): MaybePromise<Processed> {
  const base = { msgType: d.message.MsgType, encrypted: d.opened.encrypted }
  if (result.kind === 'first' && result.tookOver === undefined) return { response: result.response, outcome: { kind: answerKindOf(result.response), ...base }, until: result.until }
  const log = lazyChild(bot.log, { requestId: d.requestId, msgKey: d.key })
  if (result.kind === 'first') {
    if (result.tookOver !== undefined) log.warn({ deadOwner: result.tookOver, delivery: result.delivery.number }, 'WeChat retry of a message whose first delivery\'s instance is gone (crash, restart): this delivery took the message over and ran the handlers')
    return { response: result.response, outcome: { kind: answerKindOf(result.response), ...base }, until: result.until }
  }
  if (result.kind === 'lapse') return bot.lateParts.retryWindow.hold(d.started).then((response) => ({ response, outcome: { kind: 'lapsed', ...base } }))
  countDelivery(bot, d)
  const n = result.delivery.number
  if (result.kind === 'retry') {
    log.info({ delivery: n }, `WeChat retry of a message already handled or being handled: answered with the message's answer (${result.response.body === 'success' ? '"success": no reply was given' : 'its reply'})`)
    return { response: result.response, outcome: { kind: 'duplicate', ...base } }
  }
  if (!result.window) {
    log.warn({ delivery: n }, 'WeChat retry of a message still being handled: no answer within this delivery\'s budget, so it was answered "success" — no reply was given to it')
    return { response: successResponse(), outcome: { kind: 'duplicate', ...base } }
  }
  if (n < WECHAT_DELIVERIES) {
    log.info({ delivery: n }, `no reply yet: delivery ${n} is left unanswered too, so that WeChat delivers the message once more (retry window)`)
    return bot.lateParts.retryWindow.hold(d.started).then((response) => ({ response, outcome: { kind: 'lapsed', ...base } }))
  }
  const text = opensWindow(d.message) ? bot.dispatcher.responseFor(d.message, d.opened, { type: 'text', content: result.notice ?? bot.lateParts.texts.notice }, log) : undefined
  const notice = text === undefined ? undefined : withNext(text, 'next-message')
  const user = userQueue(bot.options.appId ?? '', d.message.ToUserName, d.message.FromUserName)
  return bot.lateParts.retryWindow.last(d.key, user, notice).then((response) => {
    const noticed = notice !== undefined && response.body === notice.body
    log.info({ delivery: n }, noticed ? "no reply by WeChat's last delivery: answered the pending notice; the reply waits for the user's next message" : "WeChat's last delivery: answered with the message's answer")
    return { response, outcome: { kind: noticed ? 'deadline' : 'duplicate', ...base } }
  })
}

/** A retry counts a delivery on the message's log row (the log's insert does that for a known key). */
function countDelivery<C extends Context>(bot: DeliveryAnswerer<C>, d: Delivery): void {
  const records = bot.options.records
  if (records === undefined) return
  records.recordInbound(inboundEntry(bot.options.appId, d.message, d.opened, d.key, d.started)).catch((err: unknown) => {
    bot.log.error({ code: 'WX_ERR_STORAGE', requestId: d.requestId, err: errorText(err) }, 'message log: counting a retry failed')
  })
}
