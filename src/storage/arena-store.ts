import { randomBytes } from 'node:crypto'
import { Arena, HEADER_BYTES, KIND_DELETE, KIND_JSON, KIND_PACKED, KIND_STRING, type ArenaRecord } from './arena.js'
import { ForgottenKeys, otherHash } from './forgotten-keys.js'
import { RecentEvictions } from './recent-evictions.js'
import { packedBound, readPacked, writePacked } from './packed-value.js'
import { MAX_KEY_LENGTH, checkKey, checkTtl, encodeValue } from './codec.js'
import type { KeyValueStore, LocalStore } from './types.js'

export interface ArenaStoreOptions {
  /**
   * Bytes for the records, outside the JS heap. Default DEFAULT_BUDGET (24 MiB). Beyond it the
   * oldest records give way (see `wouldRemember`).
   */
  budgetBytes?: number
  /** Injected clock (ms), for tests that move time. */
  now?: () => number
  /**
   * Told of every record written (its bytes in `arena.buf` from `offset`, `length` long), at
   * once and in order: DurableArenaStore copies them into its journal.
   */
  onRecord?: (offset: number, length: number) => void
  /** Told when the newest record was taken back to be written over (its bytes from `offset`, `length` long). */
  onRewind?: (offset: number, length: number) => void
  /**
   * Records written up to this time (Unix ms) may be missing from the start: a journal loaded
   * from disk says what it could not keep. Default 0.
   */
  horizon?: number
  /**
   * Memory for the filter of keys let go while live (see ForgottenKeys), taken on the first
   * record let go. Default 2 MiB: about one false positive in a million lookups at 100 000 keys
   * let go within one span (11 minutes), one in fifty at a million. The latest keys let go are
   * also kept exactly (RecentEvictions), so the fresh queries of a flood never meet them.
   */
  forgottenKeysBytes?: number
}

/** False for a string with a lone surrogate, which UTF-8 cannot carry (String.prototype.isWellFormed, Node 20). */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

/**
 * The default budget, 24 MiB: the replay guard's and the deduper's records take about 0.65 KB
 * per plaintext message (0.9 KB in safe mode, where the stored answer is encrypted), so about
 * 36 000 messages are kept: WeChat's 15 s of retries up to some 2 400 messages/s.
 */
export const DEFAULT_BUDGET = 24 * 2 ** 20

/** How long a let-go key stays known (one to two spans): past the replay guard's 10-minute TTL. */
const FORGOTTEN_SPAN_MS = 11 * 60_000

/**
 * The latest keys let go that are also kept exactly (RecentEvictions: 32 768 to 65 536 of them
 * in 1 MiB, taken with the filter). A fresh message is asked about with a time up to two seconds
 * before it arrived; at two keys a message, this covers the keys let go in the last half second
 * or more of a flood of 30 000 messages a second, enough while the ring holds 1.5 s or more.
 */
const RECENT_EVICTIONS = 32_768

/** Scratch buffers above this size are let go after use. */
const SCRATCH_KEEP = 64 * 1024

/** Buffer's own UTF-8 writer: no argument juggling, returns the bytes written (never a partial character). */
type Utf8Writable = Buffer & { utf8Write(text: string, offset: number, maxBytes: number): number }

/**
 * The per-request store of one process (replay guard, dedup) in a fixed memory budget: every
 * record is packed into an off-heap ring (src/storage/arena.ts), so it costs the garbage
 * collector nothing and memory stays bounded under a flood. Values go in as JSON (a string as
 * its UTF-8 bytes) and come back as copies, through the async API and the synchronous
 * `local` one alike.
 *
 * When the budget is full the oldest records are overwritten; `wouldRemember(key, at)` then
 * says whether a record for that key would still be here, so the replay guard can refuse a
 * query it can no longer vouch for instead of taking it for new.
 *
 * @example
 * const store = new ArenaStore({ budgetBytes: 64 * 2 ** 20 })
 * store.local.addLocal('replay:abc', digest, 600_000) // true the first time
 */
export class ArenaStore implements KeyValueStore, LocalStore {
  readonly kind = 'memory'
  readonly local: LocalStore = this
  readonly arena: Arena
  private readonly now: () => number
  private readonly onRecord: ((offset: number, length: number) => void) | undefined
  private readonly onRewind: ((offset: number, length: number) => void) | undefined
  /** Scratch space for the key and the value being written (grown on demand, reused). */
  private keyBuf = Buffer.allocUnsafeSlow(4096)
  private valueBuf = Buffer.allocUnsafeSlow(4096)
  /** Records written up to this time may be gone (from the start, or records with long TTLs let go). */
  private timeHorizon: number
  /** The keys let go while live: all of a span's, in a filter, and the latest exactly (both taken on the first one). */
  private letGo: { filter: ForgottenKeys; recent: RecentEvictions } | undefined
  private readonly forgottenKeysBytes: number

