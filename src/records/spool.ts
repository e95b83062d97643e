/**
 * A message log that loses nothing while its database is down. `SpoolingRecorder` wraps the
 * bot's MessageRecorder: when a write fails (or hangs), the record is appended to a local JSONL
 * spool file and the call returns at once, so the reply still goes out; a replay loop writes
 * the spool to the database later, in order, and deletes it when it is empty.
 *
 * Files: one spool per running instance, `spool-<pid>-<random>@<host>.jsonl` in `dir`. An
 * instance adopts the spool of a stopped one (same host and a dead pid, or a file nobody has
 * touched for `orphanAfterMs`) by renaming it first, so two instances never replay one file.
 * Records that the database refuses for good (a bad value, a row that no longer exists) are
 * set aside in `rejected.jsonl` in the same folder, with the error, never dropped.
 *
 * Delivery is at least once: after a crash between a replayed write and the spool's rewrite,
 * a record is written again. The message log makes that harmless (a repeated inbound record
 * only counts one more delivery on its row; an outcome overwrites the same values).
 */
import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import type { InboundRecord, MessageRecorder, OutcomeRecord } from '../bot-options.js'
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { FollowerChange, Followers } from './followers.js'
import { DeadlineQueue } from '../pipeline/deadline-queue.js'
import { isRowRef } from './row-ref.js'
import { adoptOrphanSpools, appendSpoolLine, claimedFileName, errorText, liveFiles, rewriteSpool, setAside, spoolFileName, type SpoolLine } from './spool-files.js'

export interface SpoolOptions {
  /** Folder for the spool files (created when missing). */
  dir: string
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
  /**
   * Answers when the database is reachable (e.g. `() => records.messages.recent({ limit: 1 })`).
   * With it, a record the database keeps refusing while it answers is set aside instead of
   * blocking the spool; without it, every failure counts as an outage.
   */
  probe?: () => Promise<unknown>
  /** A database write with no answer after this long is spooled. Default 2000 ms. */
  writeTimeoutMs?: number
  /** First replay retry after a failure; doubles up to `maxRetryMs`. Default 1000 ms. */
  retryMs?: number
  maxRetryMs?: number
  /** Failed replays of one record, while the probe says the database answers, before it is set aside. Default 5. */
  maxAttempts?: number
  /** A spool file untouched for this long belongs to a stopped instance. Default 120 s. */
  orphanAfterMs?: number
  /** Told whenever the number of spooled records changes (metrics). */
  onChange?: (pending: number) => void
  /** Where `recordFollower` writes (records.followers): a subscribe or unsubscribe is spooled like a message. */
  followers?: Pick<Followers, 'record'>
}

const REF_PREFIX = 'spool:'
const MAX_REFS = 200_000
const PERSIST_EVERY = 100
const REORDER_WINDOW = 256

/**
 * @example
 * const records = await openRecords(process.env.DATABASE_URL!)
 * const log = await SpoolingRecorder.open(records.messages, { dir: './data/spool', probe: () => records.messages.recent({ limit: 1 }) })
 * const bot = new Bot({ token, records: log })
 */
export class SpoolingRecorder implements MessageRecorder {
  /** This instance's spool file. */
  readonly file: string
  private readonly queue: SpoolLine[] = []
  private readonly refs = new Map<string, string | number>()
  /** The wrapped log's reference of spooled messages, computed once each (see messageAhead). */
  private readonly rowRefs = new WeakMap<InboundRecord, string | number | undefined>()
  private readonly host = hostname()
  private readonly id = randomBytes(4).toString('hex')
  private refCounter = 0
  private attempts = 0
  private failures = 0
  private backoffMs: number
  private replaying: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private orphanTimer: NodeJS.Timeout | undefined
  private outage = false
  private closed = false
  private written = 0

  /**
   * The wrapped log's reference before the write, when it has one (src/records/row-ref.ts). It
   * names the row by its unique key, not by where the record went: an outcome recorded with it
   * finds the row whether the message went straight in or through the spool (replayed in order,
   * its outcome after it).
   */
  readonly idOf: ((entry: InboundRecord) => string | number) | undefined

  private constructor(
    private readonly inner: MessageRecorder,
    private readonly options: SpoolOptions,
  ) {
    this.idOf = inner.idOf?.bind(inner)
    mkdirSync(options.dir, { recursive: true, mode: 0o700 })
    this.file = spoolFileName(options.dir, this.id, this.host)
    this.backoffMs = options.retryMs ?? 1000
    liveFiles.add(this.file)
  }

