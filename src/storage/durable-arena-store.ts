/**
 * The per-request store of the default server (one instance, SQLite file): an ArenaStore whose
 * records are also appended to a journal beside the database file (`wxmp.db-store/`), so that
 * the replay guard and the deduper remember across a restart what they saw before it.
 *
 * Cheap by construction: the records are already packed bytes in the arena; each is copied to
 * the journal's buffer, and the turn's bytes go to the file in one `write` at the turn's end,
 * before the answers of that turn are written to their sockets (both run at the end of the
 * turn, the journal first: it was scheduled by the request's first record). A journal write
 * that returned survives kill -9. Only the last budget or so of bytes is kept: what is older
 * has been overwritten in the arena too.
 *
 * Guarantee (docs/storage.md): after a restart, a query or message seen before it is
 * recognised as long as its record was still within the budget; what the store could not keep
 * (overwritten under a flood, or a journal write that failed) is remembered as a horizon, and
 * after a restart `wouldRemember` is false for records written up to it: the replay guard
 * refuses a never-seen query signed before it.
 *
 * A journal write that fails (disk full) does not stop the server: the arena still holds every
 * record, so nothing changes while it runs, and answers do not wait for a journal that cannot
 * be written. For the next start, the first failure is marked in place in a small file written
 * when the store opened (`<prefix>-0.log`, overwriting its bytes needs no new disk space): a
 * start that finds the mark does not vouch for anything before itself, since the records
 * since the failure are missing. Once a write succeeds again it carries a horizon record for
 * the gap, and the mark is cleared.
 *
 * The journal is not fsynced: a write that returned is in the kernel's page cache, which
 * survives the process (kill -9, a crash) but not the machine (power cut, kernel panic), where
 * the last seconds of writes may be lost. A start that finds journal files last written before
 * the machine booted therefore vouches for nothing signed before the boot.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { uptime } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '../logger.js'
import { AppendLog } from './append-log.js'
import { HEADER_BYTES, KIND_DELETE, readRecords, type ArenaRecord } from './arena.js'
import { ArenaStore, DEFAULT_BUDGET } from './arena-store.js'
import { claimPrefix, instancePrefix, orphanFiles, releasePrefix } from './instance-files.js'
import type { KeyValueStore, LocalStore } from './types.js'

export interface DurableArenaStoreOptions {
  /** Bytes for the records in memory (see ArenaStore). Default 24 MiB. */
  budgetBytes?: number
  now?: () => number
  /** Where the one warning about a failed journal write goes. */
  logger?: Pick<Logger, 'warn' | 'info'>
  /** When the machine booted (Unix ms); default from `os.uptime()`. */
  bootTime?: number
}

/** A journal record that carries the store's horizon in its "inserted at" (no key, no value). */
const KIND_HORIZON = 4

export class DurableArenaStore implements KeyValueStore {
  readonly kind = 'memory'
  readonly local: LocalStore
  private readonly store: ArenaStore
  private readonly log: AppendLog
  private readonly now: () => number
  /** The horizon last written to the journal. */
  private journaledHorizon = 0
  /** When a journal write last failed (0: never). */
  private failedAt = 0
  /** The mark file says "records since a failure are missing" (see the class comment). */
  private marked = false
  private markFd = -1
  private warned = false
  private closed = false
  /** Where the last record copied to the journal sits in the arena, and the journal buffer's length after it. */
  private lastOffset = -1
  private lastEnd = -1
  private readonly keep: number
  private lastSegment = 1

  private constructor(
    readonly dir: string,
    horizon: number,
    private readonly options: DurableArenaStoreOptions,
  ) {
    this.now = options.now ?? Date.now
    const budget = options.budgetBytes ?? DEFAULT_BUDGET
    // segments of half a budget, the last three kept: at least a budget of the newest records
    this.keep = 3
    this.log = new AppendLog(dir, instancePrefix('journal'), {
      segmentBytes: Math.ceil(budget / 2),
      onWritten: (segment) => {
        // the write that carried the horizon for the last failure succeeded: the gap is on record
        if (this.marked && this.journaledHorizon >= this.failedAt) this.mark(0)
        if (segment === this.lastSegment) return
        // a new segment began: the one `keep` back holds nothing the arena could still have
        this.lastSegment = segment
        for (let old = segment - this.keep; old > 0 && old > segment - this.keep - 2; old--) void this.log.remove(old)
      },
      onError: (err) => this.failed(err),
    })
    this.store = new ArenaStore({
      budgetBytes: budget,
      now: this.now,
      horizon,
      onRecord: (offset, length) => this.journal(offset, length),
      onRewind: (offset, length) => this.unjournal(offset, length),
    })
    const store = this.store
    this.local = {
      addLocal: (key, value, ttlMs) => store.addLocal(key, value, ttlMs),
      getLocal: <T>(key: string) => store.getLocal<T>(key),
      setLocal: (key, value, ttlMs) => store.setLocal(key, value, ttlMs),
      deleteLocalIf: (key, expected) => store.deleteLocalIf(key, expected),
      // a failed write does not fail the answer (the mark covers it at the next start)
      whenDurable: () => this.log.attempted(),
    }
  }

