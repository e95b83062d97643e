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
  return pool
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
