/**
 * The one key-value interface behind dedup, tokens, sessions, replay protection and locks.
 * Values are JSON-serialisable. TTLs are in milliseconds; no TTL means "keep".
 * Every backend passes the shared conformance suite (src/storage/conformance.ts).
 */
export interface KeyValueStore {
  get<T = unknown>(key: string): Promise<T | undefined>
  set(key: string, value: unknown, ttlMs?: number): Promise<void>
  delete(key: string): Promise<void>
  /** Atomic insert-if-absent: true when this call created the key. */
  add(key: string, value: unknown, ttlMs?: number): Promise<boolean>
  /** Atomic compare-and-delete: deletes only when the stored value equals `expected` (JSON-equal). */
  deleteIf(key: string, expected: unknown): Promise<boolean>
  /** Releases connections; the store is unusable afterwards. */
  close(): Promise<void>
  /** A short name for logs and /readyz ("memory", "sqlite", "redis", "postgres"). */
  readonly kind: string
  /** Cheap liveness check for /readyz; throws when the backend is unreachable. */
  ping(): Promise<void>
  /**
   * Stores that may lose records answer whether a record for `key` written at `at` (Unix ms)
   * would still be here: false when it may be gone (overwritten under a memory budget, written
   * before a restart the store did not survive, kept by a backend that is down). Absent: the
   * store keeps everything until it expires. The replay guard refuses a never-seen query whose
   * record the store would not have kept.
   */
  wouldRemember?(key: string, at: number): boolean
  /**
   * Present only on process-local stores (the in-memory one): the same operations without
   * promises or JSON copies, for the per-request replay guard and dedup (see LocalStore).
   */
  readonly local?: LocalStore
}

/**
 * Synchronous access to a process-local store, without a promise per call. Treat what comes
 * back as read-only and equal to what went in, not as the same object: MemoryStore hands back
 * the object it was given (so nobody may mutate a value after storing it), ArenaStore a copy
 * decoded from its packed bytes (JSON semantics: functions and undefined fields are dropped).
 * Keys follow the same rules as the async methods.
 */
export interface LocalStore {
  /** Insert-if-absent: true when this call created the key. */
  addLocal(key: string, value: unknown, ttlMs: number): boolean
  getLocal<T = unknown>(key: string): T | undefined
  setLocal(key: string, value: unknown, ttlMs: number): void
  /** Deletes the key only while it still holds `expected` (the same object, or an equal value on ArenaStore). */
  deleteLocalIf(key: string, expected: unknown): boolean
  /**
   * On a store that also writes its records to disk (the server's journaled store): resolves
   * once everything written so far is committed, undefined when it already is. An answer that
   * must survive a crash once it has left (the deduper's stored reply) waits for it.
   */
  whenDurable?(): Promise<void> | undefined
}
