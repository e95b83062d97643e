/**
 * The small dialect layer under the records: SQL is written once with `?` placeholders and
 * runs unchanged on SQLite (better-sqlite3) and PostgreSQL (node-postgres). Statements are
 * prepared once and reused, because the message log writes on every inbound message.
 */
export type { BulkLoad, SqlDatabase, SqlExecutor, SqlParam, SqlRow, SqlStep } from './sql-types.js'
export { SqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js'
export { PostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.js'
