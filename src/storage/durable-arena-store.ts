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
 */
import { readFileSync, unlinkSync } from 'node:fs'
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
  /** When a journal write failed (0: never). */
  private failedAt = 0
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
        if (segment === this.lastSegment) return
        // a new segment began: the one `keep` back holds nothing the arena could still have
        this.lastSegment = segment
        for (let old = segment - this.keep; old > 0 && old > segment - this.keep - 2; old--) this.log.remove(old)
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
      whenDurable: () => (this.log.unwritten === 0 ? undefined : this.log.written()),
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
    for (const file of orphanFiles(dir, 'journal')) {
      adopted.push(file)
      for (const record of readRecords(readFileSync(join(dir, file)))) {
        if (record.kind === KIND_HORIZON) horizon = Math.max(horizon, record.insertedAt)
        else records.push(record)
      }
    }
    const store = new DurableArenaStore(dir, horizon, options)
    claimPrefix(store.log.prefix)
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

  /** See ArenaStore.wouldRemember; a journal write that failed also counts as forgetting. */
  wouldRemember(key: string, at: number): boolean {
    return at > this.failedAt && this.store.wouldRemember(key, at)
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
    this.log.close()
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
    const { buf, at } = this.log.reserve(HEADER_BYTES)
    buf.writeUInt32LE(HEADER_BYTES, at)
    buf.writeUInt16LE(0, at + 4)
    buf[at + 6] = KIND_HORIZON
    buf[at + 7] = 0
    buf.writeUInt32LE(0, at + 8)
    buf.writeUInt32LE(0, at + 12)
    buf.writeDoubleLE(horizon, at + 16)
    buf.writeDoubleLE(horizon, at + 24)
    this.lastOffset = -1
  }

  private failed(err: unknown): void {
    // what this turn wrote may be missing after a restart: the next write says so
    this.failedAt = this.now()
    if (this.warned || this.closed) return
    this.warned = true
    this.options.logger?.warn(
      { code: 'WX_ERR_STORAGE', err: err instanceof Error ? err.message : String(err), dir: this.dir },
      'replay and dedup journal write failed: queries signed before now that the journal may have missed are refused after a restart',
    )
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}
