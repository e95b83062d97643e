/**
 * Operator passwords: scrypt hashes written as `scrypt:<log2 N>:<r>:<p>:<salt>:<hash>` (salt
 * and hash base64url). No `$` in the format, so a hash survives .env files, shells and
 * docker-compose interpolation unquoted. Verification runs on libuv's thread pool (async
 * scrypt), never on the event loop that answers the webhook.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { WxmpError } from '../errors.js'

/** N = 2^15, r = 8, p = 1: about 32 MiB and 50–150 ms per check on a small server. */
const DEFAULT_COST = { log2N: 15, r: 8, p: 1 }
const KEY_BYTES = 32
const FORMAT = /^scrypt:(\d{1,2}):(\d{1,2}):(\d{1,2}):([A-Za-z0-9_-]{16,}):([A-Za-z0-9_-]{43})$/
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/

function scrypt(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, KEY_BYTES, options, (err, key) => (err === null ? resolve(key) : reject(err)))
  })
}

function scryptOptions(log2N: number, r: number, p: number): ScryptOptions {
  const N = 2 ** log2N
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }
}

/** A new hash for `password` (a fresh random salt each time). */
export async function hashPassword(password: string, cost = DEFAULT_COST): Promise<string> {
  if (password.length < 8) throw new WxmpError('WX_ERR_CONFIG', 'a console password needs at least 8 characters')
  const salt = randomBytes(16)
  const key = await scrypt(password, salt, scryptOptions(cost.log2N, cost.r, cost.p))
  return `scrypt:${cost.log2N}:${cost.r}:${cost.p}:${salt.toString('base64url')}:${key.toString('base64url')}`
}

export interface ParsedHash {
  log2N: number
  r: number
  p: number
  salt: Buffer
  key: Buffer
}

export function parseHash(hash: string): ParsedHash | undefined {
  const m = FORMAT.exec(hash)
  if (m === null) return undefined
  const [log2N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])]
  // bounds keep a typo from asking for gigabytes of memory at sign-in
  if (log2N < 10 || log2N > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined
  return { log2N, r, p, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') }
}

/** True when `password` matches; constant-time comparison of the derived keys. */
export async function verifyPassword(password: string, hash: ParsedHash): Promise<boolean> {
  const key = await scrypt(password, hash.salt, scryptOptions(hash.log2N, hash.r, hash.p))
  return key.length === hash.key.length && timingSafeEqual(key, hash.key)
}

export interface Operator {
  name: string
  hash: ParsedHash
}

/**
 * Reads WXMP_CONSOLE_USERS: `alice:scrypt:…, bob:scrypt:…`. Throws WX_ERR_CONFIG naming the
 * entry that is wrong (by position and name, never echoing the hash).
 */
export function parseOperators(value: string): Operator[] {
  const operators: Operator[] = []
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '')
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':')
    const name = colon === -1 ? '' : entry.slice(0, colon)
    if (!USER_NAME.test(name)) {
      throw new WxmpError('WX_ERR_CONFIG', `WXMP_CONSOLE_USERS entry ${i + 1}: the name must be 1–64 letters, digits, ".", "_", "@" or "-" before the ":"`)
    }
    const hash = parseHash(entry.slice(colon + 1))
    if (hash === undefined) {
      throw new WxmpError('WX_ERR_CONFIG', `WXMP_CONSOLE_USERS entry ${i + 1} (${name}): the hash is not scrypt:<log2N>:<r>:<p>:<salt>:<hash>; make a new one with \`wxmp console add-user ${name}\``)
    }
    if (operators.some((o) => o.name === name)) throw new WxmpError('WX_ERR_CONFIG', `WXMP_CONSOLE_USERS names ${name} twice`)
    operators.push({ name, hash })
  })
  if (operators.length === 0) throw new WxmpError('WX_ERR_CONFIG', 'WXMP_CONSOLE_USERS is set but holds no operator')
  return operators
}

export function isOperatorName(name: string): boolean {
  return USER_NAME.test(name)
}
