import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'
import { isWxmpError } from '../errors.js'
import { runStoreConformance } from './conformance.js'
import { PostgresStore } from './postgres.js'

const available = await serviceAvailable('postgres')
const skip = !available && 'PostgreSQL is not reachable'
const run = randomBytes(4).toString('hex')
const table = `wxmp_kv_test_${run}`
const schema = `wxmp_test_${run}`

runStoreConformance('postgres', async () => new PostgresStore(POSTGRES_URL, { table }), {
  survivesRestart: true,
  crossProcess: { url: POSTGRES_URL, options: { postgres: { table } } },
  skip,
})

after(async () => {
  if (!available) return
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  await client.query(`DROP TABLE IF EXISTS ${table}, ${table}_race`)
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
})

test('five stores creating the same table at once all work, and one add wins', { skip }, async () => {
  const stores = Array.from({ length: 5 }, () => new PostgresStore(POSTGRES_URL, { table: `${table}_race` }))
  try {
    const results = await Promise.all(stores.map((store, i) => store.add('first-boot', i, 60_000)))
    assert.equal(results.filter(Boolean).length, 1)
  } finally {
    await Promise.all(stores.map((store) => store.close()))
  }
})

test('a schema-qualified table works', { skip }, async () => {
  const admin = new pg.Client(POSTGRES_URL)
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const store = new PostgresStore(POSTGRES_URL, { table: `${schema}.kv` })
  try {
    assert.equal(await store.add('k', 'v', 60_000), true)
    assert.equal(await store.add('k', 'w', 60_000), false)
    assert.equal(await store.get('k'), 'v')
  } finally {
    await store.close()
  }
})

test('postgres store purges expired rows on demand, and reads never return them', { skip }, async () => {
  const store = new PostgresStore(POSTGRES_URL, { table })
  const raw = new pg.Client(POSTGRES_URL)
  await raw.connect()
  try {
    await store.ping()
    await store.get('creates the table if needed')
    // Rows written long expired, straight into the table, so no store write starts a background purge.
    await raw.query(`INSERT INTO ${table} (key, value, expires_at) VALUES ($1, '1', 1), ($2, '2', 1)`, [
      `purge:${run}:a`,
      `purge:${run}:b`,
    ])
    assert.equal(await store.get(`purge:${run}:a`), undefined)
    assert.ok((await store.purgeExpired()) >= 2)
    const left = await raw.query(`SELECT count(*)::int AS n FROM ${table} WHERE key LIKE $1`, [`purge:${run}:%`])
    assert.equal(left.rows[0].n, 0)
  } finally {
    await raw.end()
    await store.close()
  }
})

test('a PostgreSQL that is down is a WX_ERR_STORAGE naming the address, without the password', async () => {
  const store = new PostgresStore('postgres://wxmp:s3cret-pass@127.0.0.1:1/wxmp', { connectionTimeoutMs: 1000 })
  try {
    await assert.rejects(
      store.set('k', 1),
      (err: unknown) =>
        isWxmpError(err, 'WX_ERR_STORAGE') &&
        err.message.includes('127.0.0.1:1') &&
        err.message.includes('ECONNREFUSED') &&
        !err.message.includes('s3cret-pass'),
    )
  } finally {
    await store.close()
  }
})

test('a table name that is not a plain identifier is refused before connecting', () => {
  for (const bad of ['kv; DROP TABLE x', 'a.b.c', '"quoted"', '', '1kv']) {
    assert.throws(() => new PostgresStore(POSTGRES_URL, { table: bad }), TypeError, bad)
  }
})
