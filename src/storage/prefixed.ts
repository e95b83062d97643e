import { checkKey } from './codec.js'
import type { KeyValueStore, LocalStore } from './types.js'

/**
 * Namespaces every key (e.g. per AppID) so one Redis or one table can serve several accounts.
 * The key is checked before the prefix is added, so an empty key is refused here as it is by
 * every backend. `close()` closes the underlying store.
 *
 * @example
 * const store = prefixed(createStore('redis://127.0.0.1:6379/0'), `wxmp:${appId}:`)
 */
export function prefixed(store: KeyValueStore, prefix: string): KeyValueStore {
  const full = (key: string) => {
    checkKey(key)
    return prefix + key
  }
  const inner = store.local
  const local: LocalStore | undefined =
    inner === undefined
      ? undefined
      : {
          addLocal: (key, value, ttlMs) => inner.addLocal(prefix + key, value, ttlMs),
          getLocal: (key) => inner.getLocal(prefix + key),
          setLocal: (key, value, ttlMs) => inner.setLocal(prefix + key, value, ttlMs),
          deleteLocalIf: (key, expected) => inner.deleteLocalIf(prefix + key, expected),
          ...(inner.whenDurable === undefined ? {} : { whenDurable: () => inner.whenDurable!() }),
        }
  return {
    kind: store.kind,
    ...(local === undefined ? {} : { local }),
    get: async (key) => store.get(full(key)),
    set: async (key, value, ttlMs) => store.set(full(key), value, ttlMs),
    delete: async (key) => store.delete(full(key)),
    add: async (key, value, ttlMs) => store.add(full(key), value, ttlMs),
    deleteIf: async (key, expected) => store.deleteIf(full(key), expected),
    close: () => store.close(),
    ping: () => store.ping(),
    ...(store.wouldRemember === undefined ? {} : { wouldRemember: (key: string, at: number) => store.wouldRemember!(prefix + key, at) }),
  }
}
