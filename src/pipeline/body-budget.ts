import { WxmpError } from '../errors.js'

/**
 * A bound on the request-body bytes buffered across all requests in flight. Adapters reserve the
 * bytes of each chunk as it arrives and release them when the request is answered; a chunk that
 * would pass the bound ends its request with 503 WX_ERR_OVERLOADED (and Retry-After), so memory
 * stays under the bound however many clients upload slowly at once. WeChat's bodies are a few
 * KB: the bound only bites when something else is uploading a lot.
 *
 * @example
 * const budget = new BodyBudget(16 * 1024 * 1024)
 * budget.reserve(chunk.length) // throws WX_ERR_OVERLOADED past the bound
 * … budget.release(total)
 */
export class BodyBudget {
  private used = 0

  constructor(readonly limit: number) {
    if (!Number.isFinite(limit) || limit <= 0) throw new WxmpError('WX_ERR_CONFIG', `the body budget must be a positive number of bytes, got ${limit}`)
  }

  /** Bytes reserved right now. */
  get inUse(): number {
    return this.used
  }

  /** True when `bytes` more would still fit (for a declared Content-Length, before reading). */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit
  }

  /** Reserves `bytes`, or throws WX_ERR_OVERLOADED (reserving nothing) when they would not fit. */
  reserve(bytes: number): void {
    if (!this.fits(bytes)) throw overloaded(this.limit)
    this.used += bytes
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes)
  }
}

export function overloaded(limit: number): WxmpError {
  return new WxmpError('WX_ERR_OVERLOADED', `request bodies in flight would pass the ${limit}-byte budget (WXMP_MAX_BUFFERED_BYTES / maxBufferedBodyBytes): answered 503, retry later`, { details: { budgetBytes: limit } })
}
