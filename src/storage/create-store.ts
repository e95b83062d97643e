import { MemoryStore, type MemoryStoreOptions } from './memory.js'
import { PostgresStore, type PostgresStoreOptions } from './postgres.js'
import { RedisStore, type RedisStoreOptions } from './redis.js'
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js'
import { parseStorageUrl } from './storage-url.js'
import type { KeyValueStore } from './types.js'

export interface CreateStoreOptions {
  /** The setting the URL came from, named in configuration errors. Default `STORE_URL`. */
  variable?: string
  memory?: MemoryStoreOptions
  sqlite?: SqliteStoreOptions
  redis?: RedisStoreOptions
  postgres?: PostgresStoreOptions
}

/**
 * Opens the key-value store a URL names. Network backends connect on first use; call
 * `ping()` at boot to fail early.
 *
 * @example
 * const store = createStore(process.env.STORE_URL ?? 'sqlite:./data/wxmp.db')
 * await store.ping()
 */
export function createStore(url: string, options: CreateStoreOptions = {}): KeyValueStore {
  const target = parseStorageUrl(url, options.variable ?? 'STORE_URL')
  switch (target.kind) {
    case 'memory':
      return new MemoryStore(options.memory)
    case 'sqlite':
      return new SqliteStore(target.filename, options.sqlite)
    case 'redis':
      return new RedisStore(target.url, options.redis)
    case 'postgres':
      return new PostgresStore(target.url, options.postgres)
  }
}
