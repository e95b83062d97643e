import { checkKey, checkTtl, decodeValue, encodeValue } from './codec.js'
import type { KeyValueStore, LocalStore } from './types.js'

/** One shape for every entry (V8 keeps the map's values monomorphic). */
class Entry {
  constructor(
    /** The value's JSON: as a string when short, else UTF-8 bytes (see pack); undefined for a local value. */
    readonly data: string | Buffer | undefined,
    /** A value stored through the LocalStore methods, kept as given. */
    readonly raw: unknown,
    readonly expiresAt: number,
    readonly insertedAt: number,
  ) {}
}

/** A local value's JSON text, for the async methods (which never share objects). */
function jsonOf(entry: Entry): string {
  return entry.data === undefined ? JSON.stringify(entry.raw) : unpack(entry.data)
}

/**
 * Long JSON (a stored reply, say) is kept as UTF-8 bytes outside the JS heap: half the size of
 * a UTF-16 string once a reply holds Chinese text, and the garbage collector neither copies nor
 * scans it while a full store holds 50 000 of them. Short JSON stays a string. Each value gets
 * its own allocation: a slice of Node's shared Buffer pool would keep the whole 8 KiB slab, and
 * whatever short-lived data shares it, alive as long as the entry.
 */
function pack(json: string): string | Buffer {
  if (json.length <= 96) return json
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json, 'utf8'))
  bytes.write(json, 'utf8')
  return bytes
}

function unpack(data: string | Buffer): string {
  return typeof data === 'string' ? data : data.toString('utf8')
}

export interface MemoryStoreOptions {
  /** Injected clock (ms), for tests that move time. */
  now?: () => number
  /**
   * Upper bound on entries; the oldest-inserted are evicted first. Default 50 000: as the
   * webhook's replay guard and dedup (two entries per message) that is the last 25 000
   * messages, 25 s at 1 000 messages/s against WeChat's 15 s of retries, in about 25 MB.
   */
  maxEntries?: number
}

/**
 * In-process store: the default for one process and the fallback when Redis is down.
 * Values are kept as JSON so callers never share mutable objects with the store.
 */
export class MemoryStore implements KeyValueStore, LocalStore {
  readonly kind = 'memory'
  readonly local: LocalStore = this
  private readonly map = new Map<string, Entry>()
  private readonly now: () => number
  private readonly maxEntries: number
  private sweepAt = 0
  /**
   * Walks the map in insertion order across calls, so evicting the oldest entry is O(1): a
   * fresh `map.keys()` per eviction would step over every deleted slot at the front of V8's
   * table each time, which made each insert cost tens of µs once the store was full.
   */
  private evictCursor: Iterator<string> | undefined
  /** Insertion time of the newest live entry evicted by `maxEntries` (0: none was). */
  private horizon = 0

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now
    this.maxEntries = options.maxEntries ?? 50_000
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    checkKey(key)
    const entry = this.live(key)
    return entry === undefined ? undefined : decodeValue<T>(jsonOf(entry))
  }

  async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    checkKey(key)
    const ttl = checkTtl(ttlMs)
    this.put(key, encodeValue(key, value), ttl)
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    this.map.delete(key)
  }

  async add(key: string, value: unknown, ttlMs?: number): Promise<boolean> {
    checkKey(key)
    const ttl = checkTtl(ttlMs)
    const json = encodeValue(key, value)
    const now = this.now()
    if (this.live(key, now) !== undefined) return false
    // live() dropped an expired entry, so the key is absent: no delete-before-set needed
    this.map.set(key, new Entry(pack(json), undefined, ttl === undefined ? Infinity : now + ttl, now))
    this.maybeSweep(now)
    return true
  }

  async deleteIf(key: string, expected: unknown): Promise<boolean> {
    checkKey(key)
    const entry = this.live(key)
    if (entry === undefined || jsonOf(entry) !== encodeValue(key, expected)) return false
    this.map.delete(key)
    return true
  }

  addLocal(key: string, value: unknown, ttlMs: number): boolean {
    checkKey(key)
    const now = this.now()
    if (this.live(key, now) !== undefined) return false
    this.map.set(key, new Entry(undefined, value, now + ttlMs, now))
    this.maybeSweep(now)
    return true
  }

  getLocal<T = unknown>(key: string): T | undefined {
    checkKey(key)
    const entry = this.live(key)
    if (entry === undefined) return undefined
    return (entry.data === undefined ? entry.raw : decodeValue(unpack(entry.data))) as T
  }

  setLocal(key: string, value: unknown, ttlMs: number): void {
    checkKey(key)
    const now = this.now()
    this.map.delete(key) // re-insert so Map order tracks insertion for eviction
    this.map.set(key, new Entry(undefined, value, now + ttlMs, now))
    this.maybeSweep(now)
  }

  deleteLocalIf(key: string, expected: unknown): boolean {
    checkKey(key)
    const entry = this.live(key)
    if (entry === undefined || entry.data !== undefined || entry.raw !== expected) return false
    this.map.delete(key)
    return true
  }

  async close(): Promise<void> {
    this.map.clear()
    this.evictCursor = undefined
  }

  async ping(): Promise<void> {}

  /** False for a record written at or before the newest live entry `maxEntries` evicted. */
  wouldRemember(_key: string, at: number): boolean {
    return at > this.horizon
  }

  private live(key: string, now?: number): Entry | undefined {
    const entry = this.map.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= (now ?? this.now())) {
      this.map.delete(key)
      return undefined
    }
    return entry
  }

  private put(key: string, json: string, ttlMs: number | undefined): void {
    const now = this.now()
    this.map.delete(key) // re-insert so Map order tracks insertion for eviction
    this.map.set(key, new Entry(pack(json), undefined, ttlMs === undefined ? Infinity : now + ttlMs, now))
    this.maybeSweep(now)
  }

  /** Expired entries are dropped lazily on read; this bounds memory for keys never read again. */
  private maybeSweep(now: number): void {
    while (this.map.size > this.maxEntries) {
      // every key before the cursor was evicted, and a re-put key moves behind it, so the
      // cursor's next key is the oldest live one
      let next = this.evictCursor?.next()
      if (next === undefined || next.done === true) {
        this.evictCursor = this.map.keys()
        next = this.evictCursor.next()
      }
      if (next.done === true) break
      const evicted = this.map.get(next.value)
      if (evicted !== undefined && evicted.expiresAt > now) this.horizon = Math.max(this.horizon, evicted.insertedAt)
      this.map.delete(next.value)
    }
    if (now < this.sweepAt) return
    this.sweepAt = now + 10_000
    for (const [key, entry] of this.map) if (entry.expiresAt <= now) this.map.delete(key)
  }
}
