/**
 * The record arena under ArenaStore: records (key, value, times) packed one after another in a
 * fixed-size ring buffer outside the JS heap, found through an open-addressing hash table held
 * in typed arrays. Nothing per record lives on the JS heap, so the garbage collector neither
 * copies nor scans the replay guard's and the deduper's records however many there are (in
 * plain objects they were the ~1.7 KB promoted per message that drove RSS and the scavenge
 * pauses behind the tail latency), and memory is bounded by the budget, not by traffic.
 *
 * When the ring is full the oldest records are overwritten. Overwriting a record that was still
 * live is reported (`onForget`) and moves `evictedThrough` forward: "records inserted up to this
 * time may be gone". A caller that must not mistake "forgotten" for "never seen" (the replay
 * guard) asks the store about it.
 *
 * Record layout (little-endian; the same bytes are what DurableArenaStore persists):
 *
 *   0  u32 record length in bytes, header included, a multiple of 8
 *   4  u16 key length in bytes
 *   6  u8  kind: 0 string value (UTF-8), 1 JSON text, 2 deletion of the key (no value),
 *          3 packed value (src/storage/packed-value.ts)
 *   7  u8  0
 *   8  u32 value length in bytes
 *  12  u32 hash of the key (this process's seed; recomputed when a journal is loaded)
 *  16  f64 inserted at (Unix ms)
 *  24  f64 expires at (Unix ms; Infinity for no TTL)
 *  32  key bytes, value bytes, padding
 */

export const HEADER_BYTES = 32
export const KIND_STRING = 0
export const KIND_JSON = 1
export const KIND_DELETE = 2
export const KIND_PACKED = 3

/** One record as read back from bytes (loading a journal). */
export interface ArenaRecord {
  key: Buffer
  kind: number
  value: Buffer
  insertedAt: number
  expiresAt: number
}

const EMPTY = 0
/** Keys up to this many bytes are compared and copied in JS rather than through a call into C++. */
const SHORT = 96

