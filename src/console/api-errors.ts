/**
 * WeChat API failures as the console shows them: the errcode, a stable reason the page
 * explains in the operator's language (45015 outside the 48-hour window, 48001 no
 * permission…), and WeChat's own message, with anything that looks like a token removed.
 */
import { WechatApiError } from '../api/errors.js'
import { isWxmpError } from '../errors.js'
import { ConsoleHttpError } from './http.js'

export const REASONS: Record<number, string> = {
  45015: 'out-of-window',
  45047: 'quota',
  48001: 'no-permission',
  43004: 'not-following',
  40003: 'bad-openid',
  40007: 'media-expired',
  45009: 'api-quota',
  46003: 'no-menu',
}

/** The reply status recorded for an operator answer that failed with this errcode. */
export function replyStatusFor(errcode: number | undefined): string {
  const reason = errcode === undefined ? undefined : REASONS[errcode]
  return reason === 'out-of-window' || reason === 'quota' || reason === 'no-permission' ? reason : 'failed'
}

export function scrub(text: string): string {
  return text.replace(/(access_token|secret|appsecret)=[^&\s"]*/gi, '$1=…')
}

/** Turns an API failure into the console's 502/409/403 answer; rethrows anything else. */
export function apiFailure(err: unknown): ConsoleHttpError {
  if (err instanceof WechatApiError) {
    const reason = REASONS[err.errcode] ?? 'api-error'
    const status = reason === 'out-of-window' || reason === 'quota' ? 409 : reason === 'no-permission' ? 403 : 502
    return new ConsoleHttpError(status, err.code, scrub(err.message), { errcode: err.errcode, reason })
  }
  if (isWxmpError(err)) {
    const status = err.code === 'WX_ERR_API_INPUT' ? 400 : err.status >= 400 ? err.status : 502
    return new ConsoleHttpError(status, err.code, scrub(err.message), { reason: err.code === 'WX_ERR_API_INPUT' ? 'invalid' : 'unreachable' })
  }
  return new ConsoleHttpError(502, 'WX_ERR_HTTP', scrub(err instanceof Error ? err.message : String(err)), { reason: 'unreachable' })
}
