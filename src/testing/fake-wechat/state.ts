/**
 * Everything the fake WeChat remembers: tokens, users, tags, menus, media, templates, OAuth
 * codes, what was sent, the call log and the injected faults. Time comes from an injectable
 * clock so tests can expire tokens without waiting.
 */
import { randomBytes } from 'node:crypto'
import type { FakeCall, FakeFault, FakeIssuedToken, FakeResponse, FakeSent } from './types.js'

export const TOKEN_PATHS: ReadonlySet<string> = new Set(['/cgi-bin/token', '/cgi-bin/stable_token'])
/** What an account without customer-service permission is refused (48001). */
export const CUSTOMER_SERVICE_PATHS: ReadonlySet<string> = new Set(['/cgi-bin/message/custom/send', '/cgi-bin/message/custom/typing'])

/** The errmsg WeChat sends for an errcode (a `rid` is appended like WeChat does). */
const ERRMSGS: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid file size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40016: 'invalid button size',
  40017: 'invalid button type',
  40018: 'invalid button name size',
  40019: 'invalid button key size',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40032: 'invalid openid list size',
  40037: 'invalid template_id',
  40052: 'invalid action name',
  40053: 'invalid action info',
  40055: 'invalid button url size',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40164: 'invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist',
  41001: 'access_token missing',
  41005: 'media data missing',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  44004: 'empty content',
  45008: 'article size out of limit',
  45009: 'reach max api daily quota limit',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  45056: 'too many tags',
  45057: 'can\'t delete the tag that has too many fans',
  45058: 'can\'t modify sys tag',
  45059: 'user has too many tags',
  45081: 'already in typing status',
  45157: 'invalid tag name',
  45158: 'tag name too long',
  45159: 'invalid tag id',
  46003: 'menu no exist',
  47001: 'data format error',
  48001: 'api unauthorized',
  65301: 'no menuid matched',
  65302: 'no such user',
  65303: 'there is no selfmenu, please create selfmenu first',
  65304: 'match rule empty',
  65320: 'invalid matchrule: sex, country, province, city and language are no longer supported',
}

export interface TokenRecord {
  appId: string
  mode: 'classic' | 'stable'
  expiresAt: number
  /** Superseded (classic overlap) or revoked: dead from this instant. */
  diesAt: number
}

export interface FakeUser {
  openid: string
  subscribe: 0 | 1
  subscribe_time: number
  remark: string
  tagid_list: number[]
  unionid?: string
  subscribe_scene: string
  qr_scene: number
  qr_scene_str: string
  language: string
  /** For OAuth userinfo. */
  nickname: string
  headimgurl: string
}

export interface FakeMedia {
  mediaId: string
  type: 'image' | 'voice' | 'video' | 'thumb'
  contentType: string
  filename: string
  data: Buffer
  createdAt: number
}

export interface FakeMenu {
  button: unknown[]
  matchrule?: Record<string, unknown>
  menuid: number
}

export interface OAuthCode {
  openid: string
  scope: string
  createdAt: number
  used: boolean
}

export interface WebToken {
  openid: string
  scope: string
  expiresAt: number
}

export class FakeState {
  readonly appId: string
  readonly appSecret: string
  readonly tokenTtlSec: number
  readonly tokenOverlapMs: number
  readonly userPageSize: number
  readonly now: () => number

  readonly tokens = new Map<string, TokenRecord>()
  readonly tokensIssued: FakeIssuedToken[] = []
  stableToken: string | undefined
  readonly calls: FakeCall[] = []
  readonly sent: FakeSent[] = []
  readonly faults: Array<FakeFault & { left: number }> = []
  /** Calls allowed per path before 45009 (daily quota). */
  readonly quotas = new Map<string, { limit: number; used: number }>()

  readonly users = new Map<string, FakeUser>()
  readonly tags = new Map<number, { id: number; name: string }>()
  nextTagId = 100
  defaultMenu: FakeMenu | undefined
  conditionalMenus: FakeMenu[] = []
  nextMenuId = 208_379_533
  readonly media = new Map<string, FakeMedia>()
  readonly templates = new Map<string, { title: string; content: string }>()
  nextTemplateMsgId = 3_487_542_469_355_618_313n
  readonly qrcodes: Array<{ ticket: string; action_name: string; scene: Record<string, unknown>; expire_seconds?: number; createdAt: number }> = []
  readonly oauthCodes = new Map<string, OAuthCode>()
  readonly webTokens = new Map<string, WebToken>()
  readonly refreshTokens = new Map<string, { openid: string; scope: string; expiresAt: number }>()
  readonly tickets = new Map<string, { ticket: string; expiresAt: number }>()
  /** OpenIDs whose 48-hour window is closed (45015). */
  readonly closedWindows = new Set<string>()
  /** Customer-service messages still allowed per OpenID (45047 at 0). */
  readonly sendQuota = new Map<string, number>()
  /** OpenID → fake time when typing ends. */
  readonly typingUntil = new Map<string, number>()
  /** False plays an account without customer-service permission (unverified 订阅号/服务号): 48001. */
  customerService = true
  /** State of endpoint groups kept in their own files (materials, drafts …): see `area`. */
  private readonly areas = new Map<string, unknown>()
  private seq = 0

