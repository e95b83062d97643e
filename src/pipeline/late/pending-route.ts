/**
 * Turning a reply into pending answers: a long text becomes pages (each with its footer), any
 * other reply one answer; each carries what the message log needs to say, later, that it was
 * delivered (or expired).
 */
import type { Context } from '../../context.js'
import type { Reply } from '../../reply/types.js'
import { pageText, PASSIVE_TEXT_LIMIT_BYTES } from './paging.js'
import type { PendingAnswers, PendingItem } from './pending-answers.js'
import type { PendingTexts } from './texts.js'

/** What the origin message's log row says once its last pending page is delivered (or expires). */
export interface PendingLog {
  /** How the answer's first part left: passively, as customer-service messages, or not before the next message. */
  via: 'passive' | 'customer-service' | 'next-message'
  replyXml: string | undefined
}

export interface PendingRouteOptions {
  pending: PendingAnswers
  texts: PendingTexts
  ttlMs: number
  now: () => number
}

/** A page with its footer on a line of its own (always one "\n" before it, so the page can be read back exactly). */
export function withFooter(page: string, note: string): string {
  return note === '' ? page : `${page}\n${note}`
}

export class PendingRoute {
  constructor(private readonly o: PendingRouteOptions) {}

  /** The user's queue name: the account and the OpenID. */
  userOf(ctx: Context, accountKey: string): string {
    return userQueue(accountKey, ctx.accountId, ctx.openid)
  }

  /** A text longer than one passive reply as pages (without footers; room is kept for them); any other reply as is. */
  split(reply: Reply): Reply[] {
    if (reply.type !== 'text' || Buffer.byteLength(reply.content) <= PASSIVE_TEXT_LIMIT_BYTES) return [reply]
    return pageText(reply.content, { footer: this.o.texts.footer }).pages.map((content) => ({ type: 'text', content }))
  }

  /** A page as the user sees it: with the footer when `left` pages follow it in the queue. */
  shown(page: Reply, left: number): Reply {
    if (page.type !== 'text' || left <= 0) return page
    return { type: 'text', content: withFooter(page.content, this.o.texts.footer(left)) }
  }

  /** The answer for `msgKey` is no longer being prepared (it was queued, or there is none). */
  clear(user: string, msgKey: string): Promise<void> {
    return this.o.pending.clearBusy(user, msgKey)
  }

  /** Says the answer for `msgKey` is being prepared, for at most `forMs`. */
  busy(user: string, msgKey: string, forMs: number): Promise<void> {
    return this.o.pending.markBusy(user, msgKey, this.o.now() + forMs)
  }

  /** Queues pages (already split) for the user's next messages; the last one carries the log entry. */
  async enqueue(ctx: Context, user: string, pages: Reply[], origin: { msgKey: string; recordId: string | number | undefined; log: PendingLog }): Promise<void> {
    const now = this.o.now()
    const items: PendingItem[] = pages.map((page, i) => {
      const remaining = pages.length - 1 - i
      return {
        reply: this.shown(page, remaining),
        msgKey: origin.msgKey,
        recordId: origin.recordId,
        receivedAt: ctx.request.receivedAt,
        remaining,
        createdAt: now,
        expiresAt: now + this.o.ttlMs,
        ...(remaining === 0 ? { log: origin.log } : {}),
      }
    })
    await this.o.pending.enqueue(user, items)
  }
}

/** A user's queue name from the account key (AppID, else the 原始ID) and the OpenID. */
export function userQueue(accountKey: string, accountId: string, openid: string): string {
  return `${accountKey || accountId}:${openid}`
}
