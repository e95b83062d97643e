/**
 * The server's storage, wired from its configuration: the per-request store (replay guard,
 * dedup), the shared store (tokens, sessions, locks), the SQL records and the message-log
 * spool. `startServer` and the in-process benchmarks open them the same way.
 */
import { dirname, join, resolve } from 'node:path'
import type { BotOptions } from '../bot-options.js'
import { accountNamespace } from '../api/from-config.js'
import type { Logger } from '../logger.js'
import { openRecords, type Records } from '../records/open-records.js'
import { SpoolingRecorder } from '../records/spool.js'
import { createStore } from '../storage/create-store.js'
import { ArenaStore } from '../storage/arena-store.js'
import { DurableArenaStore } from '../storage/durable-arena-store.js'
import { SqliteDatabase } from '../records/sql-database.js'
import { LoggedRecorder } from '../records/logged-recorder.js'
import { prefixed } from '../storage/prefixed.js'
import { ResilientStore } from '../storage/resilient.js'
import { parseStorageUrl } from '../storage/storage-url.js'
import type { KeyValueStore } from '../storage/types.js'
import type { WxmpConfig } from './config.js'

export interface ServerStoresOptions {
  logger: Logger
  /** Where message-log records wait while the database is down (see StartServerOptions). */
  spoolDir?: string
}

export interface ServerStores {
  /** Per-request state (dedup, replay guard): in-process for one instance, Redis for several. */
  store: KeyValueStore
  /** Durable shared state (tokens, sessions, locks): Redis when set, else the database. */
  sharedStore: KeyValueStore
  records: Records
  spool: SpoolingRecorder | undefined
  /** What the Bot takes: both stores namespaced by account, and the message log when it is on. */
  botOptions: Pick<BotOptions, 'store' | 'sharedStore' | 'records'>
  /**
   * The same for one of several accounts: the stores namespaced by its AppID (unique across
   * the accounts file), so two accounts never share a token, a dedup or replay key, a session
   * or a pending answer; the message log is shared (each row names its account).
   */
  botOptionsFor(account: { appId: string | undefined }): Pick<BotOptions, 'store' | 'sharedStore' | 'records'>
  /** Closes the stores, the spool (one last flush) and the records, in that order. */
  close(): Promise<void>
}

/** The durable store for tokens and sessions that the CLI and the server share. */
export function openSharedStore(config: WxmpConfig): KeyValueStore {
  return createStore(config.redisUrl ?? config.databaseUrl, { variable: config.redisUrl === undefined ? 'DATABASE_URL' : 'REDIS_URL' })
}

export async function openServerStores(config: WxmpConfig, options: ServerStoresOptions): Promise<ServerStores> {
  const { logger } = options
  const opened: Array<{ close(): Promise<void> }> = []
  const closeOpened = () => Promise.all(opened.reverse().map((s) => s.close().catch(() => undefined)))
  try {
    const backend = openSharedStore(config)
    opened.push(backend)
    await backend.ping()
    // a network store that goes away must not take the webhook with it: memory stands in meanwhile
    const sharedStore = backend.kind === 'redis' || backend.kind === 'postgres' ? new ResilientStore(backend, { logger }) : backend
    opened[0] = sharedStore
    const records = await openRecords(config.databaseUrl)
    opened.push(records)
    const file = sqliteFileOf(records)
    const store = config.redisUrl === undefined ? await perRequestStore(file, logger) : sharedStore
    if (store !== sharedStore) opened.push(store)
    // on a SQLite file, the message log is appended beside it and loaded in bulk (src/records/logged-recorder.ts)
    const appended = config.messageLog && file !== undefined ? await LoggedRecorder.open(records.messages, records.db as SqliteDatabase, { dir: `${file}-log`, logger }) : undefined
    if (appended !== undefined) opened.push(appended)
    // the appended log is the spool of a SQLite file; a spool elsewhere (another disk) only when asked for
    const spoolDir = options.spoolDir ?? (appended === undefined ? defaultSpoolDir(config.databaseUrl) : undefined)
    const spool =
      config.messageLog && spoolDir !== undefined
        ? await SpoolingRecorder.open(appended ?? records.messages, { dir: spoolDir, logger, probe: () => records.messages.recent({ limit: 1 }), followers: records.followers })
        : undefined
    const recorder = config.messageLog ? (spool ?? appended ?? records.messages) : undefined
    // one Redis or one database can serve several accounts: every key is namespaced by account
    // (the same namespace as the CLI's API client: src/api/from-config.ts)
    const botOptionsFor = (account: { appId: string | undefined }) => {
      const namespace = accountNamespace(account.appId)
      return { store: prefixed(store, namespace), sharedStore: prefixed(sharedStore, namespace), ...(recorder === undefined ? {} : { records: recorder }) }
    }
    return {
      store,
      sharedStore,
      records,
      spool,
      botOptions: botOptionsFor(config),
      botOptionsFor,
      async close() {
        await Promise.all([...new Set([store, sharedStore])].map((s) => s.close().catch(() => undefined)))
        await spool?.close().catch(() => undefined)
        await appended?.close().catch(() => undefined)
        await records.close().catch(() => undefined)
      },
    }
  } catch (err) {
    await closeOpened()
    throw err
  }
}

/**
 * One instance's replay guard and dedup: in an off-heap arena (bounded memory, nothing for the
 * garbage collector), journaled beside the SQLite file when there is one so that a restart
 * keeps them (src/storage/durable-arena-store.ts); in memory only on PostgreSQL without Redis
 * and on `memory:`, where a restart forgets them (docs/storage.md).
 */
async function perRequestStore(file: string | undefined, logger: Logger): Promise<KeyValueStore> {
  if (file !== undefined) return DurableArenaStore.open(`${file}-store`, { logger })
  return new ArenaStore()
}

/** The records' SQLite file (absolute), or undefined for PostgreSQL and in-memory databases. */
function sqliteFileOf(records: Records): string | undefined {
  const database = records.db
  return database instanceof SqliteDatabase && !database.inMemory ? database.filename : undefined
}

/** Beside the SQLite file, so tests and several databases never share a spool; none for memory. */
function defaultSpoolDir(databaseUrl: string): string | undefined {
  const target = parseStorageUrl(databaseUrl, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  if (target.kind === 'memory' || (target.kind === 'sqlite' && target.filename === ':memory:')) return undefined
  return target.kind === 'sqlite' ? join(dirname(resolve(target.filename)), 'spool') : resolve('data', 'spool')
}
