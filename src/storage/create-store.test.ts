import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { createStore } from './create-store.js'
import { MemoryStore } from './memory.js'
import { PostgresStore } from './postgres.js'
import { RedisStore } from './redis.js'
import { SqliteStore } from './sqlite.js'
import { parseStorageUrl } from './storage-url.js'

test('each URL form opens its backend (network backends connect lazily)', async () => {
  const cases: [string, Function][] = [
    ['memory:', MemoryStore],
    ['sqlite::memory:', SqliteStore],
    ['redis://127.0.0.1:6379/0', RedisStore],
    ['rediss://user:pw@cache.example:6380/2', RedisStore],
    ['postgres://wxmp@127.0.0.1:5432/wxmp', PostgresStore],
    ['postgresql://wxmp@127.0.0.1/wxmp', PostgresStore],
  ]
  for (const [url, type] of cases) {
    const store = createStore(url)
    assert.ok(store instanceof type, url)
    await store.close()
  }
})

test('sqlite URLs accept relative, absolute and // forms', () => {
  assert.deepEqual(parseStorageUrl('sqlite:./data/wxmp.db', 'X'), { kind: 'sqlite', filename: './data/wxmp.db' })
  assert.deepEqual(parseStorageUrl('sqlite:/var/lib/wxmp.db', 'X'), { kind: 'sqlite', filename: '/var/lib/wxmp.db' })
  assert.deepEqual(parseStorageUrl('sqlite:///var/lib/wxmp.db', 'X'), { kind: 'sqlite', filename: '/var/lib/wxmp.db' })
  assert.deepEqual(parseStorageUrl('sqlite::memory:', 'X'), { kind: 'sqlite', filename: ':memory:' })
  assert.deepEqual(parseStorageUrl('  sqlite:a.db\n', 'X'), { kind: 'sqlite', filename: 'a.db' }, 'env whitespace is trimmed')
})

test('an unknown or malformed URL is WX_ERR_CONFIG naming the variable and the accepted forms', () => {
  for (const bad of ['', '   ', 'mysql://root@db/wxmp', './data/wxmp.db', 'sqlite:', 'redis//host', 'redis://:pw@/0', 'memory:extra', 'http://x']) {
    assert.throws(
      () => createStore(bad, { variable: 'WXMP_STORE_URL' }),
      (err: unknown) =>
        isWxmpError(err, 'WX_ERR_CONFIG') &&
        err.message.startsWith('WXMP_STORE_URL ') &&
        err.message.includes('sqlite:<file>') &&
        err.message.includes('redis://') &&
        err.message.includes('postgres://'),
      JSON.stringify(bad),
    )
  }
})

test('the default variable named in errors is STORE_URL', () => {
  assert.throws(() => createStore('nope'), /^WxmpError: STORE_URL is "nope", which is not a storage URL/)
})

test('a password in a rejected URL is masked in the error', () => {
  assert.throws(
    () => parseStorageUrl('redis://:hunter2@cache/0', 'DATABASE_URL', ['sqlite', 'postgres']),
    (err: unknown) =>
      isWxmpError(err, 'WX_ERR_CONFIG') &&
      !err.message.includes('hunter2') &&
      err.message.includes('a redis backend cannot be used here'),
  )
})

test('a non-string URL is a configuration error, not a crash', () => {
  assert.throws(() => createStore(undefined as unknown as string), (err: unknown) => isWxmpError(err, 'WX_ERR_CONFIG'))
})
