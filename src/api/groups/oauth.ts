/**
 * OAuth 2.0 web authorization (网页授权, protocol.md §9.6). These calls use the AppID and
 * AppSecret, not the account's access_token; the web access_token they return is per user.
 */
import type { ApiCaller } from '../caller.js'
import { invalidInput, requireOpenid, requireString } from './input.js'

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo'

/** The authorize page on WeChat's host (the client uses its openBaseUrl + this path). */
export const OAUTH_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize'
const AUTHORIZE_PATH = '/connect/oauth2/authorize'

export interface OAuthToken {
  access_token: string
  expires_in: number
  refresh_token: string
  openid: string
  scope: string
  unionid?: string
  /** 1 when the page was opened as a Moments snapshot: the data is virtual. */
  is_snapshotuser?: number
}

export interface OAuthUserInfo {
  openid: string
  nickname: string
  sex?: number
  province?: string
  city?: string
  country?: string
  headimgurl: string
  privilege: string[]
  unionid?: string
}

/**
 * @example
 * res.redirect(api.oauth.authorizeUrl({ redirectUri: 'https://example.com/cb', scope: 'snsapi_userinfo', state: 'x1' }))
 * // in /cb?code=…
 * const token = await api.oauth.exchangeCode(code)
 * const me = await api.oauth.userInfo(token.access_token, token.openid)
 */
export class OAuthApi {
  constructor(private readonly api: ApiCaller) {}

  /** Where to send the user (inside WeChat); WeChat comes back to `redirectUri?code=…&state=…`. */
  authorizeUrl(options: { redirectUri: string; scope: OAuthScope; state?: string; forcePopup?: boolean }): string {
    const redirect = requireString('redirectUri', options?.redirectUri)
    if (!/^https?:\/\/[^/\s]+/i.test(redirect)) invalidInput(`redirectUri must be an absolute http(s) URL on the 网页授权域名, got ${JSON.stringify(redirect.slice(0, 80))}`)
    if (options.scope !== 'snsapi_base' && options.scope !== 'snsapi_userinfo') invalidInput(`scope must be snsapi_base or snsapi_userinfo, got ${JSON.stringify(options.scope)}`)
    const state = options.state ?? ''
    if (!/^[A-Za-z0-9]{0,128}$/.test(state)) invalidInput('state may hold only letters and digits, at most 128')
    // WeChat is picky about the parameter order: keep the documented one
    const params = [
      `appid=${encodeURIComponent(this.api.appId)}`,
      `redirect_uri=${encodeURIComponent(redirect)}`,
      'response_type=code',
      `scope=${options.scope}`,
      `state=${state}`,
      ...(options.forcePopup === true ? ['forcePopup=true'] : []),
    ]
    return `${this.api.openBaseUrl}${AUTHORIZE_PATH}?${params.join('&')}#wechat_redirect`
  }

  /** Exchanges the one-time `code` (valid 5 minutes) for the user's web token and OpenID. */
  async exchangeCode(code: string): Promise<OAuthToken> {
    return this.api.unauthenticated<OAuthToken>({
      path: '/sns/oauth2/access_token',
      method: 'GET',
      query: { appid: this.api.appId, secret: this.secret(), code: requireString('code', code, { maxBytes: 512 }), grant_type: 'authorization_code' },
      // a code works once: a resent request after a lost answer would only get 40163
      idempotent: false,
    })
  }

  /** Renews the web token with the refresh_token (valid 30 days). */
  async refresh(refreshToken: string): Promise<OAuthToken> {
    return this.api.unauthenticated<OAuthToken>({
      path: '/sns/oauth2/refresh_token',
      method: 'GET',
      query: { appid: this.api.appId, grant_type: 'refresh_token', refresh_token: requireString('refreshToken', refreshToken, { maxBytes: 1024 }) },
    })
  }

  /** Nickname and avatar (scope snsapi_userinfo only; 48001 otherwise). */
  async userInfo(accessToken: string, openid: string, lang: 'zh_CN' | 'zh_TW' | 'en' = 'zh_CN'): Promise<OAuthUserInfo> {
    return this.api.unauthenticated<OAuthUserInfo>({
      path: '/sns/userinfo',
      method: 'GET',
      query: { access_token: requireString('accessToken', accessToken, { maxBytes: 1024 }), openid: requireOpenid(openid), lang },
    })
  }

  /** True when the web token is still valid for this OpenID. */
  async validate(accessToken: string, openid: string): Promise<boolean> {
    try {
      await this.api.unauthenticated({ path: '/sns/auth', method: 'GET', query: { access_token: requireString('accessToken', accessToken, { maxBytes: 1024 }), openid: requireOpenid(openid) } })
      return true
    } catch (err) {
      if ((err as { errcode?: number }).errcode !== undefined) return false
      throw err
    }
  }

  private secret(): string {
    const secret = this.api.appSecret
    if (secret === undefined || secret === '') invalidInput('OAuth code exchange needs the AppSecret (WECHAT_APPSECRET)')
    return secret
  }
}