  constructor(options: ArenaStoreOptions = {}) {
    const budget = Math.floor(options.budgetBytes ?? DEFAULT_BUDGET)
    if (!(budget >= 64 * 1024)) throw new RangeError(`ArenaStore budgetBytes must be at least 64 KiB, got ${String(options.budgetBytes)}`)
    this.arena = new Arena(budget, randomBytes(4).readUInt32LE(0))
    this.now = options.now ?? Date.now
    this.onRecord = options.onRecord
    this.onRewind = options.onRewind
    this.timeHorizon = options.horizon ?? 0
    this.forgottenKeysBytes = options.forgottenKeysBytes ?? 2 * 2 ** 20
    this.arena.onForget = (at, now) => this.forget(at, now)
  }

  /**
   * A live record is overwritten. Its key goes to the filter and the table of the latest ones
   * when the record would have expired within the filter's span (the replay guard's and the deduper's all do); a longer-lived
   * record moves the time horizon instead.
   */
  private forget(at: number, now: number): void {
    const arena = this.arena
    if (arena.expiresAt(at) - now > FORGOTTEN_SPAN_MS) {
      this.timeHorizon = Math.max(this.timeHorizon, arena.insertedAt(at))
      return
    }
    // allocated on the first record let go: a store within its budget never needs them
    const letGo = (this.letGo ??= { filter: new ForgottenKeys(this.forgottenKeysBytes, FORGOTTEN_SPAN_MS, now), recent: new RecentEvictions(RECENT_EVICTIONS) })
    const hash = arena.hashAt(at)
    const other = otherHash(arena.buf, at + HEADER_BYTES, arena.keyLengthAt(at))
    letGo.filter.add(hash, other, now)
    letGo.recent.add(hash, other, arena.insertedAt(at))
  }

  /**
   * Whether a record for `key` written at `at` (Unix ms) would still be here: false when the
   * key's record was let go while live (a filter of such keys, or for records with long TTLs a
   * time horizon), or when `at` predates what the store started with.
   */
  wouldRemember(key: string, at: number): boolean {
    if (at <= this.timeHorizon) return false
    // nothing written after the newest record let go was let go
    const letGo = this.letGo
    if (letGo === undefined || at > this.arena.evictedThrough) return true
    const keyLength = this.encodeKey(key)
    const other = otherHash(this.keyBuf, 0, keyLength)
    // a record written after what the exact table dropped would be in it: no false positives
    // for the fresh queries a flood makes the guard ask about (src/storage/recent-evictions.ts)
    if (at > letGo.recent.droppedThrough) return !letGo.recent.has(this.keyHash, other)
    return !letGo.filter.mayContain(this.keyHash, other, this.now())
  }

  /**
   * What a restart could vouch for (a journal row carries it): records written up to here may
   * be missing, because they were let go under the budget or because the store began after them.
   */
  get horizon(): number {
    return Math.max(this.timeHorizon, this.arena.evictedThrough)
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.getLocal<T>(key)
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.write(key, value, checkTtl(ttlMs), false)
  }

  async delete(key: string): Promise<void> {
    this.remove(key)
  }

