/**
 * The pending answer on the user's next message, as middleware at the head of the bot's chain:
 * a message from a user with an answer waiting (every message, or only the keyword) gets that
 * answer as its passive reply before anything else runs; then the handlers are skipped
 * (default) or run too, their reply going the late way. When the answer is still being
 * prepared, the message waits for it within its own passive window, else hears "still working".
 *
 * Costs nothing on the hot path: while the account has no pending answers (a marker read at
 * most once a second), the middleware hands on synchronously without touching the store.
 */
import type { MessageRecorder } from '../../bot-options.js'
import type { Context } from '../../context.js'
import type { Reply } from '../../reply/types.js'
import type { PendingAnswers, PendingItem } from './pending-answers.js'
import type { PendingTexts } from './texts.js'

/** Triggers a pending answer can answer: user messages and menu clicks (their passive replies are shown). */
const ANSWERING_EVENTS = new Set(['CLICK', 'scancode_waitmsg'])

/** Margin kept between the wait for a busy answer and the message's own deadline. */
const WAIT_MARGIN_MS = 400
const WAIT_POLL_MS = 150

export interface PendingDeliveryOptions {
  pending: PendingAnswers
  texts: PendingTexts
  /** Only this text fetches a pending answer; undefined: any message does. */
  keyword: string | undefined
  then: 'skip' | 'handle'
  /** The bot's passive budget (the wait for a busy answer stays inside it). */
  replyTimeoutMs: number
  /** The user's queue name for a message. */
  userOf(ctx: Context): string
  /** Makes `reply` the passive answer and lets the handlers run on (`then: 'handle'`). */
  answerFirst(ctx: Context, reply: Reply): void
  /** Says more answers wait after this one (the answer tells tools playing WeChat). */
  morePending(ctx: Context): void
  records: MessageRecorder | undefined
  now: () => number
}

/**
 * @example
 * bot.use(pendingDelivery({ pending, texts, keyword: '继续', then: 'skip', … }))
 */
export function pendingDelivery<C extends Context>(o: PendingDeliveryOptions): (ctx: C, next: () => Promise<void>) => Promise<void> {
  const keyword = o.keyword?.trim().toLowerCase()
  return (ctx, next) => {
    if (ctx.msgType === 'event' && !ANSWERING_EVENTS.has(ctx.event ?? '')) return next()
    if (!o.pending.mayHave()) return next()
    if (keyword !== undefined && ctx.text?.trim().toLowerCase() !== keyword) return next()
    return deliver(o, ctx, next)
  }
}

async function deliver<C extends Context>(o: PendingDeliveryOptions, ctx: C, next: () => Promise<void>): Promise<void> {
  const user = o.userOf(ctx)
  const waiting = await o.pending.peek(user)
  if (waiting.count === 0 && waiting.busy === undefined) return next()
  let taken = await o.pending.take(user)
  await logExpired(o, ctx, taken.expired)
  if (taken.item === undefined && taken.busy !== undefined) {
    // a new question while an answer is prepared is simply handled; the fetch waits a little for it
    if (o.then === 'handle') return next()
    const until = Math.min(taken.busy.until, ctx.request.receivedAt + o.replyTimeoutMs - WAIT_MARGIN_MS)
    while (taken.item === undefined && taken.busy !== undefined && o.now() + WAIT_POLL_MS < until) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS))
      const peeked = await o.pending.peek(user)
      taken = peeked.count > 0 ? await o.pending.take(user) : { ...taken, busy: peeked.busy }
    }
    if (taken.item === undefined) {
      if (taken.busy === undefined) return next()
      ctx.log.info({ pendingFor: taken.busy.msgKey }, 'the answer the user asks for is still being prepared: answered the busy notice')
      o.morePending(ctx)
      await ctx.reply(o.texts.busy)
      return
    }
  }
  const item = taken.item
  if (item === undefined) return next()
  ctx.log.info({ pendingFor: item.msgKey, pagesLeft: item.remaining, then: o.then }, 'a pending answer is the passive reply to this message')
  if (item.log !== undefined) await logDelivered(o, ctx, item)
  if (taken.left > 0) o.morePending(ctx)
  if (o.then === 'skip') return ctx.reply(item.reply)
  o.answerFirst(ctx, item.reply)
  return next()
}

/** The origin message's row: its answer reached the user. */
async function logDelivered(o: PendingDeliveryOptions, ctx: Context, item: PendingItem): Promise<void> {
  if (o.records === undefined || item.recordId === undefined || item.log === undefined) return
  try {
    await o.records.recordOutcome(item.recordId, { replyXml: item.log.replyXml, replyVia: item.log.via, replyStatus: 'sent', latencyMs: o.now() - item.receivedAt, error: undefined })
  } catch (err) {
    ctx.log.error({ code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err) }, 'message log: recording a delivered pending answer failed')
  }
}

/** Answers that expired unread: their rows say so (once, from the last page). */
async function logExpired(o: PendingDeliveryOptions, ctx: Context, expired: PendingItem[]): Promise<void> {
  for (const item of expired) {
    ctx.log.warn({ pendingFor: item.msgKey }, 'a pending answer expired before the user wrote again')
    if (o.records === undefined || item.recordId === undefined || item.log === undefined) continue
    await o.records
      .recordOutcome(item.recordId, { replyXml: item.log.replyXml, replyVia: item.log.via, replyStatus: 'expired', latencyMs: o.now() - item.receivedAt, error: 'pending answer expired unread' })
      .catch(() => undefined)
  }
}
