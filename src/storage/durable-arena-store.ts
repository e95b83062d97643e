/**
 * The per-request store of the default server (one instance, SQLite file): an ArenaStore whose
 * records are also written to the SQLite file, so that the replay guard and the deduper
 * remember across a restart what they saw before it.
 *
 * Cheap by construction: the bytes of the records written during one event-loop turn (they
 * are already packed in the arena) go into ONE row, queued in the same group commit as the
 * message log's statements of that turn, so a message's replay and dedup records commit in
 * the same transaction as its inbound row, before its answer leaves. At start the rows are
 * read back into the arena. Rows are deleted once every record in them has expired or has
 * been overwritten in the ring, so the journal never holds much more than two budgets.
 *
 * Guarantee (docs/storage.md): after a restart, a query or message seen before it is
 * recognised as long as its record was still within the budget; what the store could not keep
 * (overwritten under a flood, or a journal write that failed) moves the horizon a journal row
 * carries, and after a restart `wouldRemember` is false for records written up to it: the
 * replay guard refuses a never-seen query signed before it.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '../logger.js'
import { readRecords } from './arena.js'
import { ArenaStore } from './arena-store.js'
import type { KeyValueStore, LocalStore } from './types.js'

/** What the journal needs from the database: the records' SqliteDatabase has it. */
export interface JournalDatabase {
  exec(script: string): Promise<void>
  all<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: Array<string | number | null | Uint8Array>): Promise<R[]>
  run(sql: string, params?: Array<string | number | null | Uint8Array>): Promise<number>
  /** A statement run in this turn's group commit, its parameters read when it runs (undefined: skipped). */
  runAtCommit(sql: string, params: () => Array<string | number | null | Uint8Array> | undefined): Promise<number>
  /** The same, resolving to the first column of its first row. */
  valueAtCommit<V = unknown>(sql: string, params: () => Array<string | number | null | Uint8Array> | undefined): Promise<V | undefined>
}

export interface DurableArenaStoreOptions {
  /** Bytes for the records in memory (see ArenaStore). Default 32 MiB. */
  budgetBytes?: number
  now?: () => number
  /** Where the one warning about a failed journal write goes. */
  logger?: Pick<Logger, 'warn' | 'info'>
  /** Table of the journal. Default `wxmp_store_journal`. */
  table?: string
}

interface ChunkMark {
  /** The arena's `written` after the chunk's last record. */
  end: number
  /** Its row, once written (0 until then). */
  seq: number
}

const PRUNE_EVERY_MS = 1000

export class DurableArenaStore implements KeyValueStore {
  readonly kind = 'memory'
  readonly local: LocalStore
  private readonly store: ArenaStore
  private readonly now: () => number
  private readonly owner = randomBytes(6).toString('hex')
  /** Record bytes of this turn, copied from the arena as they are written. */
  private chunk = Buffer.allocUnsafeSlow(64 * 1024)
  private chunkLength = 0
  /** Where the row's last record sits in the arena (-1: none, or the row was taken). */
  private lastOffset = -1
  private chunkExpiresAt = 0
  private queued = false
  /** Rows written, oldest first, until they can be pruned. */
  private readonly marks: ChunkMark[] = []
  private nextPruneAt: number
  /** The arena's `written` at the last prune: a quarter budget more and the next row prunes. */
  private prunedAt = 0
  /** When a journal write failed: the next row carries it as the horizon. */
  private failedAt = 0
  private persistedHorizon = 0
  private warned = false
  private closed = false

  private constructor(
    private readonly db: JournalDatabase,
    private readonly table: string,
    horizon: number,
    private readonly options: DurableArenaStoreOptions,
  ) {
    this.now = options.now ?? Date.now
    this.nextPruneAt = this.now() + PRUNE_EVERY_MS
    this.persistedHorizon = horizon
    this.store = new ArenaStore({
      ...(options.budgetBytes === undefined ? {} : { budgetBytes: options.budgetBytes }),
      now: this.now,
      horizon,
      onRecord: (offset, length) => this.journal(offset, length),
      onRewind: (offset, length) => this.unjournal(offset, length),
    })
    this.local = this.store
  }

