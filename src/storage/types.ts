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
   * Present only on process-local stores (the in-memory one): the same operations without
   * promises or JSON copies, for the per-request replay guard and dedup (see LocalStore).
   */
  readonly local?: LocalStore
}

/**
 * Synchronous, copy-free access to a process-local store. A value goes in as given and comes
 * back as the same object, so only values nobody mutates afterwards may be stored this way;
 * the ordinary async methods still hand out copies of them. Keys follow the same rules.
 */
export interface LocalStore {
  /** Insert-if-absent: true when this call created the key. */
  addLocal(key: string, value: unknown, ttlMs: number): boolean
  getLocal<T = unknown>(key: string): T | undefined
  setLocal(key: string, value: unknown, ttlMs: number): void
  /** Deletes the key only while it still holds exactly `expected` (the same object). */
  deleteLocalIf(key: string, expected: unknown): boolean
}
