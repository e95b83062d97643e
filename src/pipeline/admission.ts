import { WxmpError } from '../errors.js'
import type { TrustedProxies } from './client-address.js'
import { normaliseQuery, type InboundRequest, type Query } from './request.js'
import { verifySignedQuery, type ReplayGuard, type SignedParams, type VerifyOptions } from './verify.js'

/**
 * The checks that need only the request line: method, query shape, signature, timestamp
 * window, the replay of a URL check's query, and the rate limit. They run before the body is
 * read (`bot.admit`, called by the adapters), so a forged or stale request is answered 401/403
 * without its upload ever being buffered, and once more inside `bot.handle` for callers that go
 * straight there.
 */

/** What one admitted request carries on to `handle`. */
export interface Admitted {
  method: 'GET' | 'HEAD' | 'POST'
  query: Query
  params: SignedParams
}

/** A per-source limiter that keeps requests that passed the signature apart from the rest. */
export interface RequestLimiter {
  /** Spends one request of `source`'s allowance: `verified` ones and the others come from separate buckets. */
  take(source: string, verified: boolean): { allowed: boolean; retryAfterSec: number; firstRefusal: boolean }
}

export interface AdmissionOptions extends VerifyOptions {
  replay: ReplayGuard
  limiter?: RequestLimiter | undefined
  proxies?: TrustedProxies | undefined
}

export type AdmissionRequest = Pick<InboundRequest, 'method' | 'query' | 'headers' | 'remoteAddress'>

export class Admission {
  constructor(private readonly options: AdmissionOptions) {}

  /** The client's address, through the trusted proxies when there are any (for logs and limits). */
  clientAddress(request: Pick<InboundRequest, 'headers' | 'remoteAddress'>): string | undefined {
    const proxies = this.options.proxies
    return proxies === undefined ? request.remoteAddress : proxies.clientAddress(request.remoteAddress, request.headers)
  }

  /** Throws the WxmpError the request is refused with, or returns what `handle` goes on with. */
  admit(request: AdmissionRequest): Admitted {
    let admitted: Admitted
    try {
      admitted = this.check(request)
    } catch (err) {
      this.spend(request, false)
      throw err
    }
    this.spend(request, true)
    return admitted
  }

  private check(request: AdmissionRequest): Admitted {
    const method = request.method.toUpperCase()
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      throw new WxmpError('WX_ERR_METHOD_NOT_ALLOWED', `method ${method.slice(0, 10)} is not allowed: WeChat uses GET (URL check) and POST (messages)`)
    }
    const query = normaliseQuery(request.query)
    const params = verifySignedQuery(query, this.options)
    if (method === 'POST') this.options.replay.refuseUsedByUrlCheck(params)
    return { method, query, params }
  }

  private spend(request: AdmissionRequest, verified: boolean): void {
    const limiter = this.options.limiter
    if (limiter === undefined) return
    const source = this.clientAddress(request) ?? 'unknown'
    const decision = limiter.take(source, verified)
    if (decision.allowed) return
    throw new WxmpError('WX_ERR_RATE_LIMITED', `${source} is over its limit of ${verified ? 'signed' : 'refused'} requests: answered 429 until it slows down`, {
      details: { retryAfterSec: decision.retryAfterSec, firstRefusal: decision.firstRefusal, verified },
    })
  }
}
