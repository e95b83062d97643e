/**
 * The records schema, one numbered migration at a time. The same SQL runs on SQLite and
 * PostgreSQL, apart from how an auto-numbered id is spelled and migrations meant for one
 * dialect only (`only`), which the other records as applied without running. Applied
 * versions are kept in `wxmp_migrations`; every run happens under a database-wide lock, so
 * two processes starting at once apply each migration exactly once.
 *
 * Times are milliseconds since the epoch (BIGINT), except `create_time`, which is WeChat's
 * CreateTime in seconds as sent.
 */
import type { SqlDatabase, SqlExecutor } from './sql-database.js'

export interface Migration {
  version: number
  name: string
  /** DDL with `{{ID}}` standing for the dialect's auto-numbered primary key. */
  sql: string
  /** The one dialect this migration changes; the other records it as applied and runs nothing. */
  only?: SqlDatabase['kind']
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'message log and followers',
    sql: `
      CREATE TABLE wxmp_messages (
        id {{ID}},
        app_id TEXT NOT NULL,
        msg_key TEXT NOT NULL,
        openid TEXT NOT NULL,
        msg_type TEXT NOT NULL,
        event TEXT,
        msg_id TEXT,
        create_time BIGINT NOT NULL,
        raw_xml TEXT NOT NULL,
        encrypted INTEGER NOT NULL,
        received_at BIGINT NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 1,
        reply_via TEXT,
        reply_status TEXT,
        reply_xml TEXT,
        latency_ms INTEGER,
        error TEXT,
        completed_at BIGINT
      );
      CREATE UNIQUE INDEX wxmp_messages_msg_key ON wxmp_messages (app_id, msg_key);
      CREATE INDEX wxmp_messages_openid ON wxmp_messages (app_id, openid, id);
      CREATE INDEX wxmp_messages_received_at ON wxmp_messages (received_at);

      CREATE TABLE wxmp_follower_events (
        id {{ID}},
        app_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        event TEXT NOT NULL CHECK (event IN ('subscribe', 'unsubscribe')),
        at BIGINT NOT NULL,
        scene TEXT
      );
      CREATE UNIQUE INDEX wxmp_follower_events_once ON wxmp_follower_events (app_id, openid, event, at);
      CREATE INDEX wxmp_follower_events_at ON wxmp_follower_events (app_id, at);

      CREATE TABLE wxmp_followers (
        app_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        subscribed INTEGER NOT NULL,
        scene TEXT,
        subscribed_at BIGINT,
        unsubscribed_at BIGINT,
        changed_at BIGINT NOT NULL,
        PRIMARY KEY (app_id, openid)
      );
      CREATE INDEX wxmp_followers_subscribed ON wxmp_followers (app_id, subscribed);
    `,
  },
  {
    version: 2,
    name: 'reply rules and their version',
    sql: `
      CREATE TABLE wxmp_rules (
        app_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        enabled INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (app_id, id)
      );
      CREATE UNIQUE INDEX wxmp_rules_priority ON wxmp_rules (app_id, priority);

      CREATE TABLE wxmp_rules_version (
        app_id TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        changed_at BIGINT NOT NULL,
        file_sha256 TEXT
      );
    `,
  },
  {
    version: 3,
    name: 'published posts and their uploaded images (wxmp publish)',
    sql: `
      CREATE TABLE wxmp_posts (
        app_id TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        media_id TEXT,
        publish_id TEXT,
        article_id TEXT,
        article_url TEXT,
        status TEXT NOT NULL CHECK (status IN ('draft', 'publishing', 'published', 'failed')),
        failure TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (app_id, source)
      );
      CREATE INDEX wxmp_posts_publish_id ON wxmp_posts (app_id, publish_id);

      CREATE TABLE wxmp_post_images (
        app_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('body', 'cover')),
        url TEXT,
        media_id TEXT,
        uploaded_at BIGINT NOT NULL,
        PRIMARY KEY (app_id, sha256, kind)
      );
    `,
  },
  {
    version: 4,
    name: 'operator console: audit log, operator replies, paused conversations',
    sql: `
      CREATE TABLE wxmp_console_audit (
        id {{ID}},
        app_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        operator TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT,
        remote TEXT,
        ok INTEGER NOT NULL
      );
      CREATE INDEX wxmp_console_audit_app ON wxmp_console_audit (app_id, id);

      CREATE TABLE wxmp_console_replies (
        id {{ID}},
        app_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        operator TEXT NOT NULL,
        msg_type TEXT NOT NULL,
        content TEXT,
        media_id TEXT,
        sent_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        errcode INTEGER,
        error TEXT
      );
      CREATE INDEX wxmp_console_replies_openid ON wxmp_console_replies (app_id, openid, id);

      CREATE TABLE wxmp_console_paused (
        app_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        operator TEXT NOT NULL,
        paused_at BIGINT NOT NULL,
        until_at BIGINT NOT NULL,
        PRIMARY KEY (app_id, openid)
      );
    `,
  },
  {
    version: 5,
    name: 'several accounts: the account name on the message log and followers',
    // rows from before keep the name of the one account the environment variables describe
    sql: `
      ALTER TABLE wxmp_messages ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX wxmp_messages_account ON wxmp_messages (account, id);
      ALTER TABLE wxmp_follower_events ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX wxmp_follower_events_account ON wxmp_follower_events (account, at);
      ALTER TABLE wxmp_followers ADD COLUMN account TEXT NOT NULL DEFAULT 'default';
      CREATE INDEX wxmp_followers_account ON wxmp_followers (account, subscribed);
    `,
  },
  {
    version: 6,
    name: 'message log: the retry key begins with CreateTime (SQLite)',
    // A new row's key lands near the index's end instead of on a random page: the writer thread
    // reads and writes one page less per message (src/records/message-log.ts, RETRY_KEY). The
    // old index was stricter, so no existing row breaks the new one.
    only: 'sqlite',
    sql: `
      DROP INDEX wxmp_messages_msg_key;
      CREATE UNIQUE INDEX wxmp_messages_retry ON wxmp_messages (app_id, create_time, msg_key);
    `,
  },
]

