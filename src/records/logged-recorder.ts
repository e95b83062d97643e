/**
 * The server's message log on a SQLite file: each record is appended to a file beside the
 * database (`wxmp.db-log/`), written once per event-loop turn, and loaded into SQLite in bulk
 * by the writer thread (src/records/sqlite-writer-worker.ts): 10 ms after the writes pause, and
 * every 250 ms while they go on (under load, thousands of records in one transaction).
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
 * the row is in SQLite within one load (some 10 ms later when the server is quiet, at most
 * about 250 ms under load); reads through the records
 * API (`records.messages.recent()`…) first load what is pending, so they see every message
 * recorded before them. A load saves the files' offsets in the same transaction as the rows,
 * so every record is loaded exactly once, also after a crash: the next start loads what the
 * stopped instance left (its files), then deletes them.
 *
 * Record ids: `recordInbound` returns a reference (`log:<AppID length>:<AppID><dedup key>`,
 * the row's unique key), which `recordOutcome` takes back.
 */
import { unlink, statSync } from 'node:fs'
import { join } from 'node:path'
import type { InboundRecord, MessageRecorder, OutcomeRecord } from '../bot-options.js'
import type { Logger } from '../logger.js'
import { AppendLog } from '../storage/append-log.js'
import { claimPrefix, instancePrefix, orphanFiles, releasePrefix } from '../storage/instance-files.js'
import { BULK_SQL, inboundParams, outcomeParams, type MessageLog } from './message-log.js'
import { isRowRef, retryKeyOf, rowRefOf } from './row-ref.js'
import type { SqlParam, SqliteDatabase } from './sql-database.js'

export interface LoggedRecorderOptions {
  /** Folder of the appended files (created when missing): `<database file>-log` by the server. */
  dir: string
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
  /** How often appended records are loaded into SQLite while writes go on. Default 250 ms. */
  loadEveryMs?: number
  /** How long after the last write a load starts when writes pause. Default 10 ms. */
  loadWhenIdleMs?: number
  now?: () => number
}

