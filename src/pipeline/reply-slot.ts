import { WxmpError } from '../errors.js'
import type { Reply } from '../reply/types.js'

/**
 * Where a handler's reply goes. One reply per message. Until the deadline a reply is passive
 * (it becomes the HTTP response); after `expire()` the HTTP answer has gone out (`success` or
 * an interim) and the reply must travel another way (customer-service API), decided by the
 * core. `defer()` is the handler saying "answer WeChat now, my reply comes later".
 */
export class ReplySlot {
  private value: Reply | undefined
  private expired = false
  private deferred = false
  private interim: string | undefined
  /** A reply was given after the window closed (it went the late way). */
  private lateClaimed = false
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

  /**
   * Writes the reply: true when it is passive; false when the window has closed and the
   * caller must deliver it late. A second reply for the same message throws.
   */
  write(reply: Reply): boolean {
    const given = this.value ?? (this.lateClaimed ? { type: 'late' } : undefined)
    if (given !== undefined) {
      throw new WxmpError('WX_ERR_REPLY_TWICE', `a ${given.type} reply was already given for this message; a reply is one message — use ctx.send() to push more`)
    }
    if (this.expired) {
      this.lateClaimed = true
      return false
    }
    this.value = reply
    this.signal('written')
    return true
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
