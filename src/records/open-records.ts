import { checkSqlIdentifier } from '../storage/sql-identifier.js'
import { parseStorageUrl } from '../storage/storage-url.js'
import { Followers } from './followers.js'
import { MessageLog } from './message-log.js'
import { migrationStatus, runMigrations, type MigrationResult } from './migrations.js'
import { PostgresDatabase, SqliteDatabase, type PostgresDatabaseOptions, type SqlDatabase } from './sql-database.js'

export interface OpenRecordsOptions {
  /** The setting the URL came from, named in configuration errors. Default `DATABASE_URL`. */
  variable?: string
  /** Apply pending migrations while opening. Default true. */
  migrate?: boolean
  /** PostgreSQL only: keep the tables in this schema (created when missing). */
  schema?: string
  /** PostgreSQL pool settings (size, timeouts, onError). */
  postgres?: Omit<PostgresDatabaseOptions, 'schema'>
  /** SQLite: how long a writer waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number
  /** Injected clock (ms) for completion times and the stats window. */
  now?: () => number
}

/** The SQL records: the message log and followers, on SQLite or PostgreSQL. */
export interface Records {
  readonly kind: 'sqlite' | 'postgres'
  readonly messages: MessageLog
  readonly followers: Followers
  /** The database itself, for queries of your own (the operator console keeps its tables here). */
  readonly db: SqlDatabase
  /** Applies pending migrations (openRecords already did unless `migrate: false`). */
  migrate(): Promise<MigrationResult>
  /** The schema version reached and the migrations still to apply, without applying them. */
  migrationStatus(): Promise<{ current: number; pending: { version: number; name: string }[] }>
  /** The result of the migration run done while opening, if any. */
  readonly migration: MigrationResult | undefined
  close(): Promise<void>
}

/**
 * Opens the records database a URL names and brings its schema up to date.
 * `sqlite:<file>` (WAL mode), `memory:` or `sqlite::memory:` (throwaway), `postgres://…`.
 *
 * @example
 * const records = await openRecords(process.env.DATABASE_URL ?? 'sqlite:./data/wxmp.db')
 * const bot = new Bot({ token, records: records.messages })
 */
export async function openRecords(databaseUrl: string, options: OpenRecordsOptions = {}): Promise<Records> {
  const target = parseStorageUrl(databaseUrl, options.variable ?? 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  const schema = options.schema === undefined ? undefined : checkSqlIdentifier('schema', options.schema)
  let db: SqlDatabase
  if (target.kind === 'postgres') {
    db = new PostgresDatabase(target.url, { ...options.postgres, ...(schema === undefined ? {} : { schema }) })
  } else {
    const filename = target.kind === 'sqlite' ? target.filename : ':memory:'
    db = new SqliteDatabase(filename, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs })
  }
  const now = options.now ?? Date.now
  let migration: MigrationResult | undefined
  if (options.migrate !== false) {
    try {
      migration = await runMigrations(db, now)
    } catch (err) {
      await db.close().catch(() => undefined)
      throw err
    }
  }
  return {
    kind: db.kind,
    messages: new MessageLog(db, now),
    followers: new Followers(db, now),
    db,
    migrate: () => runMigrations(db, now),
    migrationStatus: () => migrationStatus(db),
    migration,
    close: () => db.close(),
  }
}
