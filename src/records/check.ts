/**
 * Input checks for the records API. Records are written from the webhook path, so a wrong
 * type must fail loudly here rather than store a row that lies.
 */

export function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${field} must be a string, got ${describe(value)}`)
  return value
}

export function optionalString(field: string, value: unknown): string | null {
  return value === undefined || value === null ? null : requireString(field, value)
}

export function requireOneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`${field} must be one of ${allowed.join(', ')}, got ${describe(value)}`)
  }
  return value as T
}

/** Milliseconds since the epoch; a value in seconds (a raw CreateTime) is refused by name. */
export function requireTimeMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a whole number of milliseconds since the epoch, got ${describe(value)}`)
  }
  if (value < 100_000_000_000) {
    throw new TypeError(`${field} is ${value}, which looks like seconds (CreateTime?): pass milliseconds`)
  }
  return value
}

export function requireCount(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${field} must be a whole number from ${min} to ${max}, got ${describe(value)}`)
  }
  return value
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  if (value === null) return 'null'
  return typeof value === 'number' ? String(value) : typeof value
}
