/**
 * The Redis + PostgreSQL variant gets stores of its own: Redis db 13 and the database
 * `wxmp_bench` (created when missing), both emptied before each run so every run starts alike
 * and no test data is touched.
 */
import { Redis } from 'ioredis'
import pg from 'pg'
import { DURABLE } from './targets.js'

export interface DurableStores {
  /** Empties the Redis db and drops wxmp's tables (the server migrates them again). */
  reset(): Promise<void>
  close(): Promise<void>
}

export async function prepareDurableStores(): Promise<DurableStores> {
  const redis = new Redis(DURABLE.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
  let lastError: Error | undefined
  redis.on('error', (err: Error) => (lastError = err)) // reported below, once, instead of ioredis's "unhandled error" print
  await redis.connect().catch((err: unknown) => {
    throw new Error(`Redis at ${DURABLE.redisUrl} is not reachable (${(lastError ?? (err as Error)).message})`)
  })
  try {
    await redis.ping()
    const admin = new pg.Client({ connectionString: DURABLE.postgresAdminUrl })
    await admin.connect()
    try {
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', ['wxmp_bench'])
      if (found.rowCount === 0) await admin.query('CREATE DATABASE wxmp_bench')
    } finally {
      await admin.end()
    }
  } catch (err) {
    // an open Redis connection would keep the process alive after the caller gave up
    redis.disconnect()
    throw err
  }
  return {
    async reset() {
      await redis.flushdb()
      const db = new pg.Client({ connectionString: DURABLE.postgresUrl })
      await db.connect()
      try {
        await db.query('DROP SCHEMA public CASCADE')
        await db.query('CREATE SCHEMA public')
      } finally {
        await db.end()
      }
    },
    async close() {
      await redis.flushdb().catch(() => undefined)
      redis.disconnect()
    },
  }
}
