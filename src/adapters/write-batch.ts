/**
 * Answers produced during one turn of the event loop are written together at its end (the
 * "check" phase, after the turn's file writes: src/pipeline/turn-end.ts) instead of one by one
 * as each is ready.
 *
 * Why: every answer written to a sleeping client wakes it, and the writer pays that wake-up
 * in the kernel: on a 2-core VM it cost more CPU per request than wxmp's whole pipeline. Back
 * to back, only the first write of a turn finds the client (nginx, the load balancer) asleep.
 * The delay is at most the rest of the current turn, in which the server was busy anyway.
 */
import { withTurnAnswers } from '../pipeline/turn-end.js'

export interface WriteBatch {
  /** Runs `write` at the end of this turn, after every write queued before it. */
  queue(write: () => void): void
}

export function createWriteBatch(schedule: (flush: () => void) => void = withTurnAnswers): WriteBatch {
  let pending: Array<() => void> = []
  const flush = () => {
    const writes = pending
    pending = []
    for (const write of writes) {
      try {
        write()
      } catch {
        // a write to a socket that died meanwhile must not cost the others their answer
      }
    }
  }
  return {
    queue(write) {
      pending.push(write)
      if (pending.length === 1) schedule(flush)
    },
  }
}
