/**
 * The SQLite records' statements, run on a worker thread that owns its own connection to the
 * file (its code: src/records/sqlite-writer-worker.ts). Why: on the event loop, the message
 * log's INSERT, its outcome's UPDATE and the COMMIT of each turn cost more than the whole rest
 * of the request, most of it B-tree pages of the per-follower index written to the WAL (one
 * random page per message), and the WAL checkpoint stalled whichever COMMIT crossed its mark.
 * Here the event loop hands over statements in one message per batch and settles their
 * promises when the worker has committed them; the worker also loads the message log's
 * appended records in bulk and checkpoints the WAL between batches.
 *
 * Same promises as before: the statements of one turn run in one transaction, in order; each
 * promise settles after the COMMIT (so "resolved" still means "committed"); a failing
 * statement rejects only its own promise unless SQLite rolled the whole transaction back.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { WORKER_SOURCE } from './sqlite-writer-worker.js'

export type WriterParam = string | number | null | Uint8Array

/**
 * One statement for the worker: `rows` (all), `value` (first column of the first row),
 * `changes` (run), `exec` (a script), `batch` (steps in a savepoint). A statement is named by
 * the number `statement(sql)` gave it: its text crosses to the worker once.
 */
export type WriterOp =
  | { kind: 'rows' | 'value' | 'changes'; statement: number; params: WriterParam[] }
  | { kind: 'exec'; sql: string }
  | { kind: 'batch'; steps: Array<{ statement: number; params: WriterParam[] }> }
  | IngestOp

/**
 * Load the message log's records in these file ranges (see src/records/logged-recorder.ts):
 * the statements that insert an inbound row, insert one with its outcome, update an outcome
 * by (app_id, create_time, msg_key), update one appended before migration 6 by (app_id,
 * msg_key), and save a file's offset. Its value: `{ rows, updates, bad }`.
 */
export interface IngestOp {
  kind: 'ingest'
  insert: number
  insertDone: number
  outcome: number
  outcomeAlone: number
  state: number
  ranges: Array<[path: string, from: number, to: number]>
}

export type WriterResult = { ok: true; value: unknown } | { ok: false; message: string; code?: string; sql: string }

/**
 * The wire format, flat so that the structured clone has few objects to walk (it is the hand-
 * over's main cost): one array per batch, each op as its kind code, then
 * - rows / value / changes: statement number, parameter count, the parameters;
 * - exec: the script;
 * - batch: step count, then each step's statement number, parameter count, parameters;
 * - ingest: its four statement numbers, range count, then each range's path, from, to.
 * The answer: `values[i]` for op i, and `errors` ([i, message, code, sql]) only when some failed.
 */
/**
 * How much lower the writer thread's priority is than the process's, in nice steps (as
 * `nice -n 10`; 19 is the lowest): low enough that the request thread comes first when the
 * cores are busy, not so low that a saturated machine starves the loads (10 steps lower, the
 * scheduler still gives it about a tenth of a core it contends for).
 */
export const WRITER_NICE = 10

const KIND_CODE = { rows: 0, value: 1, changes: 2, exec: 3, batch: 4, ingest: 5 } as const

/**
 * The client side: `run(ops)` sends one turn's statements and resolves with their results once
 * the worker has committed them. Batches run in the order they are sent.
 */
export class SqliteWriter {
  private readonly worker: Worker
  private readonly waiting = new Map<number, { resolve(results: WriterResult[]): void; reject(err: Error): void }>()
  private nextId = 0
  private failure: Error | undefined
  private readonly statementIds = new Map<string, number>()
  /** Statement texts the worker has not been sent yet. */
  private newTexts: Array<[number, string]> = []
  private readonly exited: Promise<void>

  private constructor(worker: Worker) {
    this.worker = worker
    worker.on('message', (message: { id: number; values: unknown[]; errors?: Array<[number, string, string | undefined, string]> }) => {
      const waiter = this.waiting.get(message.id)
      this.waiting.delete(message.id)
      // Array.from, not map: an exec leaves a hole, and map skips holes
      const results: WriterResult[] = Array.from(message.values, (value) => ({ ok: true, value }))
      for (const [i, text, code, sql] of message.errors ?? []) results[i] = { ok: false, message: text, ...(code === undefined ? {} : { code }), sql }
      waiter?.resolve(results)
      if (this.waiting.size === 0) this.worker.unref()
    })
    const fail = (err: Error) => {
      this.failure ??= err
      for (const waiter of this.waiting.values()) waiter.reject(err)
      this.waiting.clear()
    }
    worker.on('error', fail)
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()))
    void this.exited.then(() => fail(new Error('the SQLite writer thread stopped')))
    // after the listeners (adding one refs the worker): only batches in flight keep the process up
    worker.unref()
  }

  /** Starts the worker on the file, or returns undefined when worker threads are not available. */
  static start(filename: string, busyTimeoutMs: number): SqliteWriter | undefined {
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3')
      return new SqliteWriter(new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { filename, busyTimeoutMs, driver, nice: WRITER_NICE }, stdout: false, stderr: false, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 } }))
    } catch {
      return undefined
    }
  }

  /** True once the worker failed or stopped: the caller runs statements itself from then on. */
  get broken(): boolean {
    return this.failure !== undefined
  }

  /** Batches sent and not yet answered. */
  get inFlight(): number {
    return this.waiting.size
  }

  /** The number that names `sql` in WriterOps (its text goes with the next batch). */
  statement(sql: string): number {
    let id = this.statementIds.get(sql)
    if (id === undefined) {
      id = this.statementIds.size + 1
      this.statementIds.set(sql, id)
      this.newTexts.push([id, sql])
    }
    return id
  }

  run(ops: WriterOp[]): Promise<WriterResult[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = ++this.nextId
    const texts = this.newTexts.length === 0 ? undefined : this.newTexts
    if (texts !== undefined) this.newTexts = []
    return new Promise<WriterResult[]>((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref()
      this.waiting.set(id, { resolve, reject })
      const wire = encode(ops)
      this.worker.postMessage(texts === undefined ? { id, wire } : { id, wire, texts })
    })
  }

  /** Resolves when every batch sent so far is answered. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.waiting.keys()].map((id) => new Promise<void>((resolve) => {
      const waiter = this.waiting.get(id)
      if (waiter === undefined) return resolve()
      this.waiting.set(id, { resolve: (r) => (waiter.resolve(r), resolve()), reject: (e) => (waiter.reject(e), resolve()) })
    })))
  }

  async close(): Promise<void> {
    await this.drain()
    if (this.failure === undefined) {
      this.worker.ref()
      this.worker.postMessage('close')
    }
    await this.exited
  }
}

/** The ops as the flat wire array (see KIND_CODE). */
function encode(ops: WriterOp[]): unknown[] {
  const wire: unknown[] = []
  for (const op of ops) {
    wire.push(KIND_CODE[op.kind])
    if (op.kind === 'exec') wire.push(op.sql)
    else if (op.kind === 'batch') {
      wire.push(op.steps.length)
      for (const step of op.steps) wire.push(step.statement, step.params.length, ...step.params)
    } else if (op.kind === 'ingest') {
      wire.push(op.insert, op.insertDone, op.outcome, op.outcomeAlone, op.state, op.ranges.length)
      for (const range of op.ranges) wire.push(...range)
    } else wire.push(op.statement, op.params.length, ...op.params)
  }
  return wire
}

