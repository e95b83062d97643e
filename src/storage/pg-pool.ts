import type pg from 'pg'
import { loadDriver } from './load-driver.js'

export interface PgPoolOptions {
  /** Most connections this process opens. Default 10. */
  max?: number
  /** Give up connecting after this long. Default 5000 ms. */
  connectionTimeoutMs?: number
  /** Errors of idle connections (server restarted, network cut); for logging. */
  onError?: (err: Error) => void
  /** Extra node-postgres pool settings; the URL and the settings above win over them. */
  pool?: pg.PoolConfig
}

/**
 * A node-postgres pool with an `error` listener: without one, an idle connection dropped by
 * the server is an unhandled `error` event and ends the process.
 */
export function createPgPool(url: string, options: PgPoolOptions = {}): pg.Pool {
  const pool = new (loadDriver('pg').Pool)({
    ...options.pool,
    connectionString: url,
    max: options.max ?? options.pool?.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
  })
  pool.on('error', (err) => options.onError?.(err))
  pool.on('connect', (client) => corkQueries(client))
  return pool
}

/**
 * node-postgres writes a query as four protocol messages (Bind, Describe, Execute, Sync), each
 * in a socket write of its own. A write to a local socket costs the writer the reader's
 * wake-up (bench/README.md), four times per query; corked, they leave in one write when the
 * query's submission is done.
 */
function corkQueries(client: pg.PoolClient): void {
  const stream = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream
  if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const uncork = () => stream.uncork!()
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    stream.cork!()
    try {
      return query(...args)
    } finally {
      process.nextTick(uncork)
    }
  }
}

/**
 * Runs `fn` in a transaction holding a PostgreSQL advisory lock named `lockName`, so two
 * processes starting at once (schema setup, migrations) take turns instead of racing.
 */
export async function inLockedTransaction<R>(
  pool: pg.Pool,
  lockName: string,
  fn: (client: pg.PoolClient) => Promise<R>,
): Promise<R> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockName])
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  } finally {
    client.release()
  }
}