const STATE_TABLE = 'wxmp_log_loaded'
const SAVE_OFFSET = `INSERT INTO ${STATE_TABLE} (file, loaded) VALUES (?, ?) ON CONFLICT (file) DO UPDATE SET loaded = excluded.loaded`
const INBOUND = 1
/** An outcome with (AppID, dedup key), from before migration 6. */
const KEY_OUTCOME = 2
/** An outcome with (AppID, CreateTime, dedup key). */
const OUTCOME = 3

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
  private idleTimer: NodeJS.Timeout | undefined
  private lastWriteAt = 0
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
        this.lastWriteAt = Date.now()
        if (this.idleTimer === undefined && !this.closed) this.armIdle(this.options.loadWhenIdleMs ?? 10)
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
    recorder.timer = setInterval(() => void recorder.load().catch(() => undefined), options.loadEveryMs ?? 250)
    recorder.timer.unref()
    return recorder
  }

  /** A load once the writes have paused for `loadWhenIdleMs` (one timer, re-armed while they go on). */
  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      const idle = this.options.loadWhenIdleMs ?? 10
      const quiet = Date.now() - this.lastWriteAt
      if (quiet < idle && !this.closed) return this.armIdle(idle - quiet)
      this.idleTimer = undefined
      // a load already running took older ranges: this one follows it
      const running = this.loading ?? Promise.resolve()
      void running.catch(() => undefined).then(() => (this.closed ? undefined : this.load())).catch(() => undefined)
    }, ms)
    this.idleTimer.unref()
  }

  /** Bytes appended and not yet loaded into SQLite. */
  get pending(): number {
    let bytes = this.log.unwritten
    for (const segment of this.segments.values()) bytes += segment.size - segment.loaded
    return bytes
  }

  recordInbound(entry: InboundRecord): Promise<string> {
    let ref: string
    try {
      ref = this.appendInbound(entry)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.log.written().then(() => ref)
  }

  /** The record into this turn's write (refused here, with the field named, like the SQL log does); its reference. */
  appendInbound(entry: InboundRecord): string {
    const params = inboundParams(entry)
    const ref = this.idOf(entry)
    this.append(INBOUND, ref, params)
    return ref
  }

  /** The row's reference: its unique key (AppID, CreateTime, dedup key), so it is known before the write. */
  idOf(entry: InboundRecord): string {
    return rowRefOf(entry)
  }

  recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void> {
    if (!isRowRef(id)) return this.messages.recordOutcome(id, outcome)
    try {
      this.appendOutcome(id, outcome)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.log.written()
  }

  /** The outcome into this turn's write; `id` must be a reference `appendInbound` gave. */
  appendOutcome(id: string | number, outcome: OutcomeRecord): void {
    const ref = typeof id === 'string' ? id : undefined
    const key = ref === undefined ? undefined : retryKeyOf(ref)
    if (ref === undefined || key === undefined) throw new TypeError(`message id ${JSON.stringify(String(id).slice(0, 60))} is not one this message log gave`)
    const values = outcomeParams(outcome, this.now())
    if (key.createTime === undefined) {
      values.unshift(key.appId, key.msgKey)
      this.append(KEY_OUTCOME, ref, values)
    } else {
      values.unshift(key.appId, key.createTime, key.msgKey)
      this.append(OUTCOME, ref, values)
    }
  }

  /**
   * One record into this turn's write: u32 length, u8 kind, u8 field count, then each field as
   * u8 tag (0 null, 1 f64, 2 u32 length + UTF-8). Strings are written as they are (no escaping,
   * no intermediate text), straight into the log's buffer.
   */
  private append(kind: number, ref: string, fields: SqlParam[]): void {
    let most = 6 + 5 + ref.length * 3
    for (const field of fields) most += typeof field === 'string' ? 5 + field.length * 3 : 9
    const { buf, at } = this.log.reserve(most)
    buf[at + 4] = kind
    buf[at + 5] = fields.length + 1
    let p = writeString(buf, at + 6, ref)
    for (const field of fields) {
      if (field === null || field === undefined) buf[p++] = 0
      else if (typeof field === 'number') {
        buf[p] = 1
        buf.writeDoubleLE(field, p + 1)
        p += 9
      } else if (typeof field === 'string') p = writeString(buf, p, field)
      else throw new TypeError('message log fields are text, numbers or null')
    }
    buf.writeUInt32LE(p - at, at)
    this.log.shrink(most - (p - at))
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
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    try {
      await this.flush()
    } catch (err) {
      this.options.logger?.warn({ code: 'WX_ERR_STORAGE', err: errorText(err) }, 'message log: records left in the folder for the next start')
    }
    this.closed = true
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
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
          const finished: Promise<void>[] = []
          this.failures = 0
          if (result.bad > 0) this.options.logger?.warn({ code: 'WX_ERR_STORAGE', bad: result.bad }, 'message log: unreadable records skipped while loading')
          for (const [n, size] of upTo) {
            const segment = this.segments.get(n)!
            segment.loaded = size
            // a finished file, all loaded: gone, with its offset row
            if (n !== this.log.segment && segment.loaded >= segment.size) finished.push(this.forget(this.log.path(n), n))
          }
          return Promise.all(finished).then(() => undefined)
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

  /**
   * A loaded file: deleted off the event loop (freeing megabytes takes the kernel a while),
   * then its offset row (a row without its file is harmless; a file without its row would be
   * loaded again).
   */
  private async forget(path: string, segment?: number): Promise<void> {
    if (segment !== undefined) this.segments.delete(segment)
    await new Promise<void>((resolve) => unlink(path, () => resolve())) // already gone is fine too
    await this.db.run(`DELETE FROM ${STATE_TABLE} WHERE file = ?`, [path]).catch(() => undefined)
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
      await this.forget(path)
    }
    if (total > 0) this.options.logger?.warn({ records: total, dir }, 'message log: records a stopped instance had not loaded yet are in the database now')
  }
}

type Utf8Buffer = Buffer & { utf8Write(text: string, at: number, max: number): number }

function writeString(buf: Buffer, at: number, text: string): number {
  buf[at] = 2
  const length = text.length === 0 ? 0 : (buf as Utf8Buffer).utf8Write(text, at + 5, text.length * 3)
  buf.writeUInt32LE(length, at + 1)
  return at + 5 + length
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

