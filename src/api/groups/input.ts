/**
 * Checks on arguments before a request leaves: a mistake WeChat would answer with a cryptic
 * errcode fails here with a message that names the field.
 */
import { WxmpError } from '../../errors.js'

/** Throws WX_ERR_API_INPUT with `message`. */
export function invalidInput(message: string): never {
  throw new WxmpError('WX_ERR_API_INPUT', message)
}

export function requireString(name: string, value: unknown, options: { maxBytes?: number; maxChars?: number } = {}): string {
  if (typeof value !== 'string' || value.length === 0) invalidInput(`${name} must be a non-empty string, got ${value === '' ? 'an empty string' : typeof value}`)
  if (options.maxBytes !== undefined) {
    const bytes = Buffer.byteLength(value, 'utf8')
    if (bytes > options.maxBytes) invalidInput(`${name} is ${bytes} bytes (UTF-8), the limit is ${options.maxBytes}`)
  }
  if (options.maxChars !== undefined && [...value].length > options.maxChars) {
    invalidInput(`${name} is ${[...value].length} characters, the limit is ${options.maxChars}`)
  }
  return value
}

/** An OpenID: printable, no whitespace. (WeChat's are 28 characters; test accounts vary.) */
export function requireOpenid(value: unknown, name = 'openid'): string {
  if (typeof value !== 'string' || !/^[\w-]{1,64}$/.test(value)) {
    invalidInput(`${name} must be an OpenID such as oJqxQwYRyZMXFTc8sipB5TSe6Vw4, got ${JSON.stringify(typeof value === 'string' ? value.slice(0, 40) : value)}`)
  }
  return value
}

export function requireInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalidInput(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Drops undefined fields so they are not sent as `null` or `undefined`. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}
