/**
 * JS-SDK (protocol.md §9.7): the jsapi_ticket, cached and shared like the access token
 * (`ticket:jsapi:<appId>`), and the page signature for `wx.config`.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { ApiCaller } from '../caller.js'
import { CredentialCache } from '../credential-cache.js'
import { invalidInput, requireString } from './input.js'

export interface JssdkConfig {
  appId: string
  timestamp: number
  nonceStr: string
  signature: string
  /** The URL that was signed (without `#…`). */
  url: string
}

/**
 * sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with raw values, the URL cut at `#`.
 *
 * @example
 * jsapiSignature({ ticket, nonceStr: 'Wm3WZYTPz0wzccnW', timestamp: 1414587457, url: 'http://mp.weixin.qq.com?params=value' })
 */
export function jsapiSignature(input: { ticket: string; nonceStr: string; timestamp: number; url: string }): string {
  const url = input.url.split('#')[0]!
  return createHash('sha1').update(`jsapi_ticket=${input.ticket}&noncestr=${input.nonceStr}&timestamp=${input.timestamp}&url=${url}`, 'utf8').digest('hex')
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

function randomNonce(): string {
  return [...randomBytes(16)].map((b) => NONCE_ALPHABET[b % NONCE_ALPHABET.length]).join('')
}

/**
 * @example
 * const config = await api.jssdk.signature({ url: 'https://example.com/page?x=1' })
 * // in the page: wx.config({ ...config, jsApiList: ['scanQRCode'] })
 */
export class JssdkApi {
  private readonly cache: CredentialCache

  constructor(private readonly api: ApiCaller) {
    this.cache = new CredentialCache({
      store: api.store,
      key: `ticket:jsapi:${api.appId}`,
      lockKey: `lock:ticket:jsapi:${api.appId}`,
      label: 'jsapi_ticket',
      now: api.now,
      lockTtlMs: 30_000,
      lockWaitMs: 35_000,
      fetch: async () => {
        const body = await api.call<{ ticket?: string; expires_in?: number }>('/cgi-bin/ticket/getticket', undefined, { query: { type: 'jsapi' } })
        if (typeof body.ticket !== 'string' || body.ticket === '' || typeof body.expires_in !== 'number') {
          invalidInput('the getticket answer has no ticket/expires_in')
        }
        return { value: body.ticket, expiresInSec: body.expires_in }
      },
    })
  }

  /** The current jsapi_ticket (cached; WeChat's quota for it is strict). */
  async ticket(): Promise<string> {
    return (await this.cache.get()).value
  }

  /** Drops the cached ticket and fetches a new one. */
  async refreshTicket(): Promise<string> {
    return (await this.cache.refresh()).value
  }

  /** Everything `wx.config` needs for the page at `url`. */
  async signature(options: { url: string; nonceStr?: string; timestamp?: number }): Promise<JssdkConfig> {
    const url = requireString('url', options?.url).split('#')[0]!
    if (!/^https?:\/\/[^/\s]+/i.test(url)) invalidInput(`url must be the page's absolute http(s) URL, got ${JSON.stringify(url.slice(0, 80))}`)
    const nonceStr = options.nonceStr ?? randomNonce()
    if (!/^[A-Za-z0-9]{1,32}$/.test(nonceStr)) invalidInput('nonceStr may hold only letters and digits, at most 32')
    const timestamp = options.timestamp ?? Math.floor(this.api.now() / 1000)
    if (!Number.isInteger(timestamp) || timestamp <= 0) invalidInput('timestamp must be Unix seconds')
    const ticket = await this.ticket()
    return { appId: this.api.appId, timestamp, nonceStr, signature: jsapiSignature({ ticket, nonceStr, timestamp, url }), url }
  }
}