  /** Opens the journal in `db` (created when missing) and loads what it holds. */
  static async open(db: JournalDatabase, options: DurableArenaStoreOptions = {}): Promise<DurableArenaStore> {
    const table = options.table ?? 'wxmp_store_journal'
    if (!/^[a-z_][a-z0-9_]*$/i.test(table)) throw new TypeError(`journal table name ${JSON.stringify(table)} is not a plain SQL identifier`)
    const now = (options.now ?? Date.now)()
    await db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, written_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, horizon INTEGER NOT NULL, records BLOB NOT NULL);
       CREATE INDEX IF NOT EXISTS ${table}_expires_at ON ${table} (expires_at);
       CREATE TABLE IF NOT EXISTS ${table}_state (id INTEGER PRIMARY KEY CHECK (id = 1), created_at INTEGER NOT NULL, horizon INTEGER NOT NULL);`,
    )
    // a new database has seen nothing: its journal starts with nothing forgotten
    await db.run(`INSERT INTO ${table}_state (id, created_at, horizon) VALUES (1, ?, 0) ON CONFLICT (id) DO NOTHING`, [now])
    const [state] = await db.all<{ horizon: number }>(`SELECT horizon FROM ${table}_state WHERE id = 1`)
    const rows = await db.all<{ horizon: number; records: Uint8Array }>(`SELECT horizon, records FROM ${table} WHERE expires_at > ? ORDER BY seq`, [now])
    let horizon = Number(state?.horizon ?? 0)
    for (const row of rows) horizon = Math.max(horizon, Number(row.horizon))
    const store = new DurableArenaStore(db, table, horizon, options)
    for (const row of rows) {
      const bytes = Buffer.from(row.records.buffer, row.records.byteOffset, row.records.byteLength)
      for (const record of readRecords(bytes)) store.store.restore(record, now)
    }
    // the loaded records are in the arena; their rows are pruned by expiry like any foreign row
    return store
  }

  /** See ArenaStore.wouldRemember; a journal write that failed also counts as forgetting. */
  wouldRemember(key: string, at: number): boolean {
    return at > this.failedAt && this.store.wouldRemember(key, at)
  }

  /** Records written up to this time may be missing after a restart (what a journal row carries). */
  private get horizon(): number {
    return Math.max(this.store.horizon, this.failedAt)
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.store.get<T>(key)
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.store.set(key, value, ttlMs)
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key)
  }

  add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.store.add(key, value, ttlMs)
  }

  deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.store.deleteIf(key, expected)
  }

  async ping(): Promise<void> {}

  /** Stops journaling; what this turn wrote is still committed with the database's last flush. */
  async close(): Promise<void> {
    this.closed = true
    await this.store.close()
  }

  /** The newest record is being written over: drop it from the row too, if it is still the row's last. */
  private unjournal(offset: number, length: number): void {
    if (offset !== this.lastOffset || this.chunkLength < length) return
    this.chunkLength -= length
    this.lastOffset = -1
  }

  /** A record was written to the arena: its bytes join this turn's row. */
  private journal(offset: number, length: number): void {
    if (this.closed) return
    this.lastOffset = offset
    if (this.chunkLength + length > this.chunk.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.chunk.length * 2, this.chunkLength + length))
      this.chunk.copy(grown, 0, 0, this.chunkLength)
      this.chunk = grown
    }
    this.store.arena.buf.copy(this.chunk, this.chunkLength, offset, offset + length)
    this.chunkLength += length
    this.chunkExpiresAt = Math.max(this.chunkExpiresAt, this.store.arena.expiresAt(offset))
    if (this.queued) return
    this.queued = true
    const mark: ChunkMark = { end: 0, seq: 0 }
    this.db
      .valueAtCommit<number>(`INSERT INTO ${this.table} (owner, written_at, expires_at, horizon, records) VALUES (?, ?, ?, ?, ?) RETURNING seq`, () => this.takeChunk(mark))
      .then(
        (seq) => this.written(mark, Number(seq ?? 0)),
        (err: unknown) => this.failed(err),
      )
  }

  /** The row's parameters, read in the commit: everything written this turn until now. */
  private takeChunk(mark: ChunkMark): Array<string | number | Uint8Array> | undefined {
    this.queued = false
    if (this.chunkLength === 0) return undefined
    // a view: the driver copies a bound BLOB, and the statement runs before anything is appended again
    const records = this.chunk.subarray(0, this.chunkLength)
    const expiresAt = this.chunkExpiresAt === Infinity ? Number.MAX_SAFE_INTEGER : Math.ceil(this.chunkExpiresAt)
    const horizon = this.horizon
    mark.end = this.store.arena.written
    this.chunkLength = 0
    this.lastOffset = -1
    this.chunkExpiresAt = 0
    return [this.owner, this.now(), expiresAt, horizon, records]
  }

  private written(mark: ChunkMark, seq: number): void {
    if (mark.end === 0) return // the turn's records were taken by an earlier row
    mark.seq = seq
    this.marks.push(mark)
    this.persistedHorizon = Math.max(this.persistedHorizon, this.horizon)
    const now = this.now()
    const arena = this.store.arena
    if (now < this.nextPruneAt && arena.written - this.prunedAt < arena.capacity / 4) return
    this.nextPruneAt = now + PRUNE_EVERY_MS
    this.prunedAt = arena.written
    this.prune(now)
  }

  /**
   * Deletes rows nobody needs: this process's rows whose records the ring has overwritten (a
   * restart could not load them into the budget anyway), and anyone's rows whose records have
   * all expired. The horizon they vouched for is kept in the state row.
   */
  private prune(now: number): void {
    const arena = this.store.arena
    let overwritten = 0
    while (this.marks.length > 0 && arena.written - this.marks[0]!.end >= arena.capacity) overwritten = this.marks.shift()!.seq
    const table = this.table
    const work = [
      this.db.runAtCommit(`UPDATE ${table}_state SET horizon = MAX(horizon, ?) WHERE id = 1`, () => [this.persistedHorizon]),
      this.db.runAtCommit(`DELETE FROM ${table} WHERE expires_at <= ?`, () => [now]),
    ]
    if (overwritten > 0) work.push(this.db.runAtCommit(`DELETE FROM ${table} WHERE owner = ? AND seq <= ?`, () => [this.owner, overwritten]))
    Promise.all(work).catch((err: unknown) => this.failed(err))
  }

  private failed(err: unknown): void {
    // what this turn wrote may be missing after a restart: the next row says so
    this.failedAt = this.now()
    if (this.warned || this.closed) return
    this.warned = true
    this.options.logger?.warn(
      { code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err) },
      'replay and dedup journal write failed: after a restart, requests signed before now are refused until they expire from the window',
    )
  }
}
