/**
 * The SQLite backend of the records' dialect layer (src/records/sql-database.ts): statements
 * are prepared once and reused, because the message log writes on every inbound message.
 */
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type Database from 'better-sqlite3'
import { openSqlite } from '../storage/sqlite-open.js'
import { SqliteWriter, type WriterOp } from './sqlite-writer.js'
import { storageError } from '../storage/storage-error.js'
import { operationOf, type BulkLoad, type SqlDatabase, type SqlExecutor, type SqlParam, type SqlRow, type SqlStep } from './sql-types.js'

export interface SqliteDatabaseOptions {
  /** How long a writer waits for another process's write lock. Default 5000 ms. */
  busyTimeoutMs?: number
}

/** What a queued statement returns: its rows, its first value, the rows it changed; or a script, or a batch of steps. */
type QueuedKind = 'rows' | 'value' | 'changes' | 'exec' | 'batch' | 'ingest'

interface QueuedStatement {
  kind: QueuedKind
  sql: string
  /** The parameters, or a function that gives them when the statement runs (see `runAtCommit`). */
  params: SqlParam[] | (() => SqlParam[] | undefined)
  steps?: SqlStep[]
  ingest?: BulkLoad
  resolve(value: unknown): void
  reject(err: unknown): void
}

/**
 * SQLite through better-sqlite3. A file's statements run on a writer thread (src/records/
 * sqlite-writer.ts) that owns its own connection, one transaction per event-loop turn; an
 * in-memory database, or a file whose writer thread failed, runs them on this thread. Either
 * way a promise settles after its statement is committed.
 */
export class SqliteDatabase implements SqlDatabase {
  readonly kind = 'sqlite'
  readonly where: string
  /** True for a throwaway in-memory database (nothing survives the process). */
  readonly inMemory: boolean
  /** The database file, absolute (`:memory:` for an in-memory one). */
  readonly filename: string
  private readonly db: Database.Database
  private readonly statements = new Map<string, Database.Statement>()
  private readonly plucked = new Map<string, Database.Statement>()
  private readonly busyTimeoutMs: number
  private readonly writer: SqliteWriter | undefined
  private queue: QueuedStatement[] = []
  /** While exclusive() holds this connection's transaction, queued statements wait. */
  private paused = false

