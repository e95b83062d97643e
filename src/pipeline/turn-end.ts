/**
 * The end of an event-loop turn, in two steps that always run in this order: first the file
 * writes that must be on disk before answers leave (the replay and dedup journal, the message
 * log: src/storage/append-log.ts), then the answers themselves (src/adapters/write-batch.ts).
 *
 * Why one scheduler for both: each used to call setImmediate on its own. An answer that became
 * ready only once a file write of the turn had returned (a message-log record must be written
 * before its answer leaves) was queued after the turn's answer flush had already been
 * scheduled or run, so it waited a whole turn more, and its dedup record, stored after that
 * write, one more: three turns per request with the message log on, against one without. Every
 * request lived three times as long (more objects alive at each scavenge, promoted, collected
 * again) and the tail latency tripled.
 *
 * Here both steps are scheduled together (two setImmediate callbacks, the writes first), so an
 * answer that becomes ready in the microtasks after the writes (promises they resolved) still
 * goes out in the same turn: Node runs the microtask queue between two immediate callbacks.
 * Something queued after its step has run goes to the next turn.
 */

interface Turn {
  writes: Array<() => void>
  answers: Array<() => void>
  /** Resolved once the turn's writes have run (made when someone first waits for it). */
  written?: { promise: Promise<void>; resolve(): void }
}

/**
 * The turn whose writes have not run yet, and the one whose answers have not. They differ only
 * in the moment between a turn's two steps when writes are queued for the next turn: answers
 * queued then still go out with this turn's (they were ready before those writes were asked for).
 */
let writesTurn: Turn | undefined
let answersTurn: Turn | undefined

function schedule(): Turn {
  const turn: Turn = { writes: [], answers: [] }
  setImmediate(runWrites, turn)
  setImmediate(runAnswers, turn)
  return turn
}

function runWrites(turn: Turn): void {
  if (writesTurn === turn) writesTurn = undefined
  for (const write of turn.writes) run(write)
  // its waiters go on in the microtasks before this turn's answers (see the header)
  turn.written?.resolve()
}

function runAnswers(turn: Turn): void {
  // answers from now on go with the next turn's writes, when some are already queued
  if (answersTurn === turn) answersTurn = writesTurn
  for (const answer of turn.answers) run(answer)
}

function run(step: () => void): void {
  try {
    step()
  } catch {
    // each step handles its own failures (a file write rejects its waiters, a dead socket is
    // skipped); one that throws anyway must not cost the others their turn
  }
}

/** Runs `write` at the end of this turn, before the turn's answers are written. */
export function beforeAnswersLeave(write: () => void): void {
  if (writesTurn === undefined) {
    writesTurn = schedule()
    answersTurn ??= writesTurn
  }
  writesTurn.writes.push(write)
}

/**
 * Runs `answer` at the end of this turn, after the turn's file writes and the microtasks they
 * released (or at the end of the next turn, when this turn's answers have already gone).
 */
export function withTurnAnswers(answer: () => void): void {
  if (answersTurn === undefined) {
    answersTurn = writesTurn ?? schedule()
    writesTurn ??= answersTurn
  }
  answersTurn.answers.push(answer)
}

/**
 * Resolves once this turn's file writes have run (each write step handles and reports its own
 * failure: this never rejects); undefined when no write is queued for this turn. One promise per
 * turn, shared by every answer that waits for the turn's writes, instead of one per request.
 */
export function afterTurnWrites(): Promise<void> | undefined {
  const turn = writesTurn
  if (turn === undefined) return undefined
  if (turn.written === undefined) {
    let resolve!: () => void
    const promise = new Promise<void>((yes) => (resolve = yes))
    turn.written = { promise, resolve }
  }
  return turn.written.promise
}
