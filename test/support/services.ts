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
