/**
 * `wxmp/storage`: the key-value store behind dedup, tokens, sessions, replay protection and
 * locks, its four backends, and the URL parsing the server uses to pick one.
 *
 * The conformance suite for custom backends lives in ./conformance.ts (it imports node:test,
 * so it is not re-exported here).
 */
export type { KeyValueStore, LocalStore } from './types.js'
export { createStore, type CreateStoreOptions } from './create-store.js'
export { parseStorageUrl, type StorageTarget } from './storage-url.js'
export { prefixed } from './prefixed.js'
export { MemoryStore, type MemoryStoreOptions } from './memory.js'
export { SqliteStore, type SqliteStoreOptions } from './sqlite.js'
export { RedisStore, type RedisStoreOptions } from './redis.js'
export { PostgresStore, type PostgresStoreOptions } from './postgres.js'
export type { PgPoolOptions } from './pg-pool.js'
export { MAX_KEY_LENGTH } from './codec.js'