export class Arena {
  readonly buf: Buffer
  /** The newest insertion time (Unix ms) of a record overwritten while live; 0: none was. */
  evictedThrough = 0
  /** Told of each record overwritten while live (before its bytes go). */
  onForget: ((at: number, now: number) => void) | undefined
  /** Live keys in the index. */
  size = 0
  /** Bytes of records written since the start: a record is surely overwritten once this has grown by `capacity` past it. */
  written = 0
  private head = 0
  private tail = 0
  /** While wrapped, the data runs from tail to `limit`, then from 0 to head. */
  private wrapped = false
  private limit = 0
  /** slot → record offset + 1 (EMPTY when free). */
  private slots: Int32Array
  private hashes: Uint32Array
  private mask: number
  private readonly seed: number

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    // uninitialised: pages become resident only as the ring first reaches them
    this.buf = Buffer.allocUnsafeSlow(capacity)
    this.slots = new Int32Array(1 << 12)
    this.hashes = new Uint32Array(1 << 12)
    this.mask = (1 << 12) - 1
    this.seed = seed >>> 0
  }

  /** Largest record that fits: an eighth of the ring, so one write never flushes most of it. */
  get maxRecordBytes(): number {
    return Math.floor(this.capacity / 8)
  }

  keyLengthAt(at: number): number {
    return this.buf.readUInt16LE(at + 4)
  }

  /** The key hash kept in a record's header. */
  hashAt(at: number): number {
    return this.buf.readUInt32LE(at + 12)
  }

  /** FNV-1a's start, seeded per process so that colliding keys cannot be precomputed. */
  get hashSeed(): number {
    return (0x811c9dc5 ^ this.seed) >>> 0
  }

  /** FNV-1a over the key bytes, then a final mix (ArenaStore computes the same while encoding a key). */
  hash(key: Buffer, length: number): number {
    let h = this.hashSeed
    for (let i = 0; i < length; i++) h = Math.imul(h ^ key[i]!, 0x01000193)
    return (h ^ (h >>> 15)) >>> 0
  }

  /** Copies a key into the record begun at `at` (short keys byte by byte: cheaper than a call into C++). */
  writeKey(at: number, key: Buffer, length: number): void {
    const start = at + HEADER_BYTES
    if (length > SHORT) {
      key.copy(this.buf, start, 0, length)
      return
    }
    const buf = this.buf
    for (let i = 0; i < length; i++) buf[start + i] = key[i]!
  }

  /** Offset of the record holding this key, or -1. `key` holds the key bytes in [0, length). */
  find(key: Buffer, length: number, hash: number): number {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.slots[slot]!
      if (at === EMPTY) return -1
      if (this.hashes[slot] === hash && this.keyEquals(at - 1, key, 0, length)) return at - 1
    }
  }

  /**
   * Makes room for a record of at most `maxLength` bytes at the head (the oldest records give
   * way) and returns its offset. The caller writes the key at `at + HEADER_BYTES` and the value
   * after it, then calls `finish`, before anything else touches the arena.
   */
  reserve(maxLength: number, now: number): number {
    const at = this.makeRoom((maxLength + 7) & ~7, now)
    return at
  }

  /**
   * Completes the record begun by `reserve`: writes its header, gives back the unused room, and
   * (unless it is a deletion) points the index at it, replacing the key's older record.
   */
  finish(at: number, keyLength: number, hash: number, kind: number, valueLength: number, insertedAt: number, expiresAt: number): void {
    const length = (HEADER_BYTES + keyLength + valueLength + 7) & ~7
    const buf = this.buf
    buf.writeUInt32LE(length, at)
    buf.writeUInt16LE(keyLength, at + 4)
    buf[at + 6] = kind
    buf[at + 7] = 0
    buf.writeUInt32LE(valueLength, at + 8)
    buf.writeUInt32LE(hash, at + 12)
    buf.writeDoubleLE(insertedAt, at + 16)
    buf.writeDoubleLE(expiresAt, at + 24)
    this.head = at + length
    this.written += length
    if (kind === KIND_DELETE) this.unlinkAt(buf, at + HEADER_BYTES, keyLength, hash)
    else this.link(at, hash, keyLength)
  }

  /**
   * Takes back the newest record (the one ending at the head) so that the next record is
   * written over it: a claim replaced by its answer in the same turn leaves no dead bytes.
   * The index still points at it until the next `finish` supersedes it. False when the record
   * is not the newest.
   */
  rewindNewest(at: number): boolean {
    const length = this.recordLength(at)
    if (at + length !== this.head) return false
    this.head = at
    this.written -= length
    return true
  }

  /** A whole record from buffers (deletions, records loaded from a journal). Returns its offset. */
  append(key: Buffer, keyLength: number, hash: number, kind: number, value: Buffer, valueLength: number, insertedAt: number, expiresAt: number): number {
    const at = this.reserve(HEADER_BYTES + keyLength + valueLength, insertedAt)
    key.copy(this.buf, at + HEADER_BYTES, 0, keyLength)
    value.copy(this.buf, at + HEADER_BYTES + keyLength, 0, valueLength)
    this.finish(at, keyLength, hash, kind, valueLength, insertedAt, expiresAt)
    return at
  }

  /** Drops the key from the index (its bytes stay in the ring until overwritten). */
  unlink(key: Buffer, keyLength: number, hash: number): boolean {
    return this.unlinkAt(key, 0, keyLength, hash)
  }

  private unlinkAt(key: Buffer, keyStart: number, keyLength: number, hash: number): boolean {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.slots[slot]!
      if (at === EMPTY) return false
      if (this.hashes[slot] === hash && this.keyEquals(at - 1, key, keyStart, keyLength)) {
        this.removeSlot(slot)
        return true
      }
    }
  }

  recordLength(at: number): number {
    return this.buf.readUInt32LE(at)
  }

  kindAt(at: number): number {
    return this.buf[at + 6]!
  }

  expiresAt(at: number): number {
    return this.buf.readDoubleLE(at + 24)
  }

  insertedAt(at: number): number {
    return this.buf.readDoubleLE(at + 16)
  }

  /** [start, end) of the record's value bytes. */
  valueStart(at: number): number {
    return at + HEADER_BYTES + this.buf.readUInt16LE(at + 4)
  }

  valueEnd(at: number): number {
    return this.valueStart(at) + this.buf.readUInt32LE(at + 8)
  }

  /** Visits every record still in the ring, oldest first (for sweeps and tests). */
  forEach(visit: (at: number) => void): void {
    if (this.size === 0 && this.head === this.tail && !this.wrapped) return
    let at = this.tail
    if (this.wrapped) {
      for (; at < this.limit; at += this.recordLength(at)) visit(at)
      at = 0
    }
    for (; at < this.head; at += this.recordLength(at)) visit(at)
  }

  /** True when the index points at the record at `at` (it is the key's current record). */
  isCurrent(at: number): boolean {
    const keyLength = this.buf.readUInt16LE(at + 4)
    const hash = this.buf.readUInt32LE(at + 12)
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const found = this.slots[slot]!
      if (found === EMPTY) return false
      if (found - 1 === at) return true
      if (this.hashes[slot] === hash && this.keyEquals(found - 1, this.buf, at + HEADER_BYTES, keyLength)) return false
    }
  }

  clear(): void {
    this.slots = new Int32Array(1 << 12)
    this.hashes = new Uint32Array(1 << 12)
    this.mask = (1 << 12) - 1
    this.size = 0
    this.head = this.tail = this.limit = 0
    this.wrapped = false
  }

  /** Whether the record at `at` has the key held in `source` from `keyStart`, `length` bytes. */
  private keyEquals(at: number, source: Buffer, keyStart: number, length: number): boolean {
    if (this.buf.readUInt16LE(at + 4) !== length) return false
    const start = at + HEADER_BYTES
    if (source === this.buf && keyStart === start) return true
    if (length > SHORT) return this.buf.compare(source, keyStart, keyStart + length, start, start + length) === 0
    const buf = this.buf
    for (let i = 0; i < length; i++) if (buf[start + i] !== source[keyStart + i]) return false
    return true
  }

  /** Room for `length` bytes at the head: the oldest records give way. */
  private makeRoom(length: number, now: number): number {
    for (;;) {
      if (!this.wrapped) {
        // data in [tail, head): room after the head, or wrap to the start
        if (this.head + length <= this.capacity) {
          const at = this.head
          this.head += length
          return at
        }
        this.wrapped = true
        this.limit = this.head
        this.head = 0
      }
      // wrapped: data in [tail, limit) and [0, head); the gap [head, tail) is free
      if (this.head + length <= this.tail) {
        const at = this.head
        this.head += length
        return at
      }
      if (this.tail >= this.limit) {
        // the upper part is gone: the data is [0, head) again
        this.wrapped = false
        this.tail = 0
        if (this.head === 0) this.limit = 0
        continue
      }
      this.evictOldest(now)
    }
  }

  private evictOldest(now: number): void {
    const at = this.tail
    this.tail += this.recordLength(at)
    if (this.kindAt(at) === KIND_DELETE) return
    const hash = this.buf.readUInt32LE(at + 12)
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const found = this.slots[slot]!
      if (found === EMPTY) return // superseded or deleted earlier: nothing live is lost
      if (found - 1 === at) {
        this.removeSlot(slot)
        // a record that had not expired is forgotten early: say so
        if (this.expiresAt(at) > now) {
          this.evictedThrough = Math.max(this.evictedThrough, this.insertedAt(at))
          this.onForget?.(at, now)
        }
        return
      }
    }
  }

  private link(at: number, hash: number, keyLength: number): void {
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const found = this.slots[slot]!
      if (found === EMPTY) {
        this.slots[slot] = at + 1
        this.hashes[slot] = hash
        this.size++
        if (this.size * 2 > this.mask + 1) this.grow()
        return
      }
      if (this.hashes[slot] === hash && this.keyEquals(found - 1, this.buf, at + HEADER_BYTES, keyLength)) {
        this.slots[slot] = at + 1 // the new record supersedes the old one
        return
      }
    }
  }

  /** Linear-probing deletion by backward shift: no tombstones, probes stay short. */
  private removeSlot(slot: number): void {
    const mask = this.mask
    let hole = slot
    for (let next = (slot + 1) & mask; this.slots[next] !== EMPTY; next = (next + 1) & mask) {
      const home = this.hashes[next]! & mask
      // move `next` into the hole unless its home lies cyclically in (hole, next]
      const between = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (between) continue
      this.slots[hole] = this.slots[next]!
      this.hashes[hole] = this.hashes[next]!
      hole = next
    }
    this.slots[hole] = EMPTY
    this.hashes[hole] = 0
    this.size--
  }

  private grow(): void {
    const oldSlots = this.slots
    const oldHashes = this.hashes
    const size = oldSlots.length * 2
    this.slots = new Int32Array(size)
    this.hashes = new Uint32Array(size)
    this.mask = size - 1
    for (let i = 0; i < oldSlots.length; i++) {
      const at = oldSlots[i]!
      if (at === EMPTY) continue
      let slot = oldHashes[i]! & this.mask
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & this.mask
      this.slots[slot] = at
      this.hashes[slot] = oldHashes[i]!
    }
  }
}

/** Reads the records of a persisted byte range (a journal chunk), in order. */
export function* readRecords(bytes: Buffer): Generator<ArenaRecord> {
  let at = 0
  while (at + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(at)
    if (length < HEADER_BYTES || length % 8 !== 0 || at + length > bytes.length) return // torn or foreign bytes: stop here
    const keyLength = bytes.readUInt16LE(at + 4)
    const valueLength = bytes.readUInt32LE(at + 8)
    if (HEADER_BYTES + keyLength + valueLength > length) return
    const keyStart = at + HEADER_BYTES
    yield {
      key: bytes.subarray(keyStart, keyStart + keyLength),
      kind: bytes[at + 6]!,
      value: bytes.subarray(keyStart + keyLength, keyStart + keyLength + valueLength),
      insertedAt: bytes.readDoubleLE(at + 16),
      expiresAt: bytes.readDoubleLE(at + 24),
    }
    at += length
  }
}
