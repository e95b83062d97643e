import { WxmpError } from '../errors.js'
import type { Reply } from '../reply/types.js'

/**
 * Where a handler's passive reply goes. Written at most once. Until the deadline a reply is
 * passive (it becomes the HTTP response); after `expire()` the HTTP answer has gone out as
 * `success` and a reply must travel another way (customer-service API), decided by the core.
 */
export class ReplySlot {
  private value: Reply | undefined
  private expired = false
  private notify!: () => void
  /** Resolves as soon as a passive reply is written. */
  readonly written: Promise<void> = new Promise((resolve) => {
    this.notify = resolve
  })

  get reply(): Reply | undefined {
    return this.value
  }

  get isOpen(): boolean {
    return this.value === undefined && !this.expired
  }

  get isExpired(): boolean {
    return this.expired
  }

  /** Writes the passive reply; false when the deadline already passed (caller goes late). */
  write(reply: Reply): boolean {
    if (this.value !== undefined) {
      throw new WxmpError('WX_ERR_REPLY_TWICE', `a ${this.value.type} reply was already given for this message; a passive reply is one message — use ctx.send() to push more`)
    }
    if (this.expired) return false
    this.value = reply
    this.notify()
    return true
  }

  /** Closes the slot at the deadline (or when handlers finished without replying). */
  expire(): void {
    this.expired = true
  }
}
