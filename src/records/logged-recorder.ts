/**
 * The server's message log on a SQLite file: each record is appended to a file beside the
 * database (`wxmp.db-log/`), written once per event-loop turn, and loaded into SQLite in bulk,
 * every 50 ms, by the writer thread (src/records/sqlite-writer-worker.ts).
 *
 * Why: the message log must be durable before each answer leaves. A SQLite transaction per
 * turn put B-tree pages of four indexes (one random page per message for the per-follower
 * index) through the WAL on the event loop, and cost more than the rest of the request; an
 * append is one system call per turn, and a load of thousands of records in one transaction
 * costs a fraction per record (an inbound record and its outcome, usually in the same load,
 * become one INSERT instead of an INSERT and an UPDATE), on the other core.
 *
 * The promise is the same: `recordInbound` resolves once the record is written (it survives
 * kill -9, as a SQLite commit with synchronous=NORMAL does), the answer leaves after that, and
 * the row is in SQLite within one load, at most about 50 ms later; reads through the records
 * API (`records.messages.recent()`…) first load what is pending, so they see every message
 * recorded before them. A load saves the files' offsets in the same transaction as the rows,
 * so every record is loaded exactly once, also after a crash: the next start loads what the
 * stopped instance left (its files), then deletes them.
 *
 * Record ids: `recordInbound` returns a reference (`log:["wx…","m:…"]`, the row's unique
 * AppID and dedup key), which `recordOutcome` takes back.
 */
import { unlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { InboundRecord, MessageRecorder, OutcomeRecord } from '../bot-options.js'
import type { Logger } from '../logger.js'
import { AppendLog } from '../storage/append-log.js'
import { claimPrefix, instancePrefix, orphanFiles, releasePrefix } from '../storage/instance-files.js'
import { BULK_SQL, inboundParams, outcomeParams, type MessageLog } from './message-log.js'
import type { SqliteDatabase } from './sql-database.js'

export interface LoggedRecorderOptions {
  /** Folder of the appended files (created when missing): `<database file>-log` by the server. */
  dir: string
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
  /** How often appended records are loaded into SQLite. Default 50 ms. */
  loadEveryMs?: number
  now?: () => number
}

const STATE_TABLE = 'wxmp_log_loaded'
const SAVE_OFFSET = `INSERT INTO ${STATE_TABLE} (file, loaded) VALUES (?, ?) ON CONFLICT (file) DO UPDATE SET loaded = excluded.loaded`
const REF = 'log:'

interface Segment {
  /** Bytes written to the file. */
  size: number
  /** Bytes loaded into SQLite. */
  loaded: number
}

export class LoggedRecorder implements MessageRecorder {
  private readonly log: AppendLog
  private readonly segments = new Map<number, Segment>()
  private timer: NodeJS.Timeout | undefined
  private loading: Promise<void> | undefined
  private failures = 0
  private closed = false
  private readonly now: () => number

  private constructor(
    private readonly messages: MessageLog,
    private readonly db: SqliteDatabase,
    private readonly options: LoggedRecorderOptions,
  ) {
    this.now = options.now ?? Date.now
    this.log = new AppendLog(options.dir, instancePrefix('messages'), {
      onWritten: (segment, size) => {
        const known = this.segments.get(segment)
        if (known === undefined) this.segments.set(segment, { size, loaded: 0 })
        else known.size = size
      },
      onError: (err) => this.options.logger?.error({ code: 'WX_ERR_STORAGE', err: errorText(err), dir: options.dir }, 'message log append failed: this turn\'s records are not durable'),
    })
    claimPrefix(this.log.prefix)
  }

  /**
   * Opens the folder, loads what stopped instances left in it, and starts loading this
   * instance's records as they are written. Reads through `messages` load pending records first.
   */
  static async open(messages: MessageLog, db: SqliteDatabase, options: LoggedRecorderOptions): Promise<LoggedRecorder> {
    await db.exec(`CREATE TABLE IF NOT EXISTS ${STATE_TABLE} (file TEXT PRIMARY KEY, loaded BIGINT NOT NULL)`)
    const recorder = new LoggedRecorder(messages, db, options)
    await recorder.adoptOrphans()
    messages.beforeRead = () => recorder.flush()
    recorder.timer = setInterval(() => void recorder.load().catch(() => undefined), options.loadEveryMs ?? 50)
    recorder.timer.unref()
    return recorder
  }

  /** Bytes appended and not yet loaded into SQLite. */
  get pending(): number {
    let bytes = this.log.unwritten
    for (const segment of this.segments.values()) bytes += segment.size - segment.loaded
    return bytes
  }

  async recordInbound(entry: InboundRecord): Promise<string> {
    const params = inboundParams(entry) // refused here, with the field named, like the SQL log does
    const ref = REF + JSON.stringify([params[0], params[1]])
    this.log.appendText(`${JSON.stringify(['i', ref, ...params])}\n`)
    await this.log.written()
    return ref
  }

  async recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void> {
    if (typeof id === 'number' || !id.startsWith(REF)) return this.messages.recordOutcome(id, outcome)
    let key: unknown
    try {
      key = JSON.parse(id.slice(REF.length))
    } catch {
      key = undefined
    }
    if (!Array.isArray(key) || key.length !== 2 || typeof key[0] !== 'string' || typeof key[1] !== 'string') {
      throw new TypeError(`message id ${JSON.stringify(id.slice(0, 60))} is not one this message log gave`)
    }
    const values = outcomeParams(outcome, this.now())
    this.log.appendText(`${JSON.stringify(['o', id, key[0], key[1], ...values])}\n`)
    await this.log.written()
  }

  /** Loads everything written so far into SQLite (reads call it first). */
  async flush(): Promise<void> {
    this.log.flush()
    // one load may already be running with older ranges: then one more
    if (this.loading !== undefined) await this.loading.catch(() => undefined)
    await this.load()
  }

  /** Stops the timer after a last load; what could not be loaded stays in the files for the next start. */
  async close(): Promise<void> {
    if (this.closed) return
    clearInterval(this.timer)
    try {
      await this.flush()
    } catch (err) {
      this.options.logger?.warn({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log: records left in the folder for the next start')
    }
    this.closed = true
    this.log.close()
    releasePrefix(this.log.prefix)
    this.messages.beforeRead = undefined
  }

  /** One bulk load of what is written and not yet loaded. */
  load(): Promise<void> {
    if (this.loading !== undefined) return this.loading
    const ranges: Array<[string, number, number]> = []
    const upTo = new Map<number, number>()
    for (const [n, segment] of this.segments) {
      if (segment.size > segment.loaded) ranges.push([this.log.path(n), segment.loaded, segment.size])
      upTo.set(n, segment.size)
    }
    if (ranges.length === 0) return Promise.resolve()
    this.loading = this.db
      .ingest({ sql: BULK_SQL, state: SAVE_OFFSET, ranges })
      .then(
        (result) => {
          this.failures = 0
          if (result.bad > 0) this.options.logger?.warn({ code: 'WX_ERR_STORAGE', bad: result.bad }, 'message log: unreadable records skipped while loading')
          for (const [n, size] of upTo) {
            const segment = this.segments.get(n)!
            segment.loaded = size
            // a finished file, all loaded: gone, with its offset row
            if (n !== this.log.segment && segment.loaded >= segment.size) this.forget(this.log.path(n), n)
          }
        },
        (err: unknown) => {
          if (this.failures++ === 0) this.options.logger?.warn({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log: loading into SQLite failed; records stay in their files and are loaded when it works again')
          throw err
        },
      )
      .finally(() => {
        this.loading = undefined
      })
    return this.loading
  }

  private forget(path: string, segment?: number): void {
    if (segment !== undefined) this.segments.delete(segment)
    unlinkQuietly(path)
    void this.db.run(`DELETE FROM ${STATE_TABLE} WHERE file = ?`, [path]).catch(() => undefined)
  }

  /** Loads the files stopped instances left (from their saved offsets), then deletes them. */
  private async adoptOrphans(): Promise<void> {
    const dir = this.options.dir
    const files = orphanFiles(dir, 'messages')
    if (files.length === 0) return
    let total = 0
    for (const name of files) {
      const path = join(dir, name)
      const [row] = await this.db.all<{ loaded: number }>(`SELECT loaded FROM ${STATE_TABLE} WHERE file = ?`, [path])
      const from = Number(row?.loaded ?? 0)
      let size: number
      try {
        size = statSync(path).size
      } catch {
        continue
      }
      if (size > from) {
        const result = await this.db.ingest({ sql: BULK_SQL, state: SAVE_OFFSET, ranges: [[path, from, size]] })
        total += result.rows + result.updates
      }
      this.forget(path)
    }
    if (total > 0) this.options.logger?.warn({ records: total, dir }, 'message log: records a stopped instance had not loaded yet are in the database now')
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

