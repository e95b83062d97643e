/**
 * Short keys (短key托管): store up to 4 KB of text (say, a long query string for a QR code or
 * a page) under a short key, for up to 30 days.
 */
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { requireInteger, requireString } from './input.js'

export const SHORT_KEY_MAX_BYTES = 4096
export const SHORT_KEY_MAX_EXPIRE_SECONDS = 2_592_000

/**
 * @example
 * const key = await api.shortKey.generate('campaign=autumn&ref=poster-12', 7 * 86400)
 * const { long_data } = await api.shortKey.fetch(key)
 */
export class ShortKeyApi {
  constructor(private readonly api: ApiCaller) {}

  /** Stores `longData` (≤ 4 KB); returns the short key. Default lifetime 30 days. */
  async generate(longData: string, expireSeconds = SHORT_KEY_MAX_EXPIRE_SECONDS): Promise<string> {
    const result = await this.api.call<{ short_key?: string }>('/cgi-bin/shorten/gen', {
      long_data: requireString('longData', longData, { maxBytes: SHORT_KEY_MAX_BYTES }),
      expire_seconds: requireInteger('expireSeconds', expireSeconds, 1, SHORT_KEY_MAX_EXPIRE_SECONDS),
    })
    if (typeof result.short_key !== 'string') throw new HttpError({ path: '/cgi-bin/shorten/gen', message: 'the answer has no short_key' })
    return result.short_key
  }

  /** What a short key stands for; `expire_seconds` is what is left. */
  async fetch(shortKey: string): Promise<{ long_data: string; create_time: number; expire_seconds: number }> {
    return this.api.call('/cgi-bin/shorten/fetch', { short_key: requireString('shortKey', shortKey, { maxBytes: 128 }) }, { idempotent: true })
  }
}
