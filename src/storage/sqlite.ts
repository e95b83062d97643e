import type Database from 'better-sqlite3'
import { checkKey, checkTtl, decodeValue, encodeValue } from './codec.js'
import { checkSqlIdentifier } from './sql-identifier.js'
import { openSqlite } from './sqlite-open.js'
import { storageError } from './storage-error.js'
import type { KeyValueStore } from './types.js'

export interface SqliteStoreOptions {
  /** Table for the key-value rows. Default `wxmp_kv`. */
  table?: string
  /** Injected clock (ms) for tests that move time. Every process on one file shares the machine clock. */
  now?: () => number
  /** How long a writer waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number
  /** Expired rows are invisible at once; a write deletes them in batches at most this often. Default 60 000 ms. */
  purgeIntervalMs?: number
}

const PURGE_BATCH = 1000

/**
 * Key-value store in one SQLite file (WAL mode), shared safely by several processes on one
 * machine: `add` and `deleteIf` are single statements, so they are atomic across processes.
 *
 * @example
 * const store = new SqliteStore('./data/wxmp.db')
 * if (await store.add('lock:menu', 'worker-1', 30_000)) { ... }
 */
export class SqliteStore implements KeyValueStore {
  readonly kind = 'sqlite'
  private readonly db: Database.Database
  private readonly where: string
  private readonly now: () => number
  private readonly purgeIntervalMs: number
  private nextPurgeAt = 0
  private readonly statements: ReturnType<typeof prepare>

  constructor(filename: string, options: SqliteStoreOptions = {}) {
    const table = checkSqlIdentifier('table', options.table ?? 'wxmp_kv')
    this.where = `SQLite ${filename}`
    this.now = options.now ?? Date.now
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000
    this.db = openSqlite(filename, Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000)))
    try {
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS ${table}_expires_at ON ${table} (expires_at) WHERE expires_at IS NOT NULL;`,
      )
      this.statements = prepare(this.db, table)
    } catch (err) {
      this.db.close()
      throw storageError(this.where, 'open', err, 'is the file a wxmp or other SQLite database?')
    }
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key)
    const row = this.run('get', () => this.statements.get.get(key, this.now()))
    return row === undefined ? undefined : decodeValue<T>(row.value)
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    checkKey(key)
    const json = encodeValue(key, value)
    const expiresAt = this.expiresAt(ttlMs)
    this.run('set', () => this.statements.set.run(key, json, expiresAt))
    this.maybePurge()
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    this.run('delete', () => this.statements.delete.run(key))
  }

  async add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    checkKey(key)
    const json = encodeValue(key, value)
    const expiresAt = this.expiresAt(ttlMs)
    const result = this.run('add', () => this.statements.add.run(key, json, expiresAt, this.now()))
    this.maybePurge()
    return result.changes === 1
  }

  async deleteIf(key: string, expected: unknown): Promise<boolean> {
    checkKey(key)
    const json = encodeValue(key, expected)
    return this.run('deleteIf', () => this.statements.deleteIf.run(key, json, this.now())).changes === 1
  }

  /** Deletes expired rows now (writes also do it every `purgeIntervalMs`); returns how many. */
  async purgeExpired(): Promise<number> {
    let total = 0
    for (;;) {
      const { changes } = this.run('purge', () => this.statements.purge.run(this.now()))
      total += changes
      if (changes < PURGE_BATCH) return total
    }
  }

  async ping(): Promise<void> {
    this.run('ping', () => this.statements.ping.get())
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }

  private expiresAt(ttlMs: number | undefined): number | null {
    const ttl = checkTtl(ttlMs)
    return ttl === undefined ? null : this.now() + ttl
  }

  /** One batch per interval keeps the cost on any single request small. */
  private maybePurge(): void {
    const now = this.now()
    if (now < this.nextPurgeAt) return
    this.nextPurgeAt = now + this.purgeIntervalMs
    this.run('purge', () => this.statements.purge.run(now))
  }

  private run<R>(operation: string, fn: () => R): R {
    try {
      return fn()
    } catch (err) {
      throw storageError(this.where, operation, err)
    }
  }
}

function prepare(db: Database.Database, table: string) {
  const live = '(expires_at IS NULL OR expires_at > ?)'
  return {
    get: db.prepare<[string, number], { value: string }>(`SELECT value FROM ${table} WHERE key = ? AND ${live}`),
    set: db.prepare<[string, string, number | null]>(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ),
    delete: db.prepare<[string]>(`DELETE FROM ${table} WHERE key = ?`),
    // One statement under SQLite's write lock: atomic across every process on the file.
    // An expired row counts as absent and is overwritten in place.
    add: db.prepare<[string, string, number | null, number]>(
      `INSERT INTO ${table} (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE ${table}.expires_at IS NOT NULL AND ${table}.expires_at <= ?`,
    ),
    deleteIf: db.prepare<[string, string, number]>(`DELETE FROM ${table} WHERE key = ? AND value = ? AND ${live}`),
    purge: db.prepare<[number]>(
      `DELETE FROM ${table} WHERE key IN
       (SELECT key FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ${PURGE_BATCH})`,
    ),
    ping: db.prepare('SELECT 1'),
  }
}
