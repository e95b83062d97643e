/**
 * Per-address rate limiting for the webhook path: a token bucket per source address that holds
 * `perMinute` requests and refills continuously, so a short burst passes and a flood is cut to
 * the configured rate. Memory is bounded: idle addresses are forgotten, and past `maxAddresses`
 * the least recently seen address is dropped first (a forgotten address starts with a full
 * bucket, which errs on the side of answering).
 *
 * WeChat delivers from a small set of egress addresses, so the limit must sit well above an
 * account's peak message rate; it is there to blunt scanners and floods, not to shape WeChat.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'

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

export interface RateLimitGuardOptions {
  logger?: Pick<Logger, 'warn'>
  /** Called for every refused request (metrics). */
  onLimited?: () => void
}

/**
 * The node adapter's `guard` for the webhook path: answers 429 with Retry-After when the
 * source address is over its limit, before the body is read. One warning per address and
 * burst (its first refusal), not one per request, so a flood cannot flood the log too; every
 * refusal is counted through `onLimited`.
 *
 * @example
 * await serve(bot, { guard: rateLimitGuard(new RateLimiter({ perMinute: 600 }), { logger }) })
 */
export function rateLimitGuard(limiter: RateLimiter, options: RateLimitGuardOptions = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const remote = req.socket.remoteAddress ?? 'unknown'
    const decision = limiter.take(remote)
    if (decision.allowed) return false
    if (decision.firstRefusal) {
      options.logger?.warn(
        { code: 'WX_ERR_RATE_LIMITED', status: 429, remote, perMinute: limiter.perMinute },
        'request rejected (WX_ERR_RATE_LIMITED): this address is over its limit; further refusals are counted in metrics, not logged, until it slows down',
      )
    }
    options.onLimited?.()
    req.resume() // drain the upload so the 429 can be read
    const body = 'WX_ERR_RATE_LIMITED\n'
    res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), 'retry-after': String(decision.retryAfterSec), connection: 'close' })
    res.end(body)
    return true
  }
}
