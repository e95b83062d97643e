import type { OutboundResponse } from './request.js'

/**
 * A message this process is handling: its answer, once known, and whether it is in its retry
 * window. The promise of the answer is made only when another delivery waits for it (rare: a
 * retry while the first runs), not for every message.
 */
export class Running {
  window = false
  notice: string | undefined = undefined
  /** Set while the window mark is being written: publishing waits for it, so the writes stay in order. */
  marking: Promise<void> | undefined = undefined
  private settled = false
  private response: OutboundResponse | undefined = undefined
  private waiters: Promise<OutboundResponse | undefined> | undefined = undefined
  private resolveWaiters: ((response: OutboundResponse | undefined) => void) | undefined = undefined

  constructor(readonly since: number) {}

  /** Resolves with the answer (undefined when the run failed or gave none). */
  get answer(): Promise<OutboundResponse | undefined> {
    if (this.settled) return Promise.resolve(this.response)
    this.waiters ??= new Promise((resolve) => (this.resolveWaiters = resolve))
    return this.waiters
  }

  /** The first call decides. */
  settle(response: OutboundResponse | undefined): void {
    if (this.settled) return
    this.settled = true
    this.response = response
    this.resolveWaiters?.(response)
  }
}