  /** Opens the spool folder, adopts the spools of stopped instances and starts replaying them. */
  static async open(inner: MessageRecorder, options: SpoolOptions): Promise<SpoolingRecorder> {
    const spool = new SpoolingRecorder(inner, options)
    spool.adoptOrphans()
    const every = options.orphanAfterMs ?? 120_000
    spool.orphanTimer = setInterval(() => spool.adoptOrphans(), Math.max(1000, every / 2))
    spool.orphanTimer.unref()
    if (spool.queue.length > 0) {
      options.logger?.warn({ pending: spool.queue.length, file: spool.file }, 'message log spool left by a stopped instance: writing it to the database')
      await spool.flush()
    }
    return spool
  }

  /** Records waiting in the spool. */
  get pending(): number {
    return this.queue.length
  }

  /** Records written from the spool to the database since start. */
  get replayed(): number {
    return this.written
  }

  async recordInbound(entry: InboundRecord): Promise<string | number> {
    if (this.queue.length === 0 && !this.closed) {
      try {
        return await this.withTimeout(this.inner.recordInbound(entry))
      } catch (err) {
        if (isInputError(err)) {
          this.reject({ op: 'inbound', ref: '', entry }, err)
          throw err
        }
        this.noteOutage(err)
      }
    }
    const ref = `${REF_PREFIX}${this.id}-${(++this.refCounter).toString(36)}`
    this.append({ op: 'inbound', ref, entry })
    return ref
  }

  async recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void> {
    const target = this.resolve(id)
    if (this.queue.length === 0 && !isRef(target) && !this.closed) {
      try {
        await this.withTimeout(this.inner.recordOutcome(target, outcome))
        return
      } catch (err) {
        if (isInputError(err)) {
          this.reject({ op: 'outcome', id: target, outcome }, err)
          throw err
        }
        this.noteOutage(err)
      }
    }
    this.append({ op: 'outcome', id: target, outcome })
  }

  /**
   * Records a subscribe or unsubscribe (records.followers.record), or spools it while the
   * database is down, in order with the messages; replayed like them. Resolves false for a
   * change that was already recorded (a retry), as Followers.record does.
   */
  async recordFollower(change: FollowerChange): Promise<boolean> {
    const followers = this.options.followers
    if (followers === undefined) throw new TypeError('this spool was opened without `followers`')
    if (this.queue.length === 0 && !this.closed) {
      try {
        return await this.withTimeout(followers.record(change))
      } catch (err) {
        if (isInputError(err)) {
          this.reject({ op: 'follower', change }, err)
          throw err
        }
        this.noteOutage(err)
      }
    }
    this.append({ op: 'follower', change })
    return true
  }

  /** Replays the spool now; resolves true when it is empty. */
  async flush(): Promise<boolean> {
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.replaying ??= this.replay().finally(() => (this.replaying = undefined))
    await this.replaying
    return this.queue.length === 0
  }

  /**
   * Stops the timers after one last bounded attempt to empty the spool. What is left stays in
   * the file and is replayed by the next start (or adopted by another instance).
   */
  async close(options: { flushMs?: number } = {}): Promise<void> {
    if (this.closed) return
    clearInterval(this.orphanTimer)
    clearTimeout(this.retryTimer)
    if (this.queue.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([this.flush(), new Promise((resolve) => (timer = setTimeout(resolve, options.flushMs ?? 2000)))])
      clearTimeout(timer)
    }
    this.closed = true
    clearTimeout(this.retryTimer)
    await this.replaying
    this.persist()
    liveFiles.delete(this.file)
  }

  private async replay(): Promise<void> {
    while (this.queue.length > 0) {
      const line = this.queue[0]!
      try {
        if (line.op === 'inbound') {
          const id = await this.withTimeout(this.inner.recordInbound(line.entry))
          this.remember(line.ref, id)
        } else if (line.op === 'follower') {
          if (this.options.followers === undefined) throw new TypeError('a spooled follower change, and no followers to write it to')
          await this.withTimeout(this.options.followers.record(line.change))
        } else {
          const id = this.resolve(line.id)
          if (isRef(id)) throw new TypeError(`outcome for ${id}, whose inbound record is not in the spool: it cannot be tied to a row`)
          const message = isRowRef(id) ? this.messageAhead(id) : -1
          if (message > 0) {
            // its message is spooled after it: it goes right after its message
            this.queue.splice(message + 1, 0, line)
            this.queue.shift()
            continue
          }
          await this.withTimeout(this.inner.recordOutcome(id, line.outcome))
        }
      } catch (err) {
        if (isInputError(err) || (++this.attempts >= (this.options.maxAttempts ?? 5) && (await this.databaseAnswers()))) {
          this.reject(line, err)
          this.queue.shift()
          this.attempts = 0
          this.changed()
          continue
        }
        this.noteOutage(err)
        this.persist()
        this.scheduleRetry()
        return
      }
      this.queue.shift()
      this.attempts = 0
      this.written++
      if (this.written % PERSIST_EVERY === 0) this.persist()
      this.changed()
    }
    this.persist()
    this.backoffMs = this.options.retryMs ?? 1000
    if (this.outage) {
      this.outage = false
      this.options.logger?.info({ written: this.written, failures: this.failures }, 'message log spool drained: every spooled record is in the database')
    }
  }

