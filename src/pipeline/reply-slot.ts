import { WxmpError } from '../errors.js'
import type { Reply } from '../reply/types.js'

/**
 * How a written reply travels: `passive` (it is the HTTP answer), `late` (the window closed: the
 * core delivers it another way), `after-return` (late, and the handlers had already returned:
 * a reply nobody awaited, usually a forgotten `await`).
 */
export type WriteResult = 'passive' | 'late' | 'after-return'

/**
 * Where a handler's reply goes. One reply per message. Until the deadline a reply is passive
 * (it becomes the HTTP response); after `expire()` the HTTP answer has gone out (`success`, an
 * interim, a notice) or is left to WeChat's next delivery, and the reply must travel another way
 * (customer service, a later delivery, the user's next message), decided by the core.
 * `defer()` is the handler saying "answer WeChat now, my reply comes later".
 */
export class ReplySlot {
  private value: Reply | undefined
  private expired = false
  private deferred = false
  private interim: string | undefined
  /** A reply was given after the window closed (it went the late way). */
  private lateClaimed = false
  /** The passive reply was given by the core (a pending answer): the handler's own reply goes late. */
  private handedOver = false
  private returned = false
  private signalled: 'written' | 'deferred' | undefined
  private notify: ((how: 'written' | 'deferred') => void) | undefined
  private readyPromise: Promise<'written' | 'deferred'> | undefined

  /**
   * Resolves as soon as the HTTP answer can go: a passive reply was written, or the handler
   * deferred. Made on first use: a handler that replies at once never needs it.
   */
  get ready(): Promise<'written' | 'deferred'> {
    this.readyPromise ??=
      this.signalled !== undefined
        ? Promise.resolve(this.signalled)
        : new Promise((resolve) => {
            this.notify = resolve
          })
    return this.readyPromise
  }

  private signal(how: 'written' | 'deferred'): void {
    if (this.signalled !== undefined) return
    this.signalled = how
    this.notify?.(how)
  }

  get reply(): Reply | undefined {
    return this.value
  }

  get isOpen(): boolean {
    return this.value === undefined && !this.expired
  }

  get isExpired(): boolean {
    return this.expired
  }

  /** True when the handler asked to answer WeChat before its reply was ready (`ctx.replyLater()`). */
  get isDeferred(): boolean {
    return this.deferred
  }

  /** The text the handler gave `ctx.replyLater()` to answer with now, if any. */
  get deferredInterim(): string | undefined {
    return this.interim
  }

  /** True once the handlers have returned (or thrown). */
  get handlersReturned(): boolean {
    return this.returned
  }

  /**
   * Writes the reply: `passive` when it is the HTTP answer; `late` (or `after-return`) when the
   * window has closed and the caller must deliver it another way. A second reply throws.
   */
  write(reply: Reply): WriteResult {
    const given = (this.handedOver ? undefined : this.value) ?? (this.lateClaimed ? { type: 'late' } : undefined)
    if (given !== undefined) {
      throw new WxmpError('WX_ERR_REPLY_TWICE', `a ${given.type} reply was already given for this message; a reply is one message — use ctx.send() to push more`)
    }
    if (this.expired || this.handedOver) {
      this.lateClaimed = true
      return this.returned ? 'after-return' : 'late'
    }
    this.value = reply
    this.signal('written')
    return 'passive'
  }

  /**
   * The core answers this message itself (a pending answer of an earlier message) and lets the
   * handlers run on: their reply, if any, goes the late way.
   */
  answerFirst(reply: Reply): void {
    if (this.value !== undefined || this.expired) throw new WxmpError('WX_ERR_REPLY_TWICE', 'the pending answer must be the first reply to this message')
    this.value = reply
    this.handedOver = true
    this.signal('written')
  }

  /** The handlers have returned: a reply from now on was not awaited by them. */
  markReturned(): void {
    this.returned = true
  }

  /** Closes the passive window now, before any reply: the core answers WeChat at once (with `interim`, if given). */
  defer(interim?: string): void {
    if (this.value !== undefined) {
      throw new WxmpError('WX_ERR_REPLY_TWICE', `replyLater() after a ${this.value.type} reply: the reply already went out passively`)
    }
    if (this.expired) return
    this.expired = true
    this.deferred = true
    this.interim = interim
    this.signal('deferred')
  }

  /** Closes the slot at the deadline (or when handlers finished without replying). */
  expire(): void {
    this.expired = true
  }
}
