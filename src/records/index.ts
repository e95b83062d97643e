/**
 * The SQL records users query: the message log and followers. One schema and one set of
 * queries on SQLite (default) and PostgreSQL; `openRecords(DATABASE_URL)` migrates on open.
 */
export { openRecords, type OpenRecordsOptions, type Records } from './open-records.js'
export {
  MessageLog,
  REPLY_STATUS,
  REPLY_VIA,
  type InboundMessage,
  type MessageOutcome,
  type MessageRecord,
  type RecentQuery,
  type ReplyStatus,
  type ReplyVia,
} from './message-log.js'
export {
  Followers,
  FOLLOWER_EVENTS,
  type FollowerChange,
  type FollowerEvent,
  type FollowerState,
  type FollowerStats,
  type FollowerStatsQuery,
} from './followers.js'
export { MIGRATIONS, runMigrations, type Migration, type MigrationResult } from './migrations.js'
export { PostgresDatabase, SqliteDatabase, type SqlDatabase, type SqlExecutor, type SqlParam } from './sql-database.js'
