/**
 * Many requests' deadlines on one Node timer. A `setTimeout` per request costs a Timeout
 * object, a timer-list insert and an unlink when the handler answers in time, which is nearly
 * always. Here a deadline is a small node in one list ordered by due time, unlinked in O(1)
 * when cancelled; one timer is armed for the earliest deadline, and none while the list is
 * empty (so an idle process can exit at once, as with clearTimeout).
 *
 * Time is real time (performance.now and setTimeout) unless a test injects its own clock and
 * timer; the bot's injectable `now` only computes how long each budget is.
 *
 * @example
 * const deadline = deadlines.schedule(4500, () => resolve('deadline'))
 * // … the handler answered in time:
 * deadlines.cancel(deadline)
 */
export interface Deadline {
  readonly due: number
}

interface Entry extends Deadline {
  due: number
  fire: (() => void) | undefined
  prev: Entry | undefined
  next: Entry | undefined
}

export interface DeadlineQueueOptions {
  /** Milliseconds, monotonic. Default performance.now. */
  now?: () => number
  setTimer?: (fire: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
}

export class DeadlineQueue {
  private head: Entry | undefined
  private tail: Entry | undefined
  private timer: unknown
  /** When the armed timer fires (Infinity when none is armed). */
  private armedFor = Infinity
  private readonly now: () => number
  private readonly setTimer: (fire: () => void, ms: number) => unknown
  private readonly clearTimer: (timer: unknown) => void

  constructor(options: DeadlineQueueOptions = {}) {
    this.now = options.now ?? (() => performance.now())
    this.setTimer = options.setTimer ?? ((fire, ms) => setTimeout(fire, ms))
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as NodeJS.Timeout))
  }

  /** Calls `fire` once, `delayMs` from now, unless cancelled first. */
  schedule(delayMs: number, fire: () => void): Deadline {
    const entry: Entry = { due: this.now() + Math.max(0, delayMs), fire, prev: undefined, next: undefined }
    // due times nearly always arrive in order: walk back from the tail
    let after = this.tail
    while (after !== undefined && after.due > entry.due) after = after.prev
    if (after === undefined) {
      entry.next = this.head
      if (this.head !== undefined) this.head.prev = entry
      this.head = entry
    } else {
      entry.prev = after
      entry.next = after.next
      if (after.next !== undefined) after.next.prev = entry
      after.next = entry
    }
    if (entry.next === undefined) this.tail = entry
    if (entry.due < this.armedFor) this.arm(entry.due)
    return entry
  }

  /** Forgets a deadline that has not fired; harmless after it fired or was cancelled. */
  cancel(deadline: Deadline): void {
    const entry = deadline as Entry
    if (entry.fire === undefined) return
    entry.fire = undefined
    this.unlink(entry)
    if (this.head === undefined) this.disarm()
    // a cancelled head leaves the timer armed: it fires early, finds nothing due, re-arms
  }

  /** Deadlines waiting (for tests and metrics). */
  get size(): number {
    let n = 0
    for (let e = this.head; e !== undefined; e = e.next) n++
    return n
  }

  private unlink(entry: Entry): void {
    if (entry.prev === undefined) this.head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === undefined) this.tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = entry.next = undefined
  }

  private arm(due: number): void {
    if (this.timer !== undefined) this.clearTimer(this.timer)
    this.armedFor = due
    this.timer = this.setTimer(() => this.expire(), Math.max(0, Math.ceil(due - this.now())))
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer)
    this.timer = undefined
    this.armedFor = Infinity
  }

  private expire(): void {
    this.timer = undefined
    this.armedFor = Infinity
    // setTimeout counts whole milliseconds: a deadline within the next one is due now
    const now = this.now() + 1
    while (this.head !== undefined && this.head.due <= now) {
      const entry = this.head
      const fire = entry.fire
      entry.fire = undefined
      this.unlink(entry)
      fire?.()
    }
    if (this.head !== undefined) this.arm(this.head.due)
  }
}

/** Every bot's reply deadlines (and the retry window's held deliveries), on one timer in real time. */
export const deadlines = new DeadlineQueue()