  constructor(options: { appId: string; appSecret: string; tokenTtlSec: number; tokenOverlapMs: number; userPageSize: number; now: () => number }) {
    this.appId = options.appId
    this.appSecret = options.appSecret
    this.tokenTtlSec = options.tokenTtlSec
    this.tokenOverlapMs = options.tokenOverlapMs
    this.userPageSize = options.userPageSize
    this.now = options.now
    this.seed()
  }

  /** Back to a fresh server (keeps the configuration and the clock). */
  reset(): void {
    this.tokens.clear()
    this.tokensIssued.length = 0
    this.stableToken = undefined
    this.calls.length = 0
    this.sent.length = 0
    this.faults.length = 0
    this.quotas.clear()
    this.users.clear()
    this.tags.clear()
    this.nextTagId = 100
    this.defaultMenu = undefined
    this.conditionalMenus = []
    this.media.clear()
    this.templates.clear()
    this.qrcodes.length = 0
    this.oauthCodes.clear()
    this.webTokens.clear()
    this.refreshTokens.clear()
    this.tickets.clear()
    this.closedWindows.clear()
    this.sendQuota.clear()
    this.typingUntil.clear()
    this.customerService = true
    this.areas.clear()
    this.seed()
  }

  /**
   * The state of one group of endpoints that lives in its own handler file, created on first
   * use and dropped by reset(), so a new group never has to grow this class.
   *
   * @example
   * const drafts = state.area('drafts', () => new Map<string, Draft>())
   */
  area<T>(name: string, create: () => T): T {
    let value = this.areas.get(name) as T | undefined
    if (value === undefined) {
      value = create()
      this.areas.set(name, value)
    }
    return value
  }

  private seed(): void {
    this.tags.set(2, { id: 2, name: '星标组' })
    this.templates.set('ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY', { title: '订单发货提醒', content: '{{keyword1.DATA}} {{keyword2.DATA}} {{keyword3.DATA}}' })
  }

  nextSeq(): number {
    return ++this.seq
  }

  /** An errcode answer with WeChat's errmsg and a rid. */
  error(errcode: number, errmsg?: string): FakeResponse {
    const rid = randomBytes(6).toString('hex')
    return { json: { errcode, errmsg: `${errmsg ?? ERRMSGS[errcode] ?? 'error'} rid: ${rid.slice(0, 8)}-${rid.slice(8)}` } }
  }

  /** A new access_token (WeChat's are ~136 characters of [A-Za-z0-9_-]). */
  issueToken(mode: 'classic' | 'stable'): { token: string; expiresAt: number } {
    const token = randomBytes(102).toString('base64url')
    const at = this.now()
    const expiresAt = at + this.tokenTtlSec * 1000
    this.tokens.set(token, { appId: this.appId, mode, expiresAt, diesAt: expiresAt })
    this.tokensIssued.push({ token, appId: this.appId, mode, at, expiresAt })
    return { token, expiresAt }
  }

  /** Every token dies now, as when another system force-refreshes the account's token. */
  revokeTokens(): void {
    const now = this.now()
    for (const record of this.tokens.values()) record.diesAt = Math.min(record.diesAt, now)
    this.stableToken = undefined
  }

  /** undefined when the token is good, else the errcode answer WeChat would give. */
  checkToken(token: string | null): FakeResponse | undefined {
    if (token === null || token === '') return this.error(41001)
    const record = this.tokens.get(token)
    if (record === undefined) return /^[A-Za-z0-9_-]{16,1024}$/.test(token) ? this.error(40001) : this.error(40014)
    const now = this.now()
    if (now >= record.expiresAt) return this.error(42001)
    if (now >= record.diesAt) return this.error(40001)
    return undefined
  }

  /** Takes the first fault that matches this path, counting it down. */
  takeFault(path: string): FakeFault | undefined {
    const index = this.faults.findIndex((f) => (f.path === undefined ? !TOKEN_PATHS.has(path) : f.path === path))
    if (index < 0) return undefined
    const fault = this.faults[index]!
    fault.left--
    if (fault.left <= 0) this.faults.splice(index, 1)
    return fault
  }

  /** True when the account lacks the permission this path needs (WeChat answers 48001). */
  denied(path: string): boolean {
    return !this.customerService && CUSTOMER_SERVICE_PATHS.has(path)
  }

  /** Counts a call against the path's quota; true when it is over. */
  overQuota(path: string): boolean {
    const quota = this.quotas.get(path)
    if (quota === undefined) return false
    quota.used++
    return quota.used > quota.limit
  }

  addUser(openid: string, fields: Partial<Omit<FakeUser, 'openid'>> = {}): FakeUser {
    const user: FakeUser = {
      openid,
      subscribe: 1,
      subscribe_time: Math.floor(this.now() / 1000),
      remark: '',
      tagid_list: [],
      subscribe_scene: 'ADD_SCENE_QR_CODE',
      qr_scene: 0,
      qr_scene_str: '',
      language: 'zh_CN',
      nickname: `user-${openid.slice(-4)}`,
      headimgurl: `https://thirdwx.qlogo.cn/mmopen/fake/${openid}/132`,
      ...fields,
    }
    this.users.set(openid, user)
    return user
  }
}
