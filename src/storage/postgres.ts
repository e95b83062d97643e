import { createHash } from 'node:crypto'
import type pg from 'pg'
import { postgresLocation } from './connection-url.js'
import { checkKey, checkTtl, decodeValue, encodeValue } from './codec.js'
import { createPgPool, inLockedTransaction, type PgPoolOptions } from './pg-pool.js'
import { checkSqlIdentifier } from './sql-identifier.js'
import { storageError } from './storage-error.js'
import type { KeyValueStore } from './types.js'

export interface PostgresStoreOptions extends PgPoolOptions {
  /** Table for the key-value rows, optionally `schema.table`. Created when missing. Default `wxmp_kv`. */
  table?: string
  /** Expired rows are invisible at once; a write deletes them in batches at most this often. Default 60 000 ms. */
  purgeIntervalMs?: number
}

// The database server's clock decides expiry, so instances with skewed clocks still agree.
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`
const LIVE = `(expires_at IS NULL OR expires_at > ${NOW_MS})`
const PURGE_BATCH = 1000

/**
 * Key-value store in one PostgreSQL table, for deployments that already run PostgreSQL.
 * Expiry uses the server's clock; `add` is one `INSERT … ON CONFLICT` statement, so it is
 * atomic across every instance.
 *
 * @example
 * const store = new PostgresStore('postgres://wxmp@db/wxmp')
 * const first = await store.add('dedup:wx:123', true, 15 * 60_000)
 */
export class PostgresStore implements KeyValueStore {
  readonly kind = 'postgres'
  private readonly pool: pg.Pool
  private readonly table: string
  private readonly where: string
  private readonly purgeIntervalMs: number
  private readonly sql: ReturnType<typeof statements>
  private schemaReady: Promise<void> | undefined
  private nextPurgeAt = 0
  private purging: Promise<unknown> | undefined
  private closing: Promise<void> | undefined

  constructor(url: string, options: PostgresStoreOptions = {}) {
    this.table = checkSqlIdentifier('table', options.table ?? 'wxmp_kv', true)
    this.where = `PostgreSQL at ${postgresLocation(url)} (table ${this.table})`
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000
    this.pool = createPgPool(url, options)
    this.sql = statements(this.table)
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key)
    const result = await this.query<{ value: string }>('get', this.sql.get, [key])
    const row = result.rows[0]
    return row === undefined ? undefined : decodeValue<T>(row.value)
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    checkKey(key)
    const json = encodeValue(key, value)
    const ttl = checkTtl(ttlMs) ?? null
    await this.query('set', this.sql.set, [key, json, ttl])
    this.maybePurge()
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    await this.query('delete', this.sql.delete, [key])
  }

  async add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    checkKey(key)
    const json = encodeValue(key, value)
    const ttl = checkTtl(ttlMs) ?? null
    const result = await this.query('add', this.sql.add, [key, json, ttl])
    this.maybePurge()
    return result.rowCount === 1
  }

  async deleteIf(key: string, expected: unknown): Promise<boolean> {
    checkKey(key)
    const json = encodeValue(key, expected)
    return (await this.query('deleteIf', this.sql.deleteIf, [key, json])).rowCount === 1
  }

  /** Deletes expired rows now (writes also start it every `purgeIntervalMs`); returns how many. */
  async purgeExpired(): Promise<number> {
    let total = 0
    for (;;) {
      const { rowCount } = await this.query('purge', this.sql.purge, [])
      total += rowCount ?? 0
      if ((rowCount ?? 0) < PURGE_BATCH) return total
    }
  }

  async ping(): Promise<void> {
    await this.query('ping', { name: undefined, text: 'SELECT 1' }, [])
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.purging
      await this.pool.end()
    })()
    return this.closing
  }

  /** Runs off the request path: its latency and its errors are nobody's request's. */
  private maybePurge(): void {
    const now = Date.now()
    if (now < this.nextPurgeAt || this.purging !== undefined) return
    this.nextPurgeAt = now + this.purgeIntervalMs
    this.purging = this.query('purge', this.sql.purge, [])
      .catch(() => undefined)
      .finally(() => {
        this.purging = undefined
      })
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    operation: string,
    statement: { name: string | undefined; text: string },
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      await this.ensureSchema()
      return await this.pool.query<R>({ ...statement, values })
    } catch (err) {
      throw storageError(this.where, operation, err, 'is PostgreSQL running and the URL (host, port, user, database) right?')
    }
  }

  /** Creates the table once per store; retried on the next call if the server was down. */
  private ensureSchema(): Promise<void> {
    this.schemaReady ??= inLockedTransaction(this.pool, `wxmp:${this.table}`, async (client) => {
      await client.query(this.sql.createTable)
      await client.query(this.sql.createIndex)
    }).catch((err: unknown) => {
      this.schemaReady = undefined
      throw err
    })
    return this.schemaReady
  }
}

function statements(table: string) {
  const bare = table.slice(table.indexOf('.') + 1)
  // Named statements are prepared once per connection: the hot path skips parsing and planning.
  // PostgreSQL truncates names at 63 bytes, so the table enters the name as a short hash.
  const tag = createHash('sha1').update(table).digest('hex').slice(0, 12)
  const named = (op: string, text: string) => ({ name: `wxmp_kv_${op}_${tag}`, text })
  return {
    createTable: `CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, value text NOT NULL, expires_at bigint)`,
    createIndex: `CREATE INDEX IF NOT EXISTS ${bare}_expires_at ON ${table} (expires_at) WHERE expires_at IS NOT NULL`,
    get: named('get', `SELECT value FROM ${table} WHERE key = $1 AND ${LIVE}`),
    set: named(
      'set',
      `INSERT INTO ${table} (key, value, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
    ),
    delete: named('delete', `DELETE FROM ${table} WHERE key = $1`),
    // An expired row counts as absent and is overwritten; a live one leaves rowCount at 0.
    add: named(
      'add',
      `INSERT INTO ${table} AS kv (key, value, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ${NOW_MS}`,
    ),
    deleteIf: named('deleteIf', `DELETE FROM ${table} WHERE key = $1 AND value = $2 AND ${LIVE}`),
    purge: named(
      'purge',
      `DELETE FROM ${table} WHERE key IN
       (SELECT key FROM ${table} WHERE expires_at IS NOT NULL AND expires_at <= ${NOW_MS} LIMIT ${PURGE_BATCH})`,
    ),
  }
}
