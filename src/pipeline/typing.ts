/**
 * "typing…" (客服输入状态) while a slow handler runs: shown once the handler
 * has run `afterMs`, re-sent every 15 s (the state lasts 15 s and cannot be renewed sooner),
 * never beyond `maxMs` after the message arrived (WeChat wants an interaction within the last
 * 30 s anyway). A message to the user ends the state, so the indicator pauses around sends
 * and starts again afterwards.
 *
 * Typing is decoration: no failure here may touch the reply. 45081 (already typing) counts
 * as shown; 48001 (no customer-service permission) switches typing off for the whole account;
 * anything else ends typing for this message, with one debug line.
 */
import type { Logger } from '../logger.js'

/** How long WeChat keeps the state (and refuses a renewal: 45081). */
export const TYPING_STATE_MS = 15_000
/** No typing this long after the message arrived: WeChat requires an interaction within 30 s. */
export const TYPING_MAX_MS = 60_000

const ALREADY_TYPING = 45081
const NO_PERMISSION = 48001

/** Account-wide typing state shared by every message of one bot. */
export interface TypingAccount {
  /** Set on 48001: the account may not use the customer-service API, so nobody tries again. */
  disabled: boolean
}

export interface TypingIndicatorOptions {
  /** Sends `Typing` (true) or `CancelTyping` (false). */
  send(on: boolean): Promise<unknown>
  /** Checked before every Typing: false when it is not (or no longer) wanted for this message. */
  wanted(): boolean
  account: TypingAccount
  /** Called once per indicator when WeChat answers 48001 (the caller logs it once per account). */
  onNoPermission(err: unknown): void
  /** Called when WeChat accepted a Typing (the account has customer-service permission). */
  onAllowed?(): void
  log: Logger
  /** Unix ms when the message arrived (delays count from here). */
  startedAt: number
  now: () => number
  everyMs?: number
  maxMs?: number
}

/**
 * @example
 * const typing = new TypingIndicator({ send: (on) => api.customerService.typing(openid, on), … })
 * typing.schedule(1000)          // shown if still running 1 s after arrival
 * await typing.pause()           // before a customer-service message
 * typing.resume(1000)            // still working after it
 * await typing.stop()            // handler finished
 */
export class TypingIndicator {
  private timer: NodeJS.Timeout | undefined
  private inflight: Promise<void> | undefined
  private afterMs: number | false = false
  private anchor: number
  private stopped = false
  private held = false
  private sending = false
  private failed = false
  /** Typing was accepted (or was already on) and no message has ended it since. */
  private showing = false
  private readonly everyMs: number
  private readonly maxMs: number

  constructor(private readonly options: TypingIndicatorOptions) {
    this.anchor = options.startedAt
    this.everyMs = options.everyMs ?? TYPING_STATE_MS
    this.maxMs = options.maxMs ?? TYPING_MAX_MS
  }

  /** True while the user is probably seeing "typing…". */
  get shown(): boolean {
    return this.showing
  }

  /** (Re)sets the delay, counted from the message's arrival; no effect once typing is on. */
  schedule(afterMs: number | false): void {
    this.afterMs = afterMs
    if (this.showing || this.stopped || this.held || this.sending) return
    this.arm(afterMs === false ? undefined : this.anchor + afterMs)
  }

  /** Waits for a Typing request in flight (so it cannot land after a message) and holds further ones. */
  async pause(): Promise<void> {
    this.held = true
    this.clear()
    await this.inflight
  }

  /** A message went out (it ended the state): show typing again `afterMs` from now if still wanted. */
  resume(): void {
    this.showing = false
    this.held = false
    if (this.stopped || this.afterMs === false) return
    this.anchor = this.options.now()
    this.arm(this.anchor + this.afterMs)
  }

  /** A message went out and the handler is done with typing: clear the state without a request. */
  messageSent(): void {
    this.showing = false
  }

  /** No more typing for this message; with `cancel`, a state still showing is cleared (CancelTyping). */
  async stop(options: { cancel?: boolean } = {}): Promise<void> {
    this.stopped = true
    this.clear()
    await this.inflight
    if (options.cancel === true && this.showing && !this.failed && !this.options.account.disabled) {
      this.showing = false
      await this.options.send(false).catch((err: unknown) => this.options.log.debug({ err: errorText(err) }, 'CancelTyping failed (harmless: the state ends by itself within 15 s)'))
    }
  }

  private arm(at: number | undefined): void {
    this.clear()
    if (at === undefined) return
    const delay = Math.max(0, at - this.options.now())
    this.timer = setTimeout(() => this.fire(), delay)
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private fire(): void {
    this.timer = undefined
    if (this.sending || this.stopped || this.held || this.failed || this.options.account.disabled) return
    if (this.options.now() - this.options.startedAt > this.maxMs || !this.options.wanted()) return
    this.sending = true
    this.inflight = this.options
      .send(true)
      .then(
        () => {
          this.options.onAllowed?.()
          this.shownNow()
        },
        (err: unknown) => this.refused(err),
      )
      .finally(() => {
        this.sending = false
      })
  }

  private shownNow(): void {
    this.showing = true
    if (!this.stopped && !this.held && this.timer === undefined) this.arm(this.options.now() + this.everyMs)
  }

  private refused(err: unknown): void {
    const errcode = (err as { errcode?: unknown } | null)?.errcode
    if (errcode === ALREADY_TYPING) return this.shownNow()
    if (errcode === NO_PERMISSION) {
      this.options.account.disabled = true
      this.options.onNoPermission(err)
      return
    }
    // window closed, user gone, network down: typing is not worth a second try for this message
    this.failed = true
    this.options.log.debug({ errcode, err: errorText(err) }, 'typing indicator not shown; the reply is not affected')
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
