/**
 * An operator's answer by hand, the way the account allows: through customer service (客服消息)
 * when it may send them, else as a pending answer that the user's next message gets as its
 * passive reply (the core's own queue: bot.nextMessage). A customer-service answer refused with
 * 48001 teaches the account's permission (for the bot's late replies too) and waits for the
 * next message instead of being lost.
 *
 * A pending answer's fate is learned from its receipt in the shared store (the instance that
 * delivers it may be another one) whenever the console looks: the conversation is opened, or
 * the live feed sees the user write again.
 */
import type { WechatApi } from '../api/client.js'
import { WechatApiError } from '../api/errors.js'
import type { Logger } from '../logger.js'
import type { AnswerWay, NextMessageAnswers } from '../pipeline/late/next-message-answers.js'
import type { Reply } from '../reply/types.js'
import { apiFailure, replyStatusFor, scrub } from './api-errors.js'
import type { Conversations, OperatorReply } from './conversations.js'
import { ConsoleHttpError } from './http.js'

/** What the answer box shows: the way, and for pending answers how long they wait and what fetches them. */
export type WayView = AnswerWay & { ttlMs: number; keyword: string | null }

export interface AnswerResult {
  reply: OperatorReply
  /** Set when the answer did not go out (the reply row says why too). */
  failure?: ConsoleHttpError
}

export interface OperatorAnswersOptions {
  conversations: Conversations
  nextMessage: Pick<NextMessageAnswers, 'way' | 'queue' | 'receipts' | 'learnedNoPermission' | 'settings'>
  api: () => WechatApi | undefined
  logger: Pick<Logger, 'warn'>
  now: () => number
}

export class OperatorAnswers {
  constructor(private readonly o: OperatorAnswersOptions) {}

  async way(): Promise<WayView> {
    const { ttlMs, keyword } = this.o.nextMessage.settings
    return { ...(await this.o.nextMessage.way()), ttlMs, keyword: keyword ?? null }
  }

  /**
   * Sends `reply` to the user now (customer service) or queues it for their next message.
   * `upload` turns an image into a media id first (it needs the API whichever way it goes).
   */
  async answer(openid: string, operator: string, content: { msgType: 'text'; text: string } | { msgType: 'image'; upload: (api: WechatApi) => Promise<string> }): Promise<AnswerResult> {
    const way = await this.o.nextMessage.way()
    const api = this.o.api()
    if (api === undefined && (way.way === 'customer-service' || content.msgType === 'image')) {
      throw new ConsoleHttpError(409, 'WX_ERR_CONFIG', 'the WeChat API is off: set WECHAT_APPID and WECHAT_APPSECRET', { reason: 'no-api' })
    }
    const base = { openid, operator, msgType: content.msgType, content: content.msgType === 'text' ? content.text : null, mediaId: null as string | null, sentAt: this.o.now() }
    const replyOf = (): Reply => (content.msgType === 'text' ? { type: 'text', content: content.text } : { type: 'image', mediaId: base.mediaId! })
    try {
      if (content.msgType === 'image') base.mediaId = await content.upload(api!)
      if (way.way === 'next-message') return { reply: await this.queue(base, replyOf(), null) }
      await api!.customerService.sendReply(openid, replyOf())
      return { reply: await this.o.conversations.recordReply({ ...base, via: 'customer-service', status: 'sent', errcode: null, error: null }) }
    } catch (err) {
      const errcode = err instanceof WechatApiError ? err.errcode : null
      const ready = content.msgType === 'text' || base.mediaId !== null
      if (errcode === 48001 && ready && way.way === 'customer-service') {
        // no customer-service permission: remembered for every instance, and this answer waits instead
        this.o.nextMessage.learnedNoPermission()
        return { reply: await this.queue(base, replyOf(), 48001) }
      }
      const failure = apiFailure(err)
      const error = scrub(err instanceof Error ? err.message : String(err)).slice(0, 1000)
      const reply = await this.o.conversations.recordReply({ ...base, via: 'customer-service', status: replyStatusFor(errcode ?? undefined), errcode, error })
      return { reply, failure }
    }
  }

  /**
   * Pending answers of these users (of everyone when undefined) whose fate is now known
   * (delivered, or expired), moved on in the table; returns the ones that changed.
   */
  async settle(openids?: readonly string[]): Promise<OperatorReply[]> {
    const waiting = await this.o.conversations.pendingReplies(openids)
    if (waiting.length === 0) return []
    const receipts = await this.o.nextMessage.receipts(waiting.map((r) => receiptOf(r.id)))
    const now = this.o.now()
    const changed: OperatorReply[] = []
    for (const reply of waiting) {
      const receipt = receipts.get(receiptOf(reply.id))
      // an answer not taken before it expired can no longer be handed out: expired, receipt or not
      const status = receipt?.status === 'delivered' ? 'sent' : receipt?.status === 'expired' || (reply.expiresAt ?? Infinity) <= now ? 'expired' : undefined
      if (status === undefined) continue
      if (await this.o.conversations.settleReply(reply.id, status)) changed.push({ ...reply, status })
    }
    return changed
  }

  /** Records the answer as pending, then queues it under its row's id. */
  private async queue(base: Omit<OperatorReply, 'id' | 'via' | 'status' | 'errcode' | 'error'>, reply: Reply, errcode: number | null): Promise<OperatorReply> {
    const row = await this.o.conversations.recordReply({ ...base, via: 'next-message', status: 'pending', errcode, error: null })
    try {
      const accountId = await this.o.conversations.accountIdOf(base.openid)
      await this.o.nextMessage.queue({ openid: base.openid, ...(accountId === undefined ? {} : { accountId }) }, reply, receiptOf(row.id))
      return row
    } catch (err) {
      const error = scrub(err instanceof Error ? err.message : String(err)).slice(0, 1000)
      this.o.logger.warn({ code: 'WX_ERR_STORAGE', err: error, openid: base.openid }, 'console: an answer could not be queued for the next message')
      await this.o.conversations.settleReply(row.id, 'failed', error)
      return { ...row, status: 'failed', error }
    }
  }
}

/** The receipt name of an operator's pending answer (the shared store is already per account). */
function receiptOf(replyId: number): string {
  return `console:${replyId}`
}
