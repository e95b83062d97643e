/**
 * The PostgreSQL backend of the records' dialect layer (src/records/sql-database.ts): `?`
 * placeholders become `$n`, and each statement is named so a connection plans it once.
 */
import { createHash } from 'node:crypto'
import type pg from 'pg'
import { postgresLocation } from '../storage/connection-url.js'
import { loadDriver } from '../storage/load-driver.js'
import { createPgPool, inLockedTransaction, type PgPoolOptions } from '../storage/pg-pool.js'
import { storageError } from '../storage/storage-error.js'
import { operationOf, type SqlDatabase, type SqlExecutor, type SqlParam, type SqlRow, type SqlStep } from './sql-types.js'

export interface PostgresDatabaseOptions extends PgPoolOptions {
  /** Keep every table in this schema (created when missing) instead of the default search_path. */
  schema?: string
}

// BIGINT (oid 20) as a JS number: ids, timestamps in ms and counts all fit in 2^53.
function int8AsNumber(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (value: string) => Number(value) : types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
  }
}

export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres'
  readonly where: string
  private readonly pool: pg.Pool
  private readonly schema: string | undefined
  private readonly texts = new Map<string, { name: string; text: string }>()
  private closing: Promise<void> | undefined

  constructor(url: string, options: PostgresDatabaseOptions = {}) {
    this.schema = options.schema
    this.where = `PostgreSQL at ${postgresLocation(url)}${this.schema === undefined ? '' : ` (schema ${this.schema})`}`
    this.pool = createPgPool(url, {
      ...options,
      pool: {
        ...options.pool,
        types: int8AsNumber(loadDriver('pg').types),
        ...(this.schema === undefined ? {} : { options: `-c search_path=${this.schema}` }),
      },
    })
  }

  async all<R extends SqlRow = SqlRow>(sql: string, params: SqlParam[] = []): Promise<R[]> {
    return (await this.query<R>(this.pool, sql, params)).rows
  }

  async value<V = unknown>(sql: string, params: SqlParam[] = []): Promise<V | undefined> {
    const [row] = (await this.query(this.pool, sql, params)).rows
    return row === undefined ? undefined : (Object.values(row)[0] as V)
  }

  async run(sql: string, params: SqlParam[] = []): Promise<number> {
    return (await this.query(this.pool, sql, params)).rowCount ?? 0
  }

  async exec(script: string): Promise<void> {
    await this.guard(script, () => this.pool.query(script))
  }

  async batch(steps: SqlStep[]): Promise<number[]> {
    const client = await this.guard('connect', () => this.pool.connect())
    try {
      await client.query('BEGIN')
      const changes: number[] = []
      for (const step of steps) changes.push((await this.query(client, step.sql, step.params ?? [])).rowCount ?? 0)
      await client.query('COMMIT')
      return changes
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw storageError(this.where, operationOf(steps[0]?.sql ?? 'batch'), err)
    } finally {
      client.release()
    }
  }

  async exclusive<R>(fn: (db: SqlExecutor) => Promise<R>): Promise<R> {
    return this.guard('migration lock', () =>
      inLockedTransaction(this.pool, 'wxmp:records:migrations', async (client) => {
        if (this.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`)
        return fn({
          all: async (sql, params = []) => (await this.query(client, sql, params)).rows as never,
          value: async (sql, params = []) => {
            const [row] = (await this.query(client, sql, params)).rows
            return (row === undefined ? undefined : Object.values(row)[0]) as never
          },
          run: async (sql, params = []) => (await this.query(client, sql, params)).rowCount ?? 0,
          exec: async (script) => {
            await this.guard(script, () => client.query(script))
          },
        })
      }),
    )
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end()
    return this.closing
  }

  private async query<R extends SqlRow>(on: pg.Pool | pg.PoolClient, sql: string, params: SqlParam[]): Promise<pg.QueryResult<R>> {
    return this.guard(sql, () => on.query<R>({ ...this.prepared(sql), values: params }))
  }

  /** `?` → `$n`, and a statement name so each connection plans the statement once. */
  private prepared(sql: string): { name: string; text: string } {
    let entry = this.texts.get(sql)
    if (entry === undefined) {
      let n = 0
      const text = sql.replace(/\?/g, () => `$${++n}`)
      entry = { name: `wxmp_r_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text }
      this.texts.set(sql, entry)
    }
    return entry
  }

  private async guard<R>(sql: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn()
    } catch (err) {
      throw storageError(this.where, operationOf(sql), err, 'is PostgreSQL running and DATABASE_URL (host, port, user, database) right?')
    }
  }
}
