import { hash } from 'node:crypto'
import { WxmpError } from '../errors.js'
import type { KeyValueStore } from '../storage/types.js'
import type { Query } from './request.js'
import { checkSignature } from './signature.js'

export interface VerifyOptions {
  token: string
  /** Seconds a request's timestamp may differ from now; 0 disables the check. */
  timestampToleranceSec: number
  /** Unix milliseconds. */
  now: () => number
}

export interface SignedParams {
  signature: string
  timestamp: string
  nonce: string
}

/**
 * Checks `signature` (sha1 of sorted token/timestamp/nonce, constant time) and the timestamp
 * window. Runs on every request, GET and POST. Throws a WxmpError that says which part failed.
 */
export function verifySignedQuery(query: Query, options: VerifyOptions): SignedParams {
  const { signature, timestamp, nonce } = query
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    const missing = (['signature', 'timestamp', 'nonce'] as const).filter((k) => query[k] === undefined)
    throw new WxmpError('WX_ERR_SIGNATURE_MISSING', `query parameter ${missing.join(', ')} missing: is this request from WeChat, and does your proxy pass the query string through?`, { details: { missing } })
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WxmpError('WX_ERR_TIMESTAMP_INVALID', `timestamp ${JSON.stringify(timestamp.slice(0, 20))} is not Unix seconds`)
  }
  if (!checkSignature(options.token, timestamp, nonce, signature)) {
    throw new WxmpError('WX_ERR_SIGNATURE_INVALID', 'signature does not match: is WECHAT_TOKEN exactly the Token in the console (服务器配置), with no spaces?')
  }
  const tolerance = options.timestampToleranceSec
  if (tolerance > 0) {
    const skew = Math.round(options.now() / 1000) - Number(timestamp)
    if (Math.abs(skew) > tolerance) {
      throw new WxmpError('WX_ERR_TIMESTAMP_STALE', `timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}, beyond the ${tolerance} s window (check this server's clock, or WECHAT_TIMESTAMP_TOLERANCE)`, { details: { skewSec: skew, toleranceSec: tolerance } })
    }
  }
  return { signature, timestamp, nonce }
}

/**
 * Replay protection. The signature does not cover the body, so a captured query string could
 * carry a forged body. The first body seen for a signed query is remembered; the same query
 * with the same body is WeChat's retry (allowed), with another body it is rejected.
 *
 * A store that may have lost records (overwritten under a flood, written before a restart it
 * did not survive, kept by a backend that is down) says which it would no longer hold
 * (`wouldRemember`); such a query, not found, is refused rather than taken for new: it may
 * have been seen and forgotten.
 */
export class ReplayGuard {
  /** How far ahead of this server's clock WeChat's signed timestamps have been seen (ms). */
  private aheadMs = 0

  constructor(
    private readonly store: KeyValueStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves (or, on a process-local store, returns at once) when the body may be processed. */
  check(params: SignedParams, body: string): Promise<void> | undefined {
    // the verified signature stands for its timestamp and nonce (it is their sha1 with the token)
    const key = `replay:${params.signature}`
    const digest = hash('sha1', body, 'base64')
    const vouched = this.vouches(key, Number(params.timestamp) * 1000)
    const local = this.store.local
    if (local === undefined) return this.checkShared(key, digest, vouched)
    if (!vouched) refuseUnvouched(local.getLocal<string>(key), digest)
    else if (!local.addLocal(key, digest, this.ttlMs)) refuseOtherBody(local.getLocal<string>(key), digest)
    return undefined
  }

  /**
   * Whether the store would still hold this query's record had it been seen before. It was
   * seen, if at all, after WeChat signed it: at `signedAt` on WeChat's clock, which counts whole
   * seconds and may run ahead of this one (by the most seen so far), so no earlier than that.
   */
  private vouches(key: string, signedAt: number): boolean {
    this.aheadMs = Math.max(this.aheadMs, signedAt - this.now())
    return this.store.wouldRemember?.(key, signedAt - this.aheadMs - 1000) ?? true
  }

  private async checkShared(key: string, digest: string, vouched: boolean): Promise<void> {
    if (!vouched) return refuseUnvouched(await this.store.get<string>(key), digest)
    if (await this.store.add(key, digest, this.ttlMs)) return
    refuseOtherBody(await this.store.get<string>(key), digest)
  }
}

function refuseOtherBody(seen: string | undefined, digest: string): void {
  if (seen !== undefined && seen !== digest) {
    throw new WxmpError('WX_ERR_REPLAY', 'this signed query string was already used with a different body: a replayed or forged request')
  }
}

/** A query signed before the store's horizon: only a retry of one it still holds passes. */
function refuseUnvouched(seen: string | undefined, digest: string): void {
  if (seen === undefined) {
    throw new WxmpError('WX_ERR_REPLAY', 'this signed query string predates what the replay guard still remembers (a restart, a store outage or a flood): it may be a replay, so it is refused')
  }
  refuseOtherBody(seen, digest)
}
