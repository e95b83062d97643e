/**
 * Per-address rate limiting for the webhook path: a token bucket per source address that holds
 * `perMinute` requests and refills continuously, so a short burst passes and a flood is cut to
 * the configured rate. Memory is bounded: idle addresses are forgotten, and past `maxAddresses`
 * the least recently seen address is dropped first (a forgotten address starts with a full
 * bucket, which errs on the side of answering).
 *
 * WeChat delivers from a small set of egress addresses, so the limit must sit well above an
 * account's peak message rate; it is there to blunt scanners and floods, not to shape WeChat.
 * Behind your own reverse proxy, list it in WXMP_TRUSTED_PROXIES so the source is the client
 * and not the proxy.
 */
import { isIP } from 'node:net'

export interface RateLimiterOptions {
  /** Requests per minute per address; also the burst size. Must be positive. */
  perMinute: number
  /** Most addresses tracked at once. Default 100 000. */
  maxAddresses?: number
  /** Unix ms; injectable for tests. */
  now?: () => number
}

export interface RateDecision {
  allowed: boolean
  /** Whole seconds until one more request would pass (0 when allowed). */
  retryAfterSec: number
  /** True for the first refusal of an address since it was last allowed: log that one only. */
  firstRefusal: boolean
}

interface Bucket {
  tokens: number
  updated: number
  refused: boolean
}

/**
 * @example
 * const limiter = new RateLimiter({ perMinute: 600 })
 * if (!limiter.take(req.socket.remoteAddress ?? '').allowed) return send429()
 */
export class RateLimiter {
  readonly perMinute: number
  private readonly perMs: number
  private readonly maxAddresses: number
  private readonly now: () => number
  private readonly buckets = new Map<string, Bucket>()

  constructor(options: RateLimiterOptions) {
    if (!Number.isFinite(options.perMinute) || options.perMinute <= 0) {
      throw new RangeError(`perMinute must be a positive number, got ${options.perMinute} (0 means "no limit": do not create a limiter then)`)
    }
    this.perMinute = options.perMinute
    this.perMs = options.perMinute / 60_000
    this.maxAddresses = options.maxAddresses ?? 100_000
    this.now = options.now ?? Date.now
  }

  /** Spends one request for `address`. */
  take(address: string): RateDecision {
    const now = this.now()
    let bucket = this.buckets.get(address)
    if (bucket === undefined) {
      bucket = { tokens: this.perMinute, updated: now, refused: false }
      this.evictFor(now)
    } else {
      this.buckets.delete(address) // re-inserted below: Map order is then least recently seen first
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + Math.max(0, now - bucket.updated) * this.perMs)
      bucket.updated = now
    }
    this.buckets.set(address, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      bucket.refused = false
      return { allowed: true, retryAfterSec: 0, firstRefusal: false }
    }
    const firstRefusal = !bucket.refused
    bucket.refused = true
    return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)), firstRefusal }
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.buckets.size
  }

  /** Forgets addresses whose bucket has refilled (idle for a minute), then the oldest past the cap. */
  private evictFor(now: number): void {
    for (const [address, bucket] of this.buckets) {
      if (this.buckets.size < this.maxAddresses && now - bucket.updated < 60_000) break
      this.buckets.delete(address)
    }
  }
}

export interface SourceRateLimitOptions {
  /** Requests per minute per source that passed the signature check (WeChat's own). */
  perMinute: number
  /** Requests per minute per source that were refused before the body (forged, stale, malformed). Default `perMinute`. */
  refusedPerMinute?: number
  maxAddresses?: number
  now?: () => number
}

/**
 * The server's rate limit, as the core consults it before reading a body (`BotOptions.rateLimit`):
 * each source has two buckets, one for requests whose signature checked out and one for those
 * refused, so a flood of junk from behind the same proxy as WeChat (or from anywhere) spends
 * only the junk allowance and never WeChat's. IPv6 sources count by their /64, which one host
 * usually holds whole.
 *
 * @example
 * new Bot({ token, rateLimit: new SourceRateLimit({ perMinute: 600 }) })
 */
export class SourceRateLimit {
  readonly verified: RateLimiter
  readonly refused: RateLimiter

  constructor(options: SourceRateLimitOptions) {
    const shared = { ...(options.maxAddresses === undefined ? {} : { maxAddresses: options.maxAddresses }), ...(options.now === undefined ? {} : { now: options.now }) }
    this.verified = new RateLimiter({ perMinute: options.perMinute, ...shared })
    this.refused = new RateLimiter({ perMinute: options.refusedPerMinute ?? options.perMinute, ...shared })
  }

  take(source: string, verified: boolean): RateDecision {
    return (verified ? this.verified : this.refused).take(sourceKey(source))
  }
}

/** The bucket key of an address: itself for IPv4, its /64 for IPv6. */
export function sourceKey(address: string): string {
  if (isIP(address) !== 6) return address
  if (address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) return address.slice(7)
  const groups = expandIpv6(address)
  return groups === undefined ? address : `${groups.slice(0, 4).join(':')}::/64`
}

function expandIpv6(address: string): string[] | undefined {
  const [head = '', tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  if (right.some((g) => g.includes('.')) || left.some((g) => g.includes('.'))) return undefined
  const fill = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0')
  const groups = [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, '').toLowerCase())
  return groups.length === 8 ? groups : undefined
}
