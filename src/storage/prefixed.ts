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
    // Not async wrappers: every request's replay check, dedup claim and stored answer pass through
    // here, and an async arrow adds a promise and its reaction to each, alive for the round trip
    // on a network store. A refused key, or a store that throws, still gives a rejected promise.
    get: (key) => {
      try {
        checkKey(key)
        return store.get(prefix + key)
      } catch (err) {
        return Promise.reject(err)
      }
    },
    set: (key, value, ttlMs) => {
      try {
        checkKey(key)
        return store.set(prefix + key, value, ttlMs)
      } catch (err) {
        return Promise.reject(err)
      }
    },
    delete: (key) => {
      try {
        checkKey(key)
        return store.delete(prefix + key)
      } catch (err) {
        return Promise.reject(err)
      }
    },
    add: (key, value, ttlMs) => {
      try {
        checkKey(key)
        return store.add(prefix + key, value, ttlMs)
      } catch (err) {
        return Promise.reject(err)
      }
    },
    deleteIf: (key, expected) => {
      try {
        checkKey(key)
        return store.deleteIf(prefix + key, expected)
      } catch (err) {
        return Promise.reject(err)
      }
    },
    close: () => store.close(),
    ping: () => store.ping(),
    ...(store.wouldRemember === undefined ? {} : { wouldRemember: (key: string, at: number) => store.wouldRemember!(prefix + key, at) }),
  }
}
