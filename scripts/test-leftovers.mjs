// What a test run left behind in the Redis and PostgreSQL the tests use (CONTRIBUTING.md:
// "The suite leaves nothing behind"). run-tests.mjs takes a snapshot before a whole run and
// fails the run when keys, databases, schemas or tables appear that were not there before and
// are still there after it. A run beside another run on the same servers can see the other's
// work in progress: WXMP_TEST_LEFTOVERS=ignore turns the check off for such a run.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const REDIS_URL = process.env.WXMP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15'
const POSTGRES_URL = process.env.WXMP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

async function redisKeys() {
  const Redis = require('ioredis')
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null })
  client.on('error', () => {})
  try {
    await client.connect()
    const keys = new Set()
    let cursor = '0'
    do {
      const [next, batch] = await client.scan(cursor, 'COUNT', 1000)
      cursor = next
      for (const key of batch) keys.add(`redis key ${key}`)
    } while (cursor !== '0')
    return keys
  } catch {
    return undefined // not running: the suites that need it were skipped (or failed under CI)
  } finally {
    client.disconnect()
  }
}

async function postgresObjects() {
  const { Client } = require('pg')
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    const found = new Set()
    for (const row of (await client.query('SELECT datname FROM pg_database')).rows) found.add(`postgres database ${row.datname}`)
    const schemas = await client.query(
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    )
    for (const row of schemas.rows) found.add(`postgres schema ${row.nspname}`)
    const tables = await client.query("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'public'")
    for (const row of tables.rows) found.add(`postgres table ${row.schemaname}.${row.tablename}`)
    return found
  } catch {
    return undefined
  } finally {
    await client.end().catch(() => {})
  }
}

export async function snapshot() {
  const [redis, postgres] = await Promise.all([redisKeys(), postgresObjects()])
  return { redis, postgres }
}

/** What is there now and was not before (a service down at either end is not compared). */
export async function leftoversSince(before) {
  const after = await snapshot()
  const left = []
  for (const kind of ['redis', 'postgres']) {
    if (before[kind] === undefined || after[kind] === undefined) continue
    for (const item of after[kind]) if (!before[kind].has(item)) left.push(item)
  }
  return left.sort()
}
