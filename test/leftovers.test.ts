// The whole-run check of scripts/test-leftovers.mjs: it must see a key, a schema and a table
// written after the snapshot, and nothing once they are gone.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import { POSTGRES_URL, REDIS_URL, serviceAvailable } from './support/services.js'
// @ts-expect-error a plain .mjs script without types
import { leftoversSince, snapshot } from '../scripts/test-leftovers.mjs'

test('the leftover check names what a suite left in Redis and PostgreSQL', async (t) => {
  if (!(await serviceAvailable('redis')) || !(await serviceAvailable('postgres'))) return t.skip('services down')
  const id = randomBytes(6).toString('hex')
  const key = `wxmp-leftover-check:${id}`
  const schema = `wxmp_leftover_${id}`
  const redis = new Redis(REDIS_URL)
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  try {
    const before = await snapshot()
    await redis.set(key, '1', 'EX', 60)
    await db.query(`CREATE SCHEMA ${schema}`)
    const left: string[] = await leftoversSince(before)
    assert.ok(left.includes(`redis key ${key}`), left.join('\n'))
    assert.ok(left.includes(`postgres schema ${schema}`), left.join('\n'))
    await redis.del(key)
    await db.query(`DROP SCHEMA ${schema}`)
    const after: string[] = await leftoversSince(before)
    assert.ok(!after.some((item) => item.includes(id)), after.join('\n'))
  } finally {
    await redis.del(key)
    await db.query(`DROP SCHEMA IF EXISTS ${schema}`)
    await db.end()
    redis.disconnect()
  }
})
