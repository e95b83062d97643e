/**
 * The checks and the JSON encoding every backend shares, so a key, a TTL or a value that one
 * backend refuses is refused by all of them with the same message.
 */

/** Longest key accepted: far above any real key, low enough to keep indexes healthy. */
export const MAX_KEY_LENGTH = 1024

/** Throws TypeError for keys no backend can store the same way (PostgreSQL text cannot hold NUL). */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError(`store key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`)
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new TypeError(`store key is ${key.length} characters long, the limit is ${MAX_KEY_LENGTH}: hash long keys first`)
  }
  if (key.includes('\u0000')) throw new TypeError('store key contains a NUL character, which PostgreSQL text cannot hold')
}

/**
 * Validates a TTL and rounds it up to whole milliseconds (Redis PX takes integers).
 * `undefined` means "keep until deleted".
 */
export function checkTtl(ttlMs: number | undefined): number | undefined {
  if (ttlMs === undefined) return undefined
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`store TTL must be a positive number of milliseconds, got ${String(ttlMs)}`)
  }
  return Math.ceil(ttlMs)
}

/** JSON text of a value; throws TypeError for values JSON cannot carry (undefined, functions, symbols). */
export function encodeValue(key: string, value: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw new TypeError(`store value for ${key} is not JSON-serialisable: ${(err as Error).message}`, { cause: err })
  }
  if (json === undefined) throw new TypeError(`store value for ${key} is not JSON-serialisable (got ${typeof value})`)
  return json
}

export function decodeValue<T>(json: string): T {
  return JSON.parse(json) as T
}