  /**
   * Where the message of an outcome recorded by its row's reference waits further on in the
   * spool, or -1. Both are written in the same write (the turn's file write, PostgreSQL's
   * INSERT); when it fails, the outcome's failure can be reported, and spooled, before the
   * message's, and written first it would find no row. A turn's records are close together, so
   * only the next REORDER_WINDOW lines are searched.
   */
  private messageAhead(ref: string): number {
    if (this.inner.idOf === undefined) return -1
    const end = Math.min(this.queue.length, REORDER_WINDOW + 1)
    for (let i = 1; i < end; i++) {
      const line = this.queue[i]!
      if (line.op === 'inbound' && this.referenceOf(line.entry) === ref) return i
    }
    return -1
  }

  private referenceOf(entry: InboundRecord): string | number | undefined {
    let ref = this.rowRefs.get(entry)
    if (ref === undefined && !this.rowRefs.has(entry)) {
      try {
        ref = this.inner.idOf?.(entry)
      } catch {
        // a refused message has no reference
      }
      this.rowRefs.set(entry, ref)
    }
    return ref
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== undefined) return
    const delay = this.backoffMs
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxRetryMs ?? 30_000)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, delay)
    this.retryTimer.unref()
  }

  private noteOutage(err: unknown): void {
    this.failures++
    if (!this.outage) {
      this.outage = true
      this.options.logger?.warn(
        { code: 'WX_ERR_STORAGE', err: errorText(err), file: this.file },
        'message log write failed: records go to the local spool and are written when the database answers again',
      )
    }
    this.scheduleRetry()
  }

  private async databaseAnswers(): Promise<boolean> {
    if (this.options.probe === undefined) return false
    try {
      await this.withTimeout(Promise.resolve(this.options.probe()))
      return true
    } catch {
      return false
    }
  }

  private append(line: SpoolLine): void {
    appendSpoolLine(this.file, line)
    this.queue.push(line)
    this.changed()
  }

  /** Rewrites the spool file from the queue (refs already written are replaced by row ids). */
  private persist(): void {
    rewriteSpool(this.file, this.queue.map((line) => (line.op === 'outcome' ? { ...line, id: this.resolve(line.id) } : line)))
  }

  private reject(line: SpoolLine, err: unknown): void {
    const file = setAside(this.options.dir, line, err)
    this.options.logger?.error({ code: 'WX_ERR_STORAGE', err: errorText(err), file }, 'message log refused a record: set aside in the rejected file, not lost')
  }

  private resolve(id: string | number): string | number {
    return typeof id === 'string' && isRef(id) ? (this.refs.get(id) ?? id) : id
  }

  private remember(ref: string, id: string | number): void {
    if (this.refs.size >= MAX_REFS) this.refs.delete(this.refs.keys().next().value!)
    this.refs.set(ref, id)
  }

  private changed(): void {
    this.options.onChange?.(this.queue.length)
  }

  /** Takes over the spool files of stopped instances: rename (so only one taker wins), read, merge, delete. */
  private adoptOrphans(): void {
    if (this.closed) return
    const claimedName = () => claimedFileName(this.options.dir, this.id, ++this.refCounter, this.host)
    const adopted = adoptOrphanSpools(this.options.dir, this.file, this.host, this.options.orphanAfterMs ?? 120_000, claimedName, (lines) => {
      for (const line of lines) this.queue.push(line)
      this.persist()
    })
    if (adopted > 0) {
      this.changed()
      this.scheduleRetry()
    }
  }

  /**
   * The write, or a WX_ERR_STORAGE failure once it has had no answer for `writeTimeoutMs`. On
   * the shared deadline list, not a timer and a race per write: this runs for every message.
   */
  private withTimeout<R>(work: Promise<R>): Promise<R> {
    const ms = this.options.writeTimeoutMs ?? 2000
    return new Promise<R>((resolve, reject) => {
      const deadline = writeDeadlines.schedule(ms, () => reject(new WxmpError('WX_ERR_STORAGE', `message log write gave no answer within ${ms} ms`)))
      work.then(
        (value) => {
          writeDeadlines.cancel(deadline)
          resolve(value)
        },
        (err: unknown) => {
          writeDeadlines.cancel(deadline)
          reject(err)
        },
      )
    })
  }
}

/** The deadlines of every spool's writes in flight, on one timer. */
const writeDeadlines = new DeadlineQueue()

function isRef(id: string | number): id is string {
  return typeof id === 'string' && id.startsWith(REF_PREFIX)
}

/** Errors that say the record itself is wrong (the records module's input checks). */
function isInputError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError
}
