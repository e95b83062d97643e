import { createRequire } from 'node:module'
import { WxmpError } from '../errors.js'

/** The driver packages wxmp loads on demand, and the storage URLs that need each one. */
const DRIVERS = {
  ioredis: 'redis:// and rediss://',
  pg: 'postgres:// and postgresql://',
  'better-sqlite3': 'sqlite:',
} as const

export type DriverName = keyof typeof DRIVERS

interface DriverModules {
  ioredis: typeof import('ioredis')
  pg: typeof import('pg')
  'better-sqlite3': typeof import('better-sqlite3')
}

/**
 * Loads a database driver the first time a backend that needs it is constructed, so a server
 * on `memory:` never pays the memory of ioredis, pg or better-sqlite3 (tens of MB together).
 * The drivers are CommonJS, so `require` keeps every constructor synchronous.
 *
 * @example
 * const { Redis } = loadDriver('ioredis')
 */
export const loadDriver = driverLoader(createRequire(import.meta.url))

/** `loadDriver` over a given `require`; tests pass one that fails. */
export function driverLoader(load: (id: string) => unknown): <N extends DriverName>(name: N) => DriverModules[N] {
  const loaded = new Map<DriverName, unknown>()
  return (name) => {
    let driver = loaded.get(name)
    if (driver === undefined) {
      try {
        driver = load(name)
      } catch (err) {
        throw missing(name, err) ?? err
      }
      loaded.set(name, driver)
    }
    return driver as never
  }
}

/** WX_ERR_CONFIG when the package itself is absent; undefined for any other failure (a broken install says so itself). */
function missing(name: DriverName, err: unknown): WxmpError | undefined {
  const { code, message } = err as { code?: unknown; message?: unknown }
  // A nested dependency that is missing is a broken install of the driver, not a missing driver.
  if (code !== 'MODULE_NOT_FOUND' || typeof message !== 'string' || !message.split('\n', 1)[0]!.includes(`'${name}'`)) return undefined
  return new WxmpError(
    'WX_ERR_CONFIG',
    `${DRIVERS[name]} storage URLs need the ${name} package, which is not installed: run \`npm install ${name}\` or choose another backend`,
    { cause: err, details: { package: name } },
  )
}