  async add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    return this.write(key, value, checkTtl(ttlMs), true)
  }

  async deleteIf(key: string, expected: unknown): Promise<boolean> {
    return this.deleteLocalIf(key, expected)
  }

  addLocal(key: string, value: unknown, ttlMs: number): boolean {
    return this.write(key, value, ttlMs, true)
  }

  getLocal<T = unknown>(key: string): T | undefined {
    const at = this.live(this.encodeKey(key), this.now())
    return at < 0 ? undefined : (this.valueAt(at) as T)
  }

  /** The value of the record at `at`, as a copy. */
  private valueAt(at: number): unknown {
    const arena = this.arena
    const kind = arena.kindAt(at)
    if (kind === KIND_PACKED) return readPacked(arena.buf, arena.valueStart(at), arena.valueEnd(at))
    const text = arena.buf.toString('utf8', arena.valueStart(at), arena.valueEnd(at))
    return kind === KIND_STRING ? text : JSON.parse(text)
  }

  setLocal(key: string, value: unknown, ttlMs: number): void {
    this.write(key, value, ttlMs, false)
  }

  /** Deletes the key while it holds a value equal to `expected` (the same JSON). */
  deleteLocalIf(key: string, expected: unknown): boolean {
    const keyLength = this.encodeKey(key)
    const at = this.live(keyLength, this.now())
    if (at < 0) return false
    const kind = this.encodeValue(key, expected)
    const valueLength = this.valueLength
    const arena = this.arena
    const start = arena.valueStart(at)
    const end = arena.valueEnd(at)
    const same = arena.kindAt(at) === kind && end - start === valueLength && arena.buf.compare(this.valueBuf, 0, valueLength, start, end) === 0
    if (this.valueBuf.length > SCRATCH_KEEP) this.valueBuf = Buffer.allocUnsafeSlow(4096)
    if (same) this.appendDeletion(keyLength, arena.expiresAt(at))
    return same
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.arena.clear()
  }

  /**
   * The live records written after `since` (Unix ms), oldest first, as the async API would
   * give them back: what ResilientStore copies to its backend when it returns.
   */
  liveSince(since: number): Array<{ key: string; value: unknown; ttlMs: number | undefined }> {
    const arena = this.arena
    const now = this.now()
    const found: Array<{ key: string; value: unknown; ttlMs: number | undefined }> = []
    arena.forEach((at) => {
      if (arena.kindAt(at) === KIND_DELETE || arena.insertedAt(at) <= since || arena.expiresAt(at) <= now || !arena.isCurrent(at)) return
      const keyStart = at + HEADER_BYTES
      const text = arena.buf.toString('utf8', keyStart, keyStart + arena.keyLengthAt(at))
      const key = text.charCodeAt(0) === 0 ? (JSON.parse(text.slice(1)) as string) : text
      const expiresAt = arena.expiresAt(at)
      found.push({ key, value: this.valueAt(at), ttlMs: expiresAt === Infinity ? undefined : expiresAt - now })
    })
    return found
  }

  /**
   * Puts back a record read from a journal, without telling `onRecord`: a record still live at
   * `now` is indexed again (its offset returned), a deletion deletes (its key's record dropped;
   * -1), an expired or oversized record is skipped (-1).
   */
  restore(record: ArenaRecord, now: number): number {
    const arena = this.arena
    const hash = arena.hash(record.key, record.key.length)
    if (record.kind === KIND_DELETE) {
      arena.unlink(record.key, record.key.length, hash)
      return -1
    }
    if (record.expiresAt <= now || HEADER_BYTES + record.key.length + record.value.length > arena.maxRecordBytes) return -1
    return arena.append(record.key, record.key.length, hash, record.kind, record.value, record.value.length, record.insertedAt, record.expiresAt)
  }

  /** Length of the value last encoded into valueBuf. */
  private valueLength = 0
  /** Hash of the key last encoded into keyBuf. */
  private keyHash = 0

  private write(key: string, value: unknown, ttlMs: number | undefined, onlyIfAbsent: boolean): boolean {
    const keyLength = this.encodeKey(key)
    const arena = this.arena
    const hash = this.keyHash
    const now = this.now()
    const current = this.liveHashed(keyLength, hash, now)
    if (current >= 0) {
      if (onlyIfAbsent) return false
      // the usual set: a claim replaced by its answer before anything else was written
      const length = arena.recordLength(current)
      if (arena.rewindNewest(current)) this.onRewind?.(current, length)
    }
    // a well-formed string goes in as its UTF-8 bytes, an object or array packed, anything else as JSON text
    let at: number
    let kind: number
    let valueLength: number
    const bound = typeof value === 'string' ? -1 : packedBound(value)
    // (a value whose worst case does not fit goes as JSON text, whose exact size is known)
    if (bound >= 0 && HEADER_BYTES + keyLength + bound <= arena.maxRecordBytes) {
      kind = KIND_PACKED
      at = this.reserveFor(key, keyLength, bound, now)
      valueLength = writePacked(arena.buf, at + HEADER_BYTES + keyLength, value) - (at + HEADER_BYTES + keyLength)
    } else {
      const text = typeof value === 'string' && wellFormed(value) ? value : encodeValue(key, value)
      kind = text === value ? KIND_STRING : KIND_JSON
      // UTF-8 takes 1 to 3 bytes per UTF-16 unit: room for the most, written straight into the ring
      if (text.length * 3 + HEADER_BYTES + keyLength <= arena.maxRecordBytes) {
        at = this.reserveFor(key, keyLength, text.length * 3, now)
        valueLength = text.length === 0 ? 0 : (arena.buf as Utf8Writable).utf8Write(text, at + HEADER_BYTES + keyLength, text.length * 3)
      } else {
        valueLength = Buffer.byteLength(text, 'utf8')
        at = this.reserveFor(key, keyLength, valueLength, now)
        arena.buf.write(text, at + HEADER_BYTES + keyLength, valueLength, 'utf8')
      }
    }
    arena.writeKey(at, this.keyBuf, keyLength)
    arena.finish(at, keyLength, hash, kind, valueLength, now, ttlMs === undefined ? Infinity : now + ttlMs)
    this.onRecord?.(at, arena.recordLength(at))
    return true
  }

  /** Room for a record with this key and at most `valueBytes` of value; refuses one the budget cannot take. */
  private reserveFor(key: string, keyLength: number, valueBytes: number, now: number): number {
    const length = HEADER_BYTES + keyLength + valueBytes
    if (length > this.arena.maxRecordBytes) throw this.tooLarge(key, length)
    return this.arena.reserve(length, now)
  }

  private tooLarge(key: string, bytes: number): RangeError {
    return new RangeError(`store value for ${key.slice(0, 80)} takes ${bytes} bytes or more, above the ${this.arena.maxRecordBytes} one record of the in-process store may take (raise its budget)`)
  }

  private remove(key: string): void {
    const keyLength = this.encodeKey(key)
    const at = this.live(keyLength, this.now())
    if (at >= 0) this.appendDeletion(keyLength, this.arena.expiresAt(at))
  }

  /**
   * A deletion is a record too, so a journal replayed from disk deletes the key again. It
   * "expires" with the record it deletes: until then, a journal still holds that record.
   */
  private appendDeletion(keyLength: number, deletedExpiresAt: number): void {
    const arena = this.arena
    const now = this.now()
    const at = arena.append(this.keyBuf, keyLength, this.keyHash, KIND_DELETE, this.valueBuf, 0, now, deletedExpiresAt)
    this.onRecord?.(at, arena.recordLength(at))
  }

  /** The key's current record if it has not expired (an expired one is dropped), else -1. */
  private live(keyLength: number, now: number): number {
    return this.liveHashed(keyLength, this.keyHash, now)
  }

  private liveHashed(keyLength: number, hash: number, now: number): number {
    const arena = this.arena
    const at = arena.find(this.keyBuf, keyLength, hash)
    if (at < 0 || arena.expiresAt(at) > now) return at
    arena.unlink(this.keyBuf, keyLength, hash)
    return -1
  }

  /**
   * The key's bytes into keyBuf and its hash into keyHash; returns the byte length. Keys are
   * UTF-8, except a key with a lone surrogate (which UTF-8 cannot carry: two such keys would
   * meet as U+FFFD): a NUL, which no valid key contains, then its JSON text. The usual key is
   * ASCII and short: copied and hashed in one pass, without a call into C++.
   */
  private encodeKey(key: string): number {
    if (typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH) {
      const buf = this.keyBuf
      let h = this.arena.hashSeed
      let i = 0
      for (; i < key.length; i++) {
        const c = key.charCodeAt(i)
        if (c >= 0x80 || c === 0) break
        buf[i] = c
        h = Math.imul(h ^ c, 0x01000193)
      }
      if (i === key.length) {
        this.keyHash = (h ^ (h >>> 15)) >>> 0
        return i
      }
    }
    checkKey(key)
    const text = wellFormed(key) ? key : `\u0000${JSON.stringify(key)}`
    if (text.length * 3 > this.keyBuf.length) this.keyBuf = Buffer.allocUnsafeSlow(Math.max(text.length * 3, this.keyBuf.length * 2))
    const length = (this.keyBuf as Utf8Writable).utf8Write(text, 0, this.keyBuf.length)
    this.keyHash = this.arena.hash(this.keyBuf, length)
    return length
  }

  /** The value's bytes into valueBuf, as `write` would store them (for comparing); returns the kind. */
  private encodeValue(key: string, value: unknown): number {
    const bound = typeof value === 'string' ? -1 : packedBound(value)
    if (bound >= 0) {
      if (bound > this.valueBuf.length) this.valueBuf = Buffer.allocUnsafeSlow(bound)
      this.valueLength = writePacked(this.valueBuf, 0, value)
      return KIND_PACKED
    }
    const text = typeof value === 'string' && wellFormed(value) ? value : encodeValue(key, value)
    if (text.length * 3 > this.valueBuf.length) this.valueBuf = Buffer.allocUnsafeSlow(text.length * 3)
    this.valueLength = text.length === 0 ? 0 : (this.valueBuf as Utf8Writable).utf8Write(text, 0, this.valueBuf.length)
    return text === value ? KIND_STRING : KIND_JSON
  }
}
