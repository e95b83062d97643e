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
    get: <T>(key: string) => call(store, prefix, key, GET, undefined, undefined) as Promise<T | undefined>,
    set: (key, value, ttlMs) => call(store, prefix, key, SET, value, ttlMs),
    delete: (key) => call(store, prefix, key, DELETE, undefined, undefined),
    add: (key, value, ttlMs) => call(store, prefix, key, ADD, value, ttlMs),
    deleteIf: (key, expected) => call(store, prefix, key, DELETE_IF, expected, undefined),
    close: () => store.close(),
    ping: () => store.ping(),
    ...(store.wouldRemember === undefined ? {} : { wouldRemember: (key: string, at: number) => store.wouldRemember!(prefix + key, at) }),
  }
}

type Operation<R> = (store: KeyValueStore, key: string, value: unknown, ttlMs: number | undefined) => Promise<R>
// one function per operation, made once: a call passes its arguments on, no closure per call
const GET: Operation<unknown> = (store, key) => store.get(key)
const SET: Operation<void> = (store, key, value, ttlMs) => store.set(key, value, ttlMs)
const DELETE: Operation<void> = (store, key) => store.delete(key)
const ADD: Operation<boolean> = (store, key, value, ttlMs) => store.add(key, value, ttlMs)
const DELETE_IF: Operation<boolean> = (store, key, expected) => store.deleteIf(key, expected)

/** The operation on the prefixed key, or a rejected promise when the key is refused or the store throws. */
function call<R>(store: KeyValueStore, prefix: string, key: string, operation: Operation<R>, value: unknown, ttlMs: number | undefined): Promise<R> {
  try {
    checkKey(key)
    return operation(store, prefix + key, value, ttlMs)
  } catch (err) {
    return Promise.reject(err)
  }
}
