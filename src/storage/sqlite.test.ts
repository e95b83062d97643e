import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../errors.js'
import { runStoreConformance } from './conformance.js'
import { SqliteStore } from './sqlite.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const file = join(dir, 'store.db')

runStoreConformance('sqlite', async () => new SqliteStore(file), {
  survivesRestart: true,
  crossProcess: { url: `sqlite:${file}` },
})

test('sqlite store creates the missing directory of its file', async () => {
  const store = new SqliteStore(join(dir, 'nested', 'deeper', 'kv.db'))
  await store.set('k', 'v')
  assert.equal(await store.get('k'), 'v')
  await store.close()
})

test('sqlite store opens in WAL mode', async () => {
  const store = new SqliteStore(join(dir, 'wal.db'))
  await store.set('k', 1)
  await store.close()
  const Database = (await import('better-sqlite3')).default
  const db = new Database(join(dir, 'wal.db'), { readonly: true })
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  db.close()
})

test('sqlite store purges expired rows on writes and on demand', async () => {
  let now = 1_000_000
  const store = new SqliteStore(':memory:', { now: () => now, purgeIntervalMs: 10_000 })
  for (let i = 0; i < 5; i++) await store.set(`old-${i}`, i, 1000)
  await store.set('kept', 'yes')
  now += 2000
  assert.equal(await store.get('old-0'), undefined, 'expired rows are invisible before any purge')
  assert.equal(await store.purgeExpired(), 5)
  assert.equal(await store.purgeExpired(), 0)
  for (let i = 0; i < 3; i++) await store.set(`later-${i}`, i, 1000)
  now += 20_000
  await store.set('trigger', 'a write after the purge interval purges')
  assert.equal(await store.purgeExpired(), 0, 'the write already purged the expired rows')
  assert.equal(await store.get('kept'), 'yes')
  await store.close()
})

test('sqlite store expiry follows the injected clock', async () => {
  let now = 5000
  const store = new SqliteStore(':memory:', { now: () => now })
  assert.equal(await store.add('lock', 'a', 100), true)
  now += 99
  assert.equal(await store.add('lock', 'b', 100), false)
  now += 1
  assert.equal(await store.get('lock'), undefined, 'a value is gone exactly at its expiry time')
  assert.equal(await store.add('lock', 'b', 100), true)
  await store.close()
})

test('a file that is not a SQLite database is a WX_ERR_STORAGE naming the file', () => {
  const bogus = join(dir, 'not-a-db.db')
  writeFileSync(bogus, 'this is plain text, not SQLite '.repeat(100))
  assert.throws(
    () => new SqliteStore(bogus),
    (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE') && err.message.includes(bogus),
  )
})

test('a table name that is not a plain identifier is refused before any SQL runs', () => {
  assert.throws(() => new SqliteStore(':memory:', { table: 'kv; DROP TABLE x' }), TypeError)
  assert.throws(() => new SqliteStore(':memory:', { table: 'main.kv' }), TypeError)
})

test('a closed sqlite store rejects calls with WX_ERR_STORAGE', async () => {
  const store = new SqliteStore(':memory:')
  await store.close()
  await store.close()
  await assert.rejects(store.get('k'), (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE'))
})
