import { hash } from 'node:crypto'

/**
 * WeChat's callback signature: sha1 over the parts sorted as strings (byte order) and joined
 * with no separator. `signature` uses [token, timestamp, nonce]; `msg_signature` adds Encrypt.
 *
 * @example sha1Sorted(['AAAAA', '1714037059', '486452656']) // '899cf89e…'
 */
export function sha1Sorted(parts: readonly string[]): string {
  if (parts.length === 4) {
    // msg_signature, once per encrypted request and once per encrypted reply: a 5-comparison
    // sorting network on locals, no array copy or join. Strings only, so anything else sorts
    // and joins exactly as below.
    let a = parts[0], b = parts[1], c = parts[2], d = parts[3], t: string
    if (typeof a === 'string' && typeof b === 'string' && typeof c === 'string' && typeof d === 'string') {
      if (a > b) (t = a), (a = b), (b = t)
      if (c > d) (t = c), (c = d), (d = t)
      if (a > c) (t = a), (a = c), (c = t)
      if (b > d) (t = b), (b = d), (d = t)
      if (b > c) (t = b), (b = c), (c = t)
      return hash('sha1', a + b + c + d, 'hex')
    }
  }
  const sorted = parts.slice()
  // insertion sort: the 3 or 4 parts never need Array#sort's work arrays
  for (let i = 1; i < sorted.length; i++) {
    const part = sorted[i]!
    let j = i - 1
    while (j >= 0 && compareStrings(sorted[j]!, part) > 0) {
      sorted[j + 1] = sorted[j]!
      j--
    }
    sorted[j + 1] = part
  }
  // crypto.hash: one call, no Hash object (about a third of createHash's cost on short input)
  return hash('sha1', sorted.join(''), 'hex')
}

/** Byte-order comparison: WeChat sorts like Python's sorted() on str, not by locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Constant-time comparison of an expected lowercase hex digest with what the request sent.
 * Only WeChat's own form matches: 40 lowercase hex characters. An upper-cased copy is another
 * spelling of the same signature, and every spelling accepted would be one more way to present
 * one captured signature; so there is exactly one.
 *
 * Every character is visited and the differences are OR-ed together, so the time does not
 * depend on where (or whether) the strings differ. This is what timingSafeEqual does, without
 * the two Buffer copies it needs (a measurable share of a request's CPU).
 */
export function safeEqualHex(expected: string, given: string | undefined): boolean {
  if (given === undefined || given.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i)
  return diff === 0
}

/** True when `signature` is sha1Sorted([token, timestamp, nonce]). */
export function checkSignature(token: string, timestamp: string, nonce: string, signature: string | undefined): boolean {
  return safeEqualHex(sha1Sorted([token, timestamp, nonce]), signature)
}
