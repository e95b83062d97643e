/**
 * The late-answer machinery of one bot, put together from its options: what the account may
 * send (permission), the pending-answer queues and texts, the retry window, late delivery, and
 * the middleware that hands pending answers out. The bot only wires it in.
 */
import type { BotOptions } from '../../bot-options.js'
import type { Context } from '../../context.js'
import type { Logger } from '../../logger.js'
import type { Reply } from '../../reply/types.js'
import type { KeyValueStore } from '../../storage/types.js'
import type { Deduper } from '../dedupe.js'
import { LateDelivery, type CustomerServiceSender, type LateListenerEvent } from '../late-delivery.js'
import { PendingAnswers, PENDING_TTL_MS } from './pending-answers.js'
import { pendingDelivery } from './pending-delivery.js'
import { PendingRoute } from './pending-route.js'
import { CustomerServicePermission } from './permission.js'
import { LAPSE_HOLD_MS, RetryWindow } from './retry-window.js'
import { pendingTexts, type PendingTexts } from './texts.js'

export interface LateParts {
  permission: CustomerServicePermission
  pending: PendingAnswers
  texts: PendingTexts
  route: PendingRoute
  retryWindow: RetryWindow
  late: LateDelivery
  /** The pending-answer middleware, for the head of the bot's chain. */
  middleware<C extends Context>(): (ctx: C, next: () => Promise<void>) => Promise<void>
}

export interface AssembleOptions {
  options: Readonly<BotOptions>
  sharedStore: KeyValueStore
  deduper: Deduper
  log: Logger
  now: () => number
  replyTimeoutMs: number
  api(): CustomerServiceSender
  hasApi(): boolean
  onLateReply(event: LateListenerEvent): void
  originOf(ctx: Context): { msgKey: string; recordId: Promise<string | number | undefined> | undefined }
  answerFirst(ctx: Context, reply: Reply): void
  morePending(ctx: Context): void
}

export function assembleLate(o: AssembleOptions): LateParts {
  const { options, now, log } = o
  const accountKey = options.appId ?? ''
  const keyword = options.pendingAnswers?.keyword
  const texts = pendingTexts({
    language: options.language ?? 'zh',
    keyword,
    notice: options.pendingNotice,
    busy: options.pendingAnswers?.busyNotice,
    footer: options.pendingAnswers?.footer,
  })
  const permission = new CustomerServicePermission({ store: o.sharedStore, accountKey, accountKind: options.accountKind, hasApi: o.hasApi, log, now })
  const pending = new PendingAnswers({ store: o.sharedStore, log, now })
  const route = new PendingRoute({ pending, texts, ttlMs: options.pendingAnswers?.ttlMs ?? PENDING_TTL_MS, now })
  const retryWindow = new RetryWindow({ deduper: o.deduper, route, holdMs: options.lapseHoldMs ?? LAPSE_HOLD_MS, now })
  const late = new LateDelivery({
    api: o.api,
    hasApi: o.hasApi,
    defaults: options,
    accountKey,
    log,
    now,
    onLateReply: o.onLateReply,
    permission,
    route,
    originOf: o.originOf,
  })
  return {
    permission,
    pending,
    texts,
    route,
    retryWindow,
    late,
    middleware: () =>
      pendingDelivery({
        pending,
        texts,
        keyword,
        then: options.pendingAnswers?.then ?? 'skip',
        replyTimeoutMs: o.replyTimeoutMs,
        userOf: (ctx) => route.userOf(ctx, accountKey),
        answerFirst: o.answerFirst,
        morePending: o.morePending,
        records: options.records,
        now,
      }),
  }
}
