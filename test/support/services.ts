/**
 * Real Redis and PostgreSQL for the suites that need them. On a machine without them the suite
 * is skipped with a visible message; under CI=true a missing service is a failure.
 */
import net from 'node:net'

export const REDIS_URL = process.env.WXMP_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/15'
export const POSTGRES_URL = process.env.WXMP_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || defaultPort) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Returns `false` (suite skipped, reason printed) or `true`. Throws under CI=true when the
 * service is down, so CI can never go green without having run the suite.
 */
export async function serviceAvailable(name: 'redis' | 'postgres'): Promise<boolean> {
  const url = name === 'redis' ? REDIS_URL : POSTGRES_URL
  const ok = await reachable(url, name === 'redis' ? 6379 : 5432)
  if (ok) return true
  const message = `${name} is not reachable at ${url}: its suites are SKIPPED`
  if (process.env.CI === 'true') throw new Error(`${message} — CI=true requires it`)
  console.warn(`\n*** ${message} ***\n`)
  return false
}

/** Deletes every key that matches `pattern` (SCAN, never KEYS): a suite's own prefix, after it ran. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<number> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await client.connect()
    let cursor = '0'
    let deleted = 0
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) deleted += await client.del(...keys)
    } while (cursor !== '0')
    return deleted
  } finally {
    client.disconnect()
  }
}

/**
 * A PostgreSQL database of its own for a suite that runs the server as is (whose tables go in
 * the database's public schema): created on the server of POSTGRES_URL, dropped by `drop()`.
 */
export async function createTestDatabase(prefix = 'wxmp_test'): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg')
  const name = `${prefix}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client(POSTGRES_URL)
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(POSTGRES_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client(POSTGRES_URL)
      await client.connect()
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await client.end()
      }
    },
  }
}
