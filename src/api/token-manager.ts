/**
 * The access_token for one AppID, cached in the shared store (`token:<appId>`) so it
 * survives restarts and serves every process and instance; fetched by `stable_token`
 * (default), the classic `/cgi-bin/token`, or your own central token service.
 */
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { KeyValueStore } from '../storage/types.js'
import { CredentialCache, type CachedCredential, type FetchedCredential } from './credential-cache.js'
import type { Transport } from './transport.js'

export type TokenMode = 'stable' | 'classic'

/** A central token service: return the token your 中控服务器 holds. */
export type TokenProvider = () => Promise<{ accessToken: string; expiresIn: number }>

export interface TokenManagerOptions {
  appId: string
  appSecret: string | undefined
  store: KeyValueStore
  transport: Transport
  mode: TokenMode
  provider: TokenProvider | undefined
  now: () => number
  timeoutMs: number
  logger: Logger | undefined
}

/** Store keys, namespaced by AppID so one store serves several accounts. */
export const tokenKeys = (appId: string) => ({ token: `token:${appId}`, lock: `lock:token:${appId}` })

/**
 * @example
 * const token = await api.token.get()      // cached, shared, refreshed before expiry
 * await api.token.refresh()                // drop the cached one and fetch anew
 */
export class TokenManager {
  private readonly cache: CredentialCache
  private forceNext = false

  constructor(private readonly options: TokenManagerOptions) {
    const keys = tokenKeys(options.appId)
    // the lock must outlive one fetch with its retries, or two processes could both fetch
    const lockTtlMs = options.timeoutMs * 2 + 5000
    this.cache = new CredentialCache({
      store: options.store,
      key: keys.token,
      lockKey: keys.lock,
      label: 'access_token',
      fetch: () => this.fetchToken(),
      now: options.now,
      lockTtlMs,
      lockWaitMs: lockTtlMs + 5000,
      logger: options.logger,
    })
  }

  /** A valid access_token. */
  async get(): Promise<string> {
    return (await this.cache.get()).value
  }

  /**
   * Fetches a new token now. With `stable_token`, `{ force: true }` sends `force_refresh`,
   * which kills the current token for every instance at once (WeChat allows 20 a day).
   */
  async refresh(options: { force?: boolean } = {}): Promise<string> {
    this.forceNext = options.force === true && this.options.mode === 'stable' && this.options.provider === undefined
    try {
      return (await this.cache.refresh()).value
    } finally {
      this.forceNext = false
    }
  }

  /** The cached record (value, expiresAt, refreshAt), for `wxmp token` and diagnostics. */
  async peek(): Promise<CachedCredential | undefined> {
    return this.cache.peek()
  }

  /** @internal the record itself, so a failure can be invalidated by compare-and-delete. */
  record(): Promise<CachedCredential> {
    return this.cache.get()
  }

  /** @internal WeChat refused `failed` (40001/40014/42001): drop it if still current, get a usable one. */
  replaceFailed(failed: CachedCredential): Promise<CachedCredential> {
    return this.cache.replaceFailed(failed)
  }

  private async fetchToken(): Promise<FetchedCredential> {
    const { provider, transport, appId, appSecret, mode } = this.options
    if (provider !== undefined) {
      const got = await provider()
      if (typeof got?.accessToken !== 'string' || got.accessToken.length === 0 || !(got.expiresIn > 0)) {
        throw new WxmpError('WX_ERR_TOKEN', 'the tokenProvider must return { accessToken: non-empty string, expiresIn: seconds > 0 }')
      }
      return { value: got.accessToken, expiresInSec: got.expiresIn }
    }
    if (appSecret === undefined || appSecret === '') {
      throw new WxmpError('WX_ERR_TOKEN', 'no AppSecret: set WECHAT_APPSECRET (or give a tokenProvider that asks your central token service)')
    }
    const body =
      mode === 'stable'
        ? await transport.json({
            path: '/cgi-bin/stable_token',
            method: 'POST',
            json: { grant_type: 'client_credential', appid: appId, secret: appSecret, force_refresh: this.forceNext },
            // normal mode returns the current token: asking twice is harmless
            idempotent: !this.forceNext,
            duringTokenFetch: true,
          })
        : await transport.json({
            path: '/cgi-bin/token',
            method: 'GET',
            query: { grant_type: 'client_credential', appid: appId, secret: appSecret },
            duringTokenFetch: true,
          })
    const token = body.access_token
    const expiresIn = body.expires_in
    if (typeof token !== 'string' || token.length === 0 || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
      throw new WxmpError('WX_ERR_TOKEN', `the token answer has no access_token/expires_in (keys: ${Object.keys(body).join(', ')}): is WECHAT_API_BASE pointing at WeChat's API host?`)
    }
    return { value: token, expiresInSec: expiresIn }
  }
}
