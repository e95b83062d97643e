/**
 * The dialect layer's shapes, shared by both backends (src/records/sqlite-database.ts,
 * src/records/postgres-database.ts): SQL is written once with `?` placeholders and runs
 * unchanged on SQLite and PostgreSQL.
 */
export type SqlParam = string | number | null | Uint8Array

/** A row as the database returns it: BIGINT and counts arrive as JS numbers on both backends. */
export type SqlRow = Record<string, unknown>

export interface SqlStep {
  sql: string
  params?: SqlParam[]
}

/** What migrations may do: plain statements and multi-statement DDL. */
export interface SqlExecutor {
  all<R extends SqlRow = SqlRow>(sql: string, params?: SqlParam[]): Promise<R[]>
  /** The first column of the first row (an id from RETURNING), or undefined when there is no row. */
  value<V = unknown>(sql: string, params?: SqlParam[]): Promise<V | undefined>
  run(sql: string, params?: SqlParam[]): Promise<number>
  exec(script: string): Promise<void>
}

export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'sqlite' | 'postgres'
  /** "SQLite ./data/wxmp.db" or "PostgreSQL at host/db", for messages. */
  readonly where: string
  /** Runs the steps in one transaction; returns the rows each one changed. */
  batch(steps: SqlStep[]): Promise<number[]>
  /** Runs `fn` in one transaction that no other process runs at the same time (migrations). */
  exclusive<R>(fn: (db: SqlExecutor) => Promise<R>): Promise<R>
  close(): Promise<void>
}

/** "INSERT INTO wxmp_messages" — enough of a statement to say which one failed. */
export function operationOf(sql: string): string {
  return sql.trim().split(/\s+/).slice(0, 3).join(' ')
}

/** A bulk load for SqliteDatabase.ingest: the message log's statements, the offset statement, the file ranges. */
export interface BulkLoad {
  /** outcomeByKey finds the row by (app_id, create_time, msg_key); outcomeByKeyAlone by (app_id, msg_key), for outcomes appended before migration 6. */
  sql: { insert: string; insertDone: string; outcomeByKey: string; outcomeByKeyAlone: string }
  /** Saves a file's loaded offset: (file, offset). */
  state: string
  ranges: Array<[path: string, from: number, to: number]>
}
