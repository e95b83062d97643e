import type { KeyValueStore } from '../../src/storage/types.js'

/** A store seen as a shared one (as Redis or SQLite would be): the same data, no `local` methods. */
export function asSharedStore(store: KeyValueStore): KeyValueStore {
  return {
    kind: `shared-view-of-${store.kind}`,
    get: (key) => store.get(key),
    set: (key, value, ttl) => store.set(key, value, ttl),
    delete: (key) => store.delete(key),
    add: (key, value, ttl) => store.add(key, value, ttl),
    deleteIf: (key, expected) => store.deleteIf(key, expected),
    close: () => store.close(),
    ping: () => store.ping(),
  }
}
