/**
 * The WeChat REST API client: `api.call(path, body)` for any endpoint, typed groups for the
 * common ones (`api.menu.create(…)`), and the access-token rules in one place: every call
 * carries a token from the shared cache; a 40001/40014/42001 drops that token (only if it is
 * still the current one), refreshes once and retries the call once.
 */
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import { MemoryStore } from '../storage/memory.js'
import type { KeyValueStore } from '../storage/types.js'
import { ApiCaller, type CallOptions, type RawCallOptions, type RawResult } from './caller.js'
import { AutoReplyApi } from './groups/autoreply.js'
import { CustomerServiceApi } from './groups/customer-service.js'
import { JssdkApi } from './groups/jssdk.js'
import { MediaApi } from './groups/media.js'
import { MenuApi } from './groups/menu.js'
import { OAuthApi } from './groups/oauth.js'
import { QrcodeApi } from './groups/qrcode.js'
import { TagApi } from './groups/tag.js'
import { TemplateApi } from './groups/template.js'
import { UserApi } from './groups/user.js'
import { BlacklistApi } from './groups/blacklist.js'
import { CommentApi } from './groups/comment.js'
import { DatacubeApi } from './groups/datacube.js'
import { DraftApi } from './groups/draft.js'
import { PublishApi } from './groups/freepublish.js'
import { KfApi } from './groups/kf.js'
import { MassApi } from './groups/mass.js'
import { MaterialApi } from './groups/material.js'
import { OcrApi } from './groups/ocr.js'
import { ShortKeyApi } from './groups/shorten.js'
import { SubscribeMessageApi } from './groups/subscribe-message.js'
import { TokenManager, type TokenMode, type TokenProvider } from './token-manager.js'
import { Transport, type BinaryResult, type CallInfo, type RequestSpec } from './transport.js'

export type { CallOptions, RawCallOptions, RawResult, FormFields, FormFile } from './caller.js'

export const DEFAULT_API_BASE = 'https://api.weixin.qq.com'
/** Where QR images are served (showqrcode). */
export const DEFAULT_MP_BASE = 'https://mp.weixin.qq.com'
/** Where the OAuth authorize page is. */
export const DEFAULT_OPEN_BASE = 'https://open.weixin.qq.com'

/** api.weixin.qq.com, api2.…, sh.api.… and the like: WeChat's own hosts keep the real mp/open hosts. */
function isWechatHost(baseUrl: string): boolean {
  try {
    return /(^|\.)weixin\.qq\.com$/i.test(new URL(baseUrl).hostname)
  } catch {
    return false
  }
}

export interface WechatApiOptions {
  appId: string
  /** Needed to fetch tokens yourself (not with a tokenProvider) and for OAuth. */
  appSecret?: string
  /** Where the token and the jsapi_ticket are cached; share it between instances. Default: in memory (one process). */
  store?: KeyValueStore
  /** Default: the global fetch. */
  fetch?: typeof globalThis.fetch
  /** Default https://api.weixin.qq.com (WECHAT_API_BASE; the fake server for tests). */
  baseUrl?: string
  /**
   * Host of the QR image URL (showqrcode). Default https://mp.weixin.qq.com, or `baseUrl` when
   * that is not a WeChat host (a fake or a proxy serves every path, so one variable is enough).
   */
  mpBaseUrl?: string
  /** Host of the OAuth authorize page. Default https://open.weixin.qq.com, or `baseUrl` as above. */
  openBaseUrl?: string
  /** `stable` (default): /cgi-bin/stable_token; `classic`: /cgi-bin/token. */
  tokenMode?: TokenMode
  /** Get tokens from your central token service instead of from WeChat. */
  tokenProvider?: TokenProvider
  now?: () => number
  logger?: Logger
  /** Per HTTP attempt. Default 10 000 ms. */
  timeoutMs?: number
  /** Extra attempts on errcode -1 and on network errors of idempotent calls. Default 2. */
  retries?: number
  /** First backoff delay (doubles per attempt). Default 250 ms. */
  retryDelayMs?: number
  /** Called after every HTTP attempt (metrics). */
  onCall?: (info: CallInfo) => void
}

