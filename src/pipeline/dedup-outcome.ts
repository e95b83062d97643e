/**
 * What a message's first delivery hands the deduper (src/pipeline/dedupe.ts) and what each
 * delivery gets back from it.
 */
import type { OutboundResponse } from './request.js'

/** Which of WeChat's deliveries this is, and when the first one arrived. */
export interface DeliveryInfo {
  /** 1 for the first delivery; 2 or 3 for WeChat's retries. */
  number: number
  /** Unix ms when the message's first delivery arrived (its claim). */
  firstArrival: number
}

/**
 * Returned by a first delivery's work instead of a response: this delivery is left unanswered
 * (WeChat will retry), and the message's answer is published later with `publish()`. `notice`
 * is what the last delivery answers if the reply is still not ready then.
 */
export interface Lapse {
  readonly lapse: true
  readonly notice: string | undefined
}
/**
 * Returned by a first delivery's work when its response is ready but may leave only once
 * `until` has settled (the message log's record of it is written; it never rejects). On a
 * process-local store the deduper stores the response at once, in the same turn as the
 * record, and hands it back at once with the gate to wait for (`until` of the outcome): both
 * writes usually go out in the same turn's write step, so the gate is one promise for the whole
 * turn (src/pipeline/turn-end.ts), not one per request. A retry of the message answered
 * meanwhile waits for the gate too.
 */
export interface GatedAnswer {
  readonly response: OutboundResponse
  readonly until: Promise<unknown>
}
export type FirstAnswer = OutboundResponse | Lapse | GatedAnswer
export function isLapse(answer: FirstAnswer): answer is Lapse {
  return (answer as Partial<Lapse>).lapse === true
}
export function isGated(answer: FirstAnswer): answer is GatedAnswer {
  return (answer as Partial<GatedAnswer>).until !== undefined
}

export type DedupOutcome =
  /**
   * This delivery ran the handlers and answers with `response`, once `until` (when set) has
   * settled: the writes its answer waits for (see GatedAnswer; it never rejects). `tookOver`
   * names a dead owner whose claim it replaced.
   */
  | { kind: 'first'; response: OutboundResponse; delivery: DeliveryInfo; tookOver?: string; until?: Promise<unknown> }
  /** This delivery ran the handlers and is left unanswered (the retry window). */
  | { kind: 'lapse'; delivery: DeliveryInfo; tookOver?: string }
  /** A retry, answered with the message's answer. */
  | { kind: 'retry'; response: OutboundResponse; delivery: DeliveryInfo }
  /** A retry whose own budget ran out before the message had an answer; `window` when the message is in its retry window. */
  | { kind: 'retry-timeout'; window: boolean; notice?: string | undefined; delivery: DeliveryInfo }

/** What `publish` decided: whether this answer became the message's answer, and the answer. */
export interface Published {
  won: boolean
  response: OutboundResponse
}
