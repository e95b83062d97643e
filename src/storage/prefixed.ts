import type { KeyValueStore } from './types.js'

/** Namespaces every key (e.g. per AppID) so one Redis or one table can serve several accounts. */
export function prefixed(store: KeyValueStore, prefix: string): KeyValueStore {
  return {
    kind: store.kind,
    get: (key) => store.get(prefix + key),
    set: (key, value, ttlMs) => store.set(prefix + key, value, ttlMs),
    delete: (key) => store.delete(prefix + key),
    add: (key, value, ttlMs) => store.add(prefix + key, value, ttlMs),
    deleteIf: (key, expected) => store.deleteIf(prefix + key, expected),
    close: () => store.close(),
    ping: () => store.ping(),
  }
}