  constructor(filename: string, options: SqliteDatabaseOptions = {}) {
    this.where = `SQLite ${filename}`
    this.inMemory = filename === ':memory:' || filename === ''
    this.filename = this.inMemory ? ':memory:' : resolve(filename)
    this.busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))
    this.db = openSqlite(filename, this.busyTimeoutMs)
    if (!this.inMemory) {
      const file = resolve(filename)
      // the writer thread also checkpoints the WAL, so no COMMIT on the event loop does it
      this.writer = SqliteWriter.start(file, this.busyTimeoutMs)
    }
  }

  async all<R extends SqlRow = SqlRow>(sql: string, params: SqlParam[] = []): Promise<R[]> {
    return this.enqueue<R[]>('rows', sql, params)
  }

  async value<V = unknown>(sql: string, params: SqlParam[] = []): Promise<V | undefined> {
    return this.enqueue<V | undefined>('value', sql, params)
  }

  async run(sql: string, params: SqlParam[] = []): Promise<number> {
    return this.enqueue<number>('changes', sql, params)
  }

  /**
   * Queues a statement whose parameters are read when it runs, in the group commit of this
   * turn: whatever was appended to them until then goes in the same transaction (the
   * per-request store's journal rides the message log's commits this way). `params` returning
   * undefined skips the statement.
   */
  runAtCommit(sql: string, params: () => SqlParam[] | undefined): Promise<number> {
    return this.enqueue<number>('changes', sql, params)
  }

  /** As runAtCommit, resolving to the first column of the first row (a RETURNING id). */
  valueAtCommit<V = unknown>(sql: string, params: () => SqlParam[] | undefined): Promise<V | undefined> {
    return this.enqueue<V | undefined>('value', sql, params)
  }

  async exec(script: string): Promise<void> {
    if (this.usesWriter) return this.enqueue<void>('exec', script, [])
    this.flush()
    this.guard(script, () => this.db.exec(script))
  }

  async batch(steps: SqlStep[]): Promise<number[]> {
    // with the writer: a savepoint inside the turn's transaction, so the steps stand or fall together
    if (this.usesWriter) return this.enqueue<number[]>('batch', steps[0]?.sql ?? 'batch', [], steps)
    this.flush()
    // Synchronous inside: no other caller's statement can slip into this transaction.
    const transaction = this.db.transaction(() => steps.map((s) => this.statement(s.sql).run(...(s.params ?? [])).changes))
    const changes = this.guard(steps[0]?.sql ?? 'batch', () => transaction.immediate())
    return changes
  }

  /**
   * Loads appended message-log records in bulk, on the writer thread, in the order of the
   * queue (src/records/logged-recorder.ts). Only for a file database with its writer running.
   */
  ingest(load: BulkLoad): Promise<{ rows: number; updates: number; bad: number }> {
    if (!this.usesWriter) return Promise.reject(storageError(this.where, 'ingest', new Error('the SQLite writer thread is not running')))
    return this.enqueue('ingest', load.sql.insert, [], undefined, load)
  }

  /**
   * Group commit: the statements of one event-loop turn run together at its end, in one
   * transaction. Each promise settles after the COMMIT, so "resolved" still means "on disk as
   * far as SQLite promises"; one commit per turn instead of one per statement took the message
   * log's time on the event loop from about 50 µs per message to about 14 (bench/README.md).
   */
  private enqueue<T>(kind: QueuedKind, sql: string, params: QueuedStatement['params'], steps?: SqlStep[], ingest?: BulkLoad): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind, sql, params, ...(steps === undefined ? {} : { steps }), ...(ingest === undefined ? {} : { ingest }), resolve: resolve as (value: unknown) => void, reject })
      if (this.queue.length === 1) setImmediate(this.flushNow)
    })
  }

  private readonly flushNow = () => this.flush()

  private get usesWriter(): boolean {
    return this.writer !== undefined && !this.writer.broken
  }

  /**
   * Runs what is queued now (also before exec, batch and close, so order is kept). With the
   * writer thread, a turn's statements wait while the previous batch is still being committed
   * and go with the next one (`force` sends them at once): under load a batch then holds
   * several turns, so the per-batch costs (the hand-over, the COMMIT, the thread wake-ups)
   * are shared by more messages, and an idle server still commits every turn at once.
   */
  private flush(force = false): void {
    if (this.paused) return
    const ops = this.queue
    if (ops.length === 0) return
    if (!force && this.writer !== undefined && this.writer.inFlight > 0 && !this.writer.broken) return
    this.queue = []
    if (!this.db.open) {
      for (const op of ops) op.reject(storageError(this.where, operationOf(op.sql), new Error('the database is closed')))
      return
    }
    if (this.usesWriter) this.send(ops)
    else this.runHere(ops)
  }

  /** Hands the turn's statements to the writer thread; their promises settle with its answer. */
  private send(ops: QueuedStatement[]): void {
    const wire: WriterOp[] = []
    const sent: QueuedStatement[] = []
    for (const op of ops) {
      let params: SqlParam[] | undefined
      try {
        params = typeof op.params === 'function' ? op.params() : op.params
      } catch (err) {
        op.reject(err)
        continue
      }
      if (params === undefined) {
        op.resolve(0)
        continue
      }
      sent.push(op)
      const writer = this.writer!
      if (op.kind === 'ingest') {
        const { sql, state, ranges } = op.ingest!
        wire.push({ kind: 'ingest', insert: writer.statement(sql.insert), insertDone: writer.statement(sql.insertDone), outcome: writer.statement(sql.outcomeByKey), outcomeAlone: writer.statement(sql.outcomeByKeyAlone), state: writer.statement(state), ranges })
      } else if (op.kind === 'exec') wire.push({ kind: 'exec', sql: op.sql })
      else if (op.kind === 'batch') wire.push({ kind: 'batch', steps: (op.steps ?? []).map((s) => ({ statement: writer.statement(s.sql), params: s.params ?? [] })) })
      else wire.push({ kind: op.kind, statement: writer.statement(op.sql), params })
    }
    if (sent.length === 0) return
    this.writer!.run(wire).then(
      (results) => {
            if (this.queue.length > 0) this.flush() // what waited for this batch goes now
        for (let i = 0; i < sent.length; i++) {
          const result = results[i]!
          if (result.ok) sent[i]!.resolve(result.value)
          else sent[i]!.reject(storageError(this.where, operationOf(result.sql), Object.assign(new Error(result.message), result.code === undefined ? {} : { code: result.code })))
        }
      },
      (err: unknown) => {
        for (const op of sent) op.reject(storageError(this.where, operationOf(op.sql), err))
      },
    )
  }

  /** The same on this thread (in-memory databases, or when the writer thread failed). */
  private runHere(ops: QueuedStatement[]): void {
    // inside exclusive() the statements join its transaction; alone, a statement is its own
    let own = ops.length > 1 && !this.db.inTransaction
    if (own) {
      try {
        this.db.exec('BEGIN IMMEDIATE')
      } catch {
        own = false // the lock is busy beyond busy_timeout: each statement tries on its own
      }
    }
    // values[i] is the result of ops[i], or errors[i] its failure
    const values: unknown[] = new Array(ops.length)
    let errors: unknown[] | undefined
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      try {
        const params = typeof op.params === 'function' ? op.params() : op.params
        if (params === undefined) {
          values[i] = 0
          continue
        }
        if (op.kind === 'value') values[i] = this.pluck(op.sql).get(...params)
        else if (op.kind === 'rows') values[i] = this.statement(op.sql).all(...params)
        else if (op.kind === 'exec') this.db.exec(op.sql)
        else if (op.kind === 'ingest') throw new Error('the SQLite writer thread is not running')
        else if (op.kind === 'batch') values[i] = (op.steps ?? []).map((s) => this.statement(s.sql).run(...(s.params ?? [])).changes)
        else values[i] = this.statement(op.sql).run(...params).changes
      } catch (err) {
        errors ??= new Array(ops.length)
        errors[i] = storageError(this.where, operationOf(op.sql), err)
        if (own && !this.db.inTransaction) {
          // SQLite rolled the whole transaction back (disk full, I/O error): what ran before is gone
          for (let k = 0; k < i; k++) errors[k] ??= storageError(this.where, operationOf(ops[k]!.sql), err)
          own = false // the rest run on their own
        }
      }
    }
    if (own) {
      try {
        this.db.exec('COMMIT')
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        const error = storageError(this.where, 'COMMIT', err)
        for (const op of ops) op.reject(error)
        return
      }
    }
    for (let i = 0; i < ops.length; i++) {
      const error = errors?.[i]
      if (error === undefined) ops[i]!.resolve(values[i])
      else ops[i]!.reject(error)
    }
  }

  /**
   * Runs `fn` in a transaction on this thread's connection that no other process runs at the
   * same time (migrations). Statements queued meanwhile wait for it; `fn` gets an executor that
   * runs on that transaction directly.
   */
  async exclusive<R>(fn: (db: SqlExecutor) => Promise<R>): Promise<R> {
    this.flush(true)
    await this.writer?.drain()
    this.paused = true
    try {
      await this.beginImmediate()
      try {
        const result = await fn(this.direct)
        this.guard('COMMIT', () => this.db.exec('COMMIT'))
        return result
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw err
      }
    } finally {
      this.paused = false
      if (this.queue.length > 0) setImmediate(this.flushNow)
    }
  }

  /** Statements straight on this thread's connection (inside exclusive()). */
  private readonly direct: SqlExecutor = {
    all: async <R extends SqlRow = SqlRow>(sql: string, params: SqlParam[] = []) => this.guard(sql, () => this.statement(sql).all(...params) as R[]),
    value: async <V = unknown>(sql: string, params: SqlParam[] = []) => this.guard(sql, () => this.pluck(sql).get(...params) as V | undefined),
    run: async (sql: string, params: SqlParam[] = []) => this.guard(sql, () => this.statement(sql).run(...params).changes),
    exec: async (script: string) => {
      this.guard(script, () => this.db.exec(script))
    },
  }

  async close(): Promise<void> {
    this.flush(true)
    await this.writer?.close()
    // the writer lets go first, so this last connection folds the WAL into the file
    if (this.db.open) this.db.close()
  }

  /**
   * Takes the write lock, waiting for it without blocking the thread: SQLite's own busy wait
   * would freeze the event loop, and with it the other connection of this same process that
   * holds the lock (two `openRecords` at once), until the timeout.
   */
  private async beginImmediate(): Promise<void> {
    const deadline = Date.now() + this.busyTimeoutMs
    this.db.pragma('busy_timeout = 0')
    try {
      for (;;) {
        try {
          this.db.exec('BEGIN IMMEDIATE')
          return
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) {
            throw storageError(this.where, 'BEGIN IMMEDIATE', err, 'another process holds the write lock')
          }
          await sleep(10 + Math.random() * 20)
        }
      }
    } finally {
      this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`)
    }
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql)
      this.statements.set(sql, statement)
    }
    return statement
  }

  /** The same statement returning only its first column (no row object per call). */
  private pluck(sql: string): Database.Statement {
    let statement = this.plucked.get(sql)
    if (statement === undefined) {
      statement = this.db.prepare(sql).pluck()
      this.plucked.set(sql, statement)
    }
    return statement
  }

  private guard<R>(sql: string, fn: () => R): R {
    try {
      return fn()
    } catch (err) {
      throw storageError(this.where, operationOf(sql), err)
    }
  }
}
