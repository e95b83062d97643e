/**
 * What one request comes to, for metrics, tests and the bot's own answers: the outcome line
 * (src/bot.ts emits it) and the answer the pipeline settled on.
 */
import type { LateListenerEvent } from './pipeline/late-delivery.js'
import type { OutboundResponse } from './pipeline/request.js'

/** One line per request for metrics and tests: what happened and how long it took. */
export interface RequestOutcome {
  requestId: string
  status: number
  /**
   * `verified` (GET echo), `replied`, `no-reply`, `deadline` (answered success, the interim or the
   * pending notice; handler still running), `lapsed` (left unanswered on purpose: the retry
   * window), `duplicate` (a retry), `rejected`.
   */
  kind: 'verified' | 'replied' | 'no-reply' | 'deadline' | 'lapsed' | 'duplicate' | 'rejected'
  code?: string
  /** The precise code when the answer shows a broader one (failures behind msg_signature): for logs and metrics only. */
  reason?: string
  msgType?: string
  encrypted?: boolean
  durationMs: number
}
export type OutcomeListener = (outcome: RequestOutcome) => void
export type LateListener = (event: LateListenerEvent) => void

export type MaybePromise<T> = T | Promise<T>

/** The answer to one request and what its outcome line says about it. */
export interface Processed {
  response: OutboundResponse
  outcome: Pick<RequestOutcome, 'kind' | 'msgType' | 'encrypted'>
  /** The answer leaves once this settles (it never rejects): the writes it waits for (the deduper's GatedAnswer). */
  until?: Promise<unknown> | undefined
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
