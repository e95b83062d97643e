import { hash } from 'node:crypto'
import { WxmpError } from '../errors.js'
import type { KeyValueStore } from '../storage/types.js'
import type { Query } from './request.js'
import { safeEqualHex, sha1Sorted } from './signature.js'

export interface VerifyOptions {
  token: string
  /** Seconds a request's timestamp may differ from now; 0 disables the check. */
  timestampToleranceSec: number
  /** Unix milliseconds. */
  now: () => number
}

export interface SignedParams {
  /** The signature as computed here: 40 lowercase hex characters, the same for every spelling of the request. */
  signature: string
  timestamp: string
  nonce: string
}

const SIGNATURE_FORM = /^[0-9a-f]{40}$/
const DIGITS = /^\d{1,12}$/

/**
 * Checks `signature` (sha1 of sorted token/timestamp/nonce, constant time) and the timestamp
 * window. Runs on every request, GET and POST, before the body is read. Only the form WeChat
 * sends is accepted: the signature as 40 lowercase hex characters, the timestamp as decimal
 * digits without a leading zero. Throws a WxmpError that says which part failed.
 */
export function verifySignedQuery(query: Query, options: VerifyOptions): SignedParams {
  const { signature, timestamp, nonce } = query
  if (signature === undefined || timestamp === undefined || nonce === undefined) {
    const missing = (['signature', 'timestamp', 'nonce'] as const).filter((k) => query[k] === undefined)
    throw new WxmpError('WX_ERR_SIGNATURE_MISSING', `query parameter ${missing.join(', ')} missing: is this request from WeChat, and does your proxy pass the query string through?`, { details: { missing } })
  }
  if (!DIGITS.test(timestamp)) {
    throw new WxmpError('WX_ERR_TIMESTAMP_INVALID', `timestamp ${JSON.stringify(timestamp.slice(0, 20))} is not Unix seconds`)
  }
  if (timestamp.length > 1 && timestamp.charCodeAt(0) === 0x30) {
    // "01714037059" signs like "1714037059" for some nonces: one value, one spelling
    throw new WxmpError('WX_ERR_TIMESTAMP_INVALID', 'timestamp has a leading zero: WeChat sends plain Unix seconds')
  }
  if (!SIGNATURE_FORM.test(signature)) {
    throw new WxmpError('WX_ERR_SIGNATURE_INVALID', `signature is not 40 lowercase hex characters (the form WeChat sends; got ${signature.length} characters)`)
  }
  const expected = sha1Sorted([options.token, timestamp, nonce])
  if (!safeEqualHex(expected, signature)) {
    throw new WxmpError('WX_ERR_SIGNATURE_INVALID', 'signature does not match: is WECHAT_TOKEN exactly the Token in the console (服务器配置), with no spaces?')
  }
  const tolerance = options.timestampToleranceSec
  if (tolerance > 0) {
    const skew = Math.round(options.now() / 1000) - Number(timestamp)
    if (Math.abs(skew) > tolerance) {
      throw new WxmpError('WX_ERR_TIMESTAMP_STALE', `timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}, beyond the ${tolerance} s window (check this server's clock, or WECHAT_TIMESTAMP_TOLERANCE)`, { details: { skewSec: skew, toleranceSec: tolerance } })
    }
  }
  return { signature: expected, timestamp, nonce }
}

/**
 * What a signed query was used for, as the replay guard records it: `G:` a URL check (its
 * echostr), `P:` a message (its body, with the encryption parameters that say how the body is
 * read). WeChat's retries repeat all of it exactly, so they match; anything else does not.
 */
export function replayFingerprint(method: 'GET' | 'POST', query: Query, body: string): string {
  if (method === 'GET') return `G:${hash('sha1', query.echostr ?? '', 'base64')}`
  // an absent encrypt_type and "raw" mean the same thing, so they are one fingerprint
  const type = query.encrypt_type ?? 'raw'
  return `P:${hash('sha1', `${type}\n${query.msg_signature ?? ''}\n${body}`, 'base64')}`
}

/**
 * Replay protection. The signature covers the timestamp and nonce, not the body, so a captured
 * query string could carry a forged body. The guard keys on the signature as computed here
 * (sha1 of the Token, timestamp and nonce: every spelling of one signed query, and every
 * split of its digits that signs alike, has the same key) and remembers what it was first used
 * for. The same use again is WeChat's retry (allowed); any other use is refused.
 *
 * A store that may have lost records (overwritten under a flood, written before a restart it
 * did not survive, kept by a backend that is down) says which it would no longer hold
 * (`wouldRemember`); such a query, not found, is refused rather than taken for new: it may
 * have been seen and forgotten (docs/storage.md).
 */
export class ReplayGuard {
  /** How far ahead of this server's clock WeChat's signed timestamps have been seen (ms). */
  private aheadMs = 0

  constructor(
    private readonly store: KeyValueStore,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Before the body is read: a query a URL check already used cannot carry a message. Answers
   * only from a process-local store (no round trip per request); with a shared store the same
   * refusal comes from `check` once the body is in.
   */
  refuseUsedByUrlCheck(params: SignedParams): void {
    const seen = this.store.local?.getLocal<string>(replayKey(params))
    if (seen !== undefined && seen.startsWith('G:')) refuseOtherUse(seen, 'P:')
  }

  /** Resolves (or, on a process-local store, returns at once) when this use of the query may go on. */
  check(params: SignedParams, fingerprint: string): Promise<void> | undefined {
    const key = replayKey(params)
    const vouched = this.vouches(key, Number(params.timestamp) * 1000)
    const local = this.store.local
    if (local === undefined) return this.checkShared(key, fingerprint, vouched)
    if (!vouched) refuseUnvouched(local.getLocal<string>(key), fingerprint)
    else if (!local.addLocal(key, fingerprint, this.ttlMs)) refuseOtherUse(local.getLocal<string>(key), fingerprint)
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

  private async checkShared(key: string, fingerprint: string, vouched: boolean): Promise<void> {
    if (!vouched) return refuseUnvouched(await this.store.get<string>(key), fingerprint)
    if (await this.store.add(key, fingerprint, this.ttlMs)) return
    refuseOtherUse(await this.store.get<string>(key), fingerprint)
  }
}

function replayKey(params: SignedParams): string {
  return `replay:${params.signature}`
}

function refuseOtherUse(seen: string | undefined, fingerprint: string): void {
  if (seen === undefined || seen === fingerprint) return
  if (seen.startsWith('G:') && !fingerprint.startsWith('G:')) {
    throw new WxmpError('WX_ERR_REPLAY', 'this signed query string was used by a URL check (GET with echostr): it cannot carry a message')
  }
  if (fingerprint.startsWith('G:') && !seen.startsWith('G:')) {
    throw new WxmpError('WX_ERR_REPLAY', 'this signed query string was already used by a message: it cannot be used for a URL check')
  }
  throw new WxmpError('WX_ERR_REPLAY', 'this signed query string was already used with a different body: a replayed or forged request')
}

/** A query the store may have forgotten: only a retry of one it still holds passes. */
function refuseUnvouched(seen: string | undefined, fingerprint: string): void {
  if (seen === undefined) {
    throw new WxmpError('WX_ERR_REPLAY', 'this signed query string is older than what the replay guard still remembers (a restart, a store outage or a flood): it may be a replay, so it is refused')
  }
  refuseOtherUse(seen, fingerprint)
}
