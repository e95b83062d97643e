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
}
