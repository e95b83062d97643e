/**
 * WeChat's three deliveries as one ~15-second window, seen from a delivery: one left unanswered
 * is held open until WeChat has certainly given up on it (then closed with `success`, which
 * reaches nobody), and the last one, when its budget runs out with no reply, answers the
 * pending notice, unless the reply was published meanwhile: the first answer published wins,
 * atomically across instances (the deduper's `publish`).
 */
import { deadlines } from '../deadline-queue.js'
import type { Deduper } from '../dedupe.js'
import { successResponse, type OutboundResponse } from '../request.js'
import type { PendingRoute } from './pending-route.js'

/** Past WeChat's 5 s with a wide margin: WeChat's clock started before the request arrived, so by then it has moved on. */
export const LAPSE_HOLD_MS = 8000

export interface RetryWindowOptions {
  deduper: Deduper
  route: PendingRoute
  holdMs: number
  now: () => number
}

export class RetryWindow {
  constructor(private readonly o: RetryWindowOptions) {}

  /** A delivery left unanswered on purpose: `success` once WeChat has given up on it (it never reaches WeChat). */
  hold(arrivedAt: number): Promise<OutboundResponse> {
    const wait = Math.max(0, arrivedAt + this.o.holdMs - this.o.now())
    return new Promise((resolve) => deadlines.schedule(wait, () => resolve(successResponse())))
  }

  /**
   * The last delivery's budget ran out in the retry window: the notice becomes the message's
   * answer (the user is told to come back; the reply will wait for their next message), unless
   * the reply won the race. `notice` is undefined for triggers that cannot show one (then `success`).
   */
  async last(msgKey: string, user: string, notice: OutboundResponse | undefined): Promise<OutboundResponse> {
    if (notice === undefined) return (await this.o.deduper.publish(msgKey, successResponse())).response
    // said before the notice goes out, so the user's next message already waits for the answer
    await this.o.route.busy(user, msgKey, BUSY_MS).catch(() => undefined)
    const { won, response } = await this.o.deduper.publish(msgKey, notice)
    if (!won) await this.o.route.clear(user, msgKey).catch(() => undefined)
    return response
  }
}

/** How long the user's next message waits for an answer still being prepared, at most. */
export const BUSY_MS = 10 * 60_000