/**
 * @example
 * const api = new WechatApi({ appId, appSecret, store: createStore('redis://127.0.0.1:6379/0') })
 * await api.customerService.sendText(openid, 'Your order shipped')
 * const { ip_list } = await api.call('/cgi-bin/get_api_domain_ip')
 */
export class WechatApi {
  readonly appId: string
  readonly appSecret: string | undefined
  readonly store: KeyValueStore
  readonly token: TokenManager
  /** Host of QR images (see WechatApiOptions.mpBaseUrl). */
  readonly mpBaseUrl: string
  /** Host of the OAuth authorize page (see WechatApiOptions.openBaseUrl). */
  readonly openBaseUrl: string
  readonly customerService: CustomerServiceApi
  readonly menu: MenuApi
  readonly template: TemplateApi
  readonly user: UserApi
  readonly tag: TagApi
  readonly media: MediaApi
  readonly qrcode: QrcodeApi
  readonly oauth: OAuthApi
  readonly jssdk: JssdkApi
  /** The MP console's own reply settings and menu (read-only): `wxmp rules import` reads them. */
  readonly autoReply: AutoReplyApi
  /** Permanent material and images for article bodies. */
  readonly material: MaterialApi
  /** The draft box (草稿箱). */
  readonly draft: DraftApi
  /** Publishing drafts (发布能力). */
  readonly publish: PublishApi
  /** Comments on sent articles (留言). */
  readonly comment: CommentApi
  /** Mass send (群发). */
  readonly mass: MassApi
  /** Subscription notices (订阅通知). */
  readonly subscribeMessage: SubscribeMessageApi
  /** Customer-service agents, sessions and records. */
  readonly kf: KfApi
  readonly blacklist: BlacklistApi
  /** Short keys (短key). */
  readonly shortKey: ShortKeyApi
  /** Statistics (数据统计). */
  readonly datacube: DatacubeApi
  /** OCR and image processing. */
  readonly ocr: OcrApi
  /** @internal */
  readonly transport: Transport
  /** @internal */
  readonly now: () => number
  /** @internal what the groups send through */
  readonly caller: ApiCaller

  constructor(options: WechatApiOptions) {
    if (typeof options.appId !== 'string' || !/^\S+$/.test(options.appId)) {
      throw new WxmpError('WX_ERR_CONFIG', 'WechatApi needs the AppID (wx…, from 基本配置; WECHAT_APPID)')
    }
    if (options.tokenProvider === undefined && (options.appSecret === undefined || options.appSecret === '')) {
      throw new WxmpError('WX_ERR_CONFIG', 'WechatApi needs the AppSecret (WECHAT_APPSECRET) to fetch access tokens, or a tokenProvider for a central token service')
    }
    const timeoutMs = options.timeoutMs ?? 10_000
    const baseUrl = (options.baseUrl ?? DEFAULT_API_BASE).replace(/\/+$/, '')
    const pages = isWechatHost(baseUrl) ? undefined : baseUrl
    this.mpBaseUrl = (options.mpBaseUrl ?? pages ?? DEFAULT_MP_BASE).replace(/\/+$/, '')
    this.openBaseUrl = (options.openBaseUrl ?? pages ?? DEFAULT_OPEN_BASE).replace(/\/+$/, '')
    this.appId = options.appId
    this.appSecret = options.appSecret
    this.now = options.now ?? Date.now
    this.store = options.store ?? new MemoryStore({ now: this.now })
    this.transport = new Transport({
      baseUrl,
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs,
      retries: Math.max(0, options.retries ?? 2),
      retryDelayMs: options.retryDelayMs ?? 250,
      now: this.now,
      logger: options.logger,
      onCall: options.onCall,
    })
    this.token = new TokenManager({
      appId: options.appId,
      appSecret: options.appSecret,
      store: this.store,
      transport: this.transport,
      mode: options.tokenMode ?? 'stable',
      provider: options.tokenProvider,
      now: this.now,
      timeoutMs,
      logger: options.logger,
    })
    const caller = new ApiCaller({
      appId: this.appId,
      appSecret: this.appSecret,
      store: this.store,
      now: this.now,
      transport: this.transport,
      token: this.token,
      mpBaseUrl: this.mpBaseUrl,
      openBaseUrl: this.openBaseUrl,
      logger: options.logger,
    })
    this.caller = caller
    this.customerService = new CustomerServiceApi(caller)
    this.menu = new MenuApi(caller)
    this.template = new TemplateApi(caller)
    this.user = new UserApi(caller)
    this.tag = new TagApi(caller)
    this.media = new MediaApi(caller)
    this.qrcode = new QrcodeApi(caller)
    this.oauth = new OAuthApi(caller)
    this.jssdk = new JssdkApi(caller)
    this.material = new MaterialApi(caller)
    this.draft = new DraftApi(caller)
    this.publish = new PublishApi(caller)
    this.comment = new CommentApi(caller)
    this.mass = new MassApi(caller)
    this.subscribeMessage = new SubscribeMessageApi(caller)
    this.kf = new KfApi(caller)
    this.blacklist = new BlacklistApi(caller)
    this.shortKey = new ShortKeyApi(caller)
    this.datacube = new DatacubeApi(caller)
    this.ocr = new OcrApi(caller)
    this.autoReply = new AutoReplyApi(caller)
  }

