import { isWxmpError, type WxErrorCode } from '../errors.js'

/**
 * How a failed request is answered and logged. The body is the code and nothing else; the
 * log line carries the precise cause. Some codes never reach the wire (see `reason`).
 */
export interface Rejection {
  status: number
  /** The code in the response body (and metrics' `code` label). */
  code: WxErrorCode | 'WX_ERR_INTERNAL'
  /**
   * The precise code, for the log line only, when it differs from `code`: every failure after an
   * encrypted request's msg_signature is answered as WX_ERR_DECRYPT_FAILED, whatever its cause.
   */
  reason: string | undefined
  headers: Record<string, string>
  /** Not logged: a rate-limit refusal that is not the first of its burst (it is still counted). */
  quiet: boolean
}

export function rejectionFor(err: unknown): Rejection {
  const known = isWxmpError(err) ? err : undefined
  const status = known !== undefined && known.status >= 400 ? known.status : 500
  const code = known?.code ?? 'WX_ERR_INTERNAL'
  const reason = typeof known?.details?.reason === 'string' ? known.details.reason : undefined
  const headers: Record<string, string> = {}
  let quiet = false
  if (code === 'WX_ERR_METHOD_NOT_ALLOWED') headers.allow = 'GET, POST'
  if (code === 'WX_ERR_OVERLOADED') headers['retry-after'] = '1'
  if (code === 'WX_ERR_RATE_LIMITED') {
    headers['retry-after'] = String(known?.details?.retryAfterSec ?? 1)
    quiet = known?.details?.firstRefusal !== true
  }
  return { status, code, reason, headers, quiet }
}