const ID_COLUMN: Record<SqlDatabase['kind'], string> = {
  sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  postgres: 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY',
}

export interface MigrationResult {
  /** Versions applied by this run, in order (empty when the schema was current). */
  applied: { version: number; name: string }[]
  /** The highest version now in the database. */
  current: number
  /** Versions recorded in the database that this wxmp does not know (a newer wxmp ran). */
  unknown: number[]
}

/**
 * Applies every migration the database lacks. Idempotent; safe when several processes call
 * it at once (they take turns on a database-wide lock).
 */
export async function runMigrations(
  db: SqlDatabase,
  now: () => number = Date.now,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  return db.exclusive(async (tx: SqlExecutor) => {
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS wxmp_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    )
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM wxmp_migrations')).map((r) => Number(r.version)))
    const applied: MigrationResult['applied'] = []
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue
      if (migration.only === undefined || migration.only === db.kind) await tx.exec(migration.sql.replaceAll('{{ID}}', ID_COLUMN[db.kind]))
      await tx.run('INSERT INTO wxmp_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        now(),
      ])
      applied.push({ version: migration.version, name: migration.name })
      done.add(migration.version)
    }
    const known = new Set(migrations.map((m) => m.version))
    return { applied, current: Math.max(0, ...done), unknown: [...done].filter((v) => !known.has(v)).sort((a, b) => a - b) }
  })
}

/** The schema's state without changing it (`wxmp doctor`): the version reached and what is still to apply. */
export async function migrationStatus(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<{ current: number; pending: { version: number; name: string }[] }> {
  const exists =
    db.kind === 'sqlite'
      ? (await db.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'wxmp_migrations'")).length > 0
      : (await db.all<{ t: string | null }>("SELECT to_regclass('wxmp_migrations')::text AS t"))[0]?.t != null
  const done = exists ? new Set((await db.all<{ version: number }>('SELECT version FROM wxmp_migrations')).map((r) => Number(r.version))) : new Set<number>()
  const pending = [...migrations].filter((m) => !done.has(m.version)).sort((a, b) => a.version - b.version)
  return { current: Math.max(0, ...done), pending: pending.map((m) => ({ version: m.version, name: m.name })) }
}