  /**
   * Calls any endpoint with the access_token added: POST JSON when `body` is given (or a
   * multipart form with `options.form`), else GET. Returns WeChat's JSON with 64-bit ids as
   * strings; a non-zero errcode throws WechatApiError.
   *
   * @example
   * const { ip_list } = await api.call<{ ip_list: string[] }>('/cgi-bin/getcallbackip')
   * await api.call('/cgi-bin/material/add_material', undefined, { query: { type: 'image' }, form: { media: { data, filename: 'a.png' } } })
   */
  async call<T = Record<string, unknown>>(path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    return this.caller.call<T>(path, body, options)
  }

  /**
   * The escape hatch: send a body exactly as given (JSON text you serialised yourself, bytes)
   * and get the answer as JSON or, when WeChat answers a file, as the Response.
   *
   * @example
   * const res = await api.raw('/cgi-bin/material/get_material', { body: '{"media_id":"…"}' })
   * if (res.kind === 'binary') await writeFile('image.jpg', await res.buffer())
   */
  async raw(path: string, options: RawCallOptions = {}): Promise<RawResult> {
    return this.caller.raw(path, options)
  }

  /** The IP ranges WeChat calls your webhook from (for a firewall allow-list). */
  async getCallbackIp(): Promise<string[]> {
    const body = await this.call<{ ip_list?: string[] }>('/cgi-bin/getcallbackip')
    return body.ip_list ?? []
  }

  /**
   * Resets the daily API quotas after a 45009 (10 times a month; 48006 when those are used up).
   */
  async clearQuota(): Promise<void> {
    await this.call('/cgi-bin/clear_quota', { appid: this.appId })
  }

  /** The IP addresses of api.weixin.qq.com (for an egress allow-list). */
  async getApiDomainIp(): Promise<string[]> {
    const body = await this.call<{ ip_list?: string[] }>('/cgi-bin/get_api_domain_ip')
    return body.ip_list ?? []
  }

  /** @internal a JSON call without the access_token (token fetch, OAuth). */
  async unauthenticated<T>(spec: RequestSpec): Promise<T> {
    return this.caller.unauthenticated<T>(spec)
  }

  /** @internal a call whose answer may be a file. */
  async binary(spec: RequestSpec): Promise<BinaryResult> {
    return this.caller.binary(spec)
  }

  /** @internal runs `send` with the current token; on a token errcode, once more with a fresh one. */
  async withToken<T>(spec: RequestSpec, send: (spec: RequestSpec) => Promise<T>): Promise<T> {
    return this.caller.withToken(spec, send)
  }
}
