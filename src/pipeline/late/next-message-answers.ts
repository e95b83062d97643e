/**
 * Answers for a user's next message, queued from outside a handler: an operator answering by
 * hand in the console, a script. They join the very queue the bot's own late answers use, so
 * whichever instance receives the user's next message hands the answer out as its passive
 * reply before anything else runs (docs/deadline.md, pending answers). The account's
 * customer-service permission, as the bot knows it (configuration, or a 48001 remembered in the
 * shared store), says whether an answer should wait for the next message at all.
 *
 * The delivering instance may be another one, so what became of an answer (delivered, or
 * found expired) is written to the shared store under a receipt name the caller picks.
 *
 * @example
 * const answers = bot.nextMessage
 * if ((await answers.way()).way === 'next-message') {
 *   const { expiresAt } = await answers.queue({ openid }, { type: 'text', content: '您好' }, `console:${id}`)
 * }
 * const receipts = await answers.receipts([`console:${id}`]) // Map { 'console:7' => { status: 'delivered', at } }
 */
import { WxmpError } from '../../errors.js'
import type { Reply } from '../../reply/types.js'
import type { PendingAnswers, PendingReceipt } from './pending-answers.js'
import { userQueue } from './pending-route.js'
import { kindMaySendCustomerService, type AccountKind, type CustomerServicePermission } from './permission.js'

/**
 * How an answer to a user goes now: through customer service (also when the permission is not
 * known yet: the first 48001 teaches it), or on the user's next message because no API client
 * is configured, the configured account kind has no permission, or WeChat answered 48001.
 */
export type AnswerWay = { way: 'customer-service' } | { way: 'next-message'; because: 'no-api' | 'account-kind' | 'learned-48001' }

export interface NextMessageAnswersOptions {
  pending: PendingAnswers
  permission: CustomerServicePermission
  /** The account's AppID ('' without one: the queue is then named by the account's 原始ID). */
  accountKey: string
  accountKind: AccountKind | undefined
  hasApi(): boolean
  /** How long an answer waits (the bot's pendingAnswers.ttlMs). */
  ttlMs: number
  /** Only this text fetches an answer; undefined: any message does. */
  keyword: string | undefined
  now: () => number
}

export interface QueuedAnswer {
  /** Unix ms after which the answer is no longer handed out. */
  expiresAt: number
  /** Answers already waiting for this user: this one comes after them, one per message. */
  ahead: number
}

export class NextMessageAnswers {
  constructor(private readonly o: NextMessageAnswersOptions) {}

  /** How long an answer waits, and the word that fetches it (undefined: any message). */
  get settings(): { ttlMs: number; keyword: string | undefined } {
    return { ttlMs: this.o.ttlMs, keyword: this.o.keyword }
  }

  /** How an answer should go now; reads what other instances learned first. */
  async way(): Promise<AnswerWay> {
    if (!this.o.hasApi()) return { way: 'next-message', because: 'no-api' }
    await this.o.permission.ready()
    if (this.o.permission.state() !== 'no') return { way: 'customer-service' }
    const kind = this.o.accountKind
    return { way: 'next-message', because: kind !== undefined && !kindMaySendCustomerService(kind) ? 'account-kind' : 'learned-48001' }
  }

  /** WeChat refused a customer-service message with 48001: remembered for every instance, as a late reply's 48001 is. */
  learnedNoPermission(): void {
    this.o.permission.learnedNo('customer-service')
  }

  /**
   * Queues `reply` for the user's next message. `accountId` (the message's ToUserName) is
   * needed only when the bot has no AppID. `receipt` names the answer for `receipts()`.
   */
  async queue(to: { openid: string; accountId?: string }, reply: Reply, receipt: string): Promise<QueuedAnswer> {
    if (this.o.accountKey === '' && (to.accountId ?? '') === '') throw new WxmpError('WX_ERR_CONFIG', 'a pending answer needs the AppID (WECHAT_APPID) or the account id the user wrote to')
    const user = userQueue(this.o.accountKey, to.accountId ?? '', to.openid)
    const now = this.o.now()
    const { count } = await this.o.pending.peek(user)
    const expiresAt = now + this.o.ttlMs
    await this.o.pending.enqueue(user, [{ reply, msgKey: receipt, receivedAt: now, remaining: 0, createdAt: now, expiresAt, receipt }])
    return { expiresAt, ahead: count }
  }

  /** What became of answers queued with these receipt names; an absent one is still waiting (or expired unseen: compare its expiresAt). */
  receipts(names: readonly string[]): Promise<Map<string, PendingReceipt>> {
    return this.o.pending.receipts(names)
  }
}
