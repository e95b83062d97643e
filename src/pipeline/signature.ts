import { hash, timingSafeEqual } from 'node:crypto'

/**
 * WeChat's callback signature: sha1 over the parts sorted as strings (byte order) and joined
 * with no separator. `signature` uses [token, timestamp, nonce]; `msg_signature` adds Encrypt.
 *
 * @example sha1Sorted(['AAAAA', '1714037059', '486452656']) // '899cf89e…'
 */
export function sha1Sorted(parts: readonly string[]): string {
  const sorted = [...parts].sort(compareStrings)
  // crypto.hash: one call, no Hash object (about a third of createHash's cost on short input)
  return hash('sha1', sorted.join(''), 'hex')
}

/** Byte-order comparison: WeChat sorts like Python's sorted() on str, not by locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Constant-time comparison of an expected lowercase hex digest with what the request sent.
 * Uppercase hex is accepted (some proxies rewrite it); anything else is simply unequal.
 */
export function safeEqualHex(expected: string, given: string | undefined): boolean {
  if (given === undefined || given.length !== expected.length) return false
  const a = Buffer.from(expected, 'latin1')
  const b = Buffer.from(given.toLowerCase(), 'latin1')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** True when `signature` is sha1Sorted([token, timestamp, nonce]). */
export function checkSignature(token: string, timestamp: string, nonce: string, signature: string | undefined): boolean {
  return safeEqualHex(sha1Sorted([token, timestamp, nonce]), signature)
}