  /**
   * Opens the journal folder (created when missing), loads the journals of stopped instances
   * (this host's dead processes, or files nobody touched for two minutes), writes what is
   * still live into this instance's own journal, and deletes theirs.
   */
  static async open(dir: string, options: DurableArenaStoreOptions = {}): Promise<DurableArenaStore> {
    const now = (options.now ?? Date.now)()
    const records: ArenaRecord[] = []
    let horizon = 0
    const adopted: string[] = []
    const bootTime = options.bootTime ?? Date.now() - uptime() * 1000
    for (const file of orphanFiles(dir, 'journal')) {
      adopted.push(file)
      const path = join(dir, file)
      // written before the machine (re)booted: its last writes may never have left the page
      // cache (no fsync), so nothing signed before the boot is vouched for
      if (modifiedAt(path) < bootTime) horizon = Math.max(horizon, bootTime)
      for (const record of readRecords(readFileSync(path))) {
        // a mark left by a failed write: the records since are missing, up to that instance's end
        if (record.kind === KIND_HORIZON) horizon = Math.max(horizon, record.expiresAt === Infinity ? now : record.insertedAt)
        else records.push(record)
      }
    }
    const store = new DurableArenaStore(dir, horizon, options)
    claimPrefix(store.log.prefix)
    store.openMark()
    for (const record of records) {
      if (record.kind !== KIND_DELETE && record.expiresAt <= now) continue
      // the loaded record is written to this instance's journal too, before the old files go
      const at = store.store.restore(record, now)
      if (at >= 0) store.log.append(store.store.arena.buf, at, at + store.store.arena.recordLength(at))
    }
    store.writeHorizon(horizon)
    store.log.flush()
    for (const file of adopted) unlinkQuietly(join(dir, file))
    return store
  }

  /** See ArenaStore.wouldRemember (a failed journal write changes nothing while the process runs). */
  wouldRemember(key: string, at: number): boolean {
    return this.store.wouldRemember(key, at)
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    return this.store.get<T>(key)
  }

  set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    return this.store.set(key, value, ttlMs)
  }

  delete(key: string): Promise<void> {
    return this.store.delete(key)
  }

  add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.store.add(key, value, ttlMs)
  }

  deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.store.deleteIf(key, expected)
  }

  async ping(): Promise<void> {}

  /** Writes what is pending and closes the journal (it stays for the next start). */
  async close(): Promise<void> {
    if (this.closed) return
    this.writeHorizon(Math.max(this.store.horizon, this.failedAt))
    this.log.close() // its last write clears the mark when it succeeds (onWritten)
    if (this.markFd >= 0) closeSync(this.markFd)
    if (!this.marked) unlinkQuietly(this.log.path(0))
    releasePrefix(this.log.prefix)
    this.closed = true
    await this.store.close()
  }

  /** A record was written to the arena: its bytes join this turn's write. */
  private journal(offset: number, length: number): void {
    if (this.closed) return
    const horizon = Math.max(this.store.horizon, this.failedAt)
    if (horizon > this.journaledHorizon) this.writeHorizon(horizon)
    this.log.append(this.store.arena.buf, offset, offset + length)
    this.lastOffset = offset
    this.lastEnd = this.log.unwritten
  }

  /** The newest record is being written over: drop it from this turn's write too, if it is still its last. */
  private unjournal(offset: number, length: number): void {
    if (offset !== this.lastOffset || this.log.unwritten !== this.lastEnd) return
    this.log.shrink(length)
    this.lastOffset = -1
  }

  /** A record saying "records written up to `horizon` may be gone", for the next start. */
  private writeHorizon(horizon: number): void {
    if (horizon <= 0) return
    this.journaledHorizon = Math.max(this.journaledHorizon, horizon)
    this.log.append(horizonRecord(horizon, horizon))
    this.lastOffset = -1
  }

  private failed(err: unknown): void {
    // what this turn wrote is missing from the journal: marked now for a start that follows, and
    // the next write that succeeds carries a horizon record for the gap
    this.failedAt = this.now()
    // which horizon records that write carried is unknown: the next write carries one again
    this.journaledHorizon = 0
    if (!this.marked) this.mark(this.failedAt)
    if (this.warned || this.closed) return
    this.warned = true
    this.options.logger?.warn(
      { code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err), dir: this.dir },
      'replay and dedup journal write failed: answering from memory; a restart before it writes again refuses the queries signed before it that it does not hold',
    )
  }

  /** The mark file: one horizon record (32 bytes), written while there is room, overwritten in place. */
  private openMark(): void {
    try {
      this.markFd = openSync(this.log.path(0), 'w', 0o600)
      writeSync(this.markFd, horizonRecord(0, 0))
    } catch (err) {
      if (this.markFd >= 0) closeSync(this.markFd)
      this.markFd = -1
      this.options.logger?.warn({ code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err), dir: this.dir }, 'replay and dedup journal: cannot create its failure mark')
    }
  }

  /** Sets (`since` > 0: records since then missing) or clears the mark, in place. */
  private mark(since: number): void {
    this.marked = since > 0
    if (this.markFd < 0) return
    try {
      writeSync(this.markFd, horizonRecord(since, since > 0 ? Infinity : 0), 0, HEADER_BYTES, 0)
    } catch {
      // the bytes are allocated: this fails only on a copy-on-write file system; nothing better to do
    }
  }
}

/** A horizon record: no key, no value; "inserted at" the horizon ("expires at" Infinity: a failure mark). */
function horizonRecord(insertedAt: number, expiresAt: number): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES)
  buf.writeUInt32LE(HEADER_BYTES, 0)
  buf[6] = KIND_HORIZON
  buf.writeDoubleLE(insertedAt, 16)
  buf.writeDoubleLE(expiresAt, 24)
  return buf
}

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs
  } catch {
    return Infinity
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
