/**
 * The two ways a WeChat API call fails, kept apart (design.md): WeChat answered with an
 * errcode (`WechatApiError`), or no usable answer arrived at all (`HttpError`: network,
 * timeout, 5xx, a body that is not JSON). Each carries a hint that names what to do.
 */
import { WxmpError, type WxErrorCode } from '../errors.js'

/** errcodes that mean "this access_token is no good": drop it (if still current), refresh once, retry once. */
export const TOKEN_INVALID_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001])

/**
 * errcodes that no retry can fix: configuration, permissions, quota. Never retried; the error
 * names the fix. (protocol.md §6.3)
 */
export const FATAL_ERRCODES: ReadonlySet<number> = new Set([40002, 40013, 40125, 40164, 40243, 41001, 45009, 48001, 89501, 89503, 89506, 89507])

/** WeChat is busy: retried with a short bounded backoff. */
export const BUSY_ERRCODE = -1

/** What to do about each errcode we know; shown in the error message and kept on `hint`. */
const HINTS: Record<number, string> = {
  [-1]: 'WeChat is busy (system error); retried with backoff and still failing: try again later',
  40001: 'the access_token is invalid or no longer the latest: another process or server probably fetched a new one with /cgi-bin/token. Share one token store between all instances (REDIS_URL or one DATABASE_URL) and prefer stable_token',
  40002: 'grant_type must be client_credential: this is a bug in the caller',
  40003: 'the OpenID is not valid for this account: OpenIDs differ per Official Account, is it from another AppID?',
  40004: 'media type must be image, voice, video or thumb',
  40005: 'the file type is not accepted for this media type (image: jpg/png/gif, voice: amr/mp3, video: mp4, thumb: jpg)',
  40006: 'the file size is over the limit for this media type',
  40007: 'media_id is unknown or expired: temporary media live 3 days, upload again',
  40013: 'the AppID is wrong: use the wx… AppID from 基本配置, not the gh_… 原始ID (check WECHAT_APPID)',
  40014: 'the access_token is malformed or truncated: store at least 512 characters for it',
  40016: 'a menu has 1–3 top-level buttons and 1–5 sub-buttons each',
  40017: 'a menu button has an unknown type',
  40018: 'a menu button name is too long (16 bytes top level, 60 bytes sub level)',
  40019: 'a menu button key is too long (128 bytes)',
  40029: 'the OAuth code is invalid or expired (codes live 5 minutes and work once): send the user through authorize again',
  40030: 'the OAuth refresh_token is invalid: send the user through authorize again',
  40037: 'the template_id is unknown: copy it from the template library of this account',
  40125: 'the AppSecret is wrong or was reset in the console: update WECHAT_APPSECRET',
  40163: 'the OAuth code was already used: a code works once, do not exchange it twice',
  40164: 'this server\'s outgoing IP is not in the console IP whitelist (基本配置 → IP白名单): add the IP named in errmsg; retrying will not help',
  40243: 'the AppSecret is frozen in the console: unfreeze it (基本配置) before calling the API',
  41001: 'access_token missing from the request: this is a bug in the caller',
  42001: 'the access_token expired',
  42002: 'the OAuth refresh_token expired (30 days): send the user through authorize again',
  43004: 'the user does not follow the account',
  44002: 'the POST body is empty',
  45008: 'a customer-service news message carries exactly one article',
  45009: 'the daily API quota is used up: wait until midnight (Beijing time) or reset it with POST /cgi-bin/clear_quota (10 times a month)',
  45011: 'API called too often: slow down',
  45015: 'the 48-hour customer-service window is closed: the user has not interacted recently, so only template messages can reach them',
  45047: 'the customer-service quota for this user is used up (5 messages per interaction): wait for the user to write again',
  45081: 'the typing indicator is already on (it lasts 15 s)',
  46003: 'there is no menu',
  47001: 'the request body is not the JSON WeChat expects (bad JSON, a missing field or a wrong type)',
  47003: 'an argument is invalid: check the template data keys and values',
  48001: 'this account has no permission for this API (unverified account, subscription account, or the feature is not enabled)',
  65301: 'no conditional menu has this menuid',
  65303: 'create the default menu before adding a conditional menu',
  65320: 'matchrule may only use tag_id and client_platform_type: sex, country, province, city and language are no longer accepted',
  89501: 'this IP awaits an administrator\'s confirmation in the console: ask the admin to approve it',
  89503: 'this IP needs an administrator\'s confirmation in the console: ask the admin to approve it, retrying will not help',
  89506: 'an administrator rejected this IP twice within 24 hours: wait 24 hours',
  89507: 'an administrator rejected this IP within the last hour: wait an hour',
}

/** The hint for an errcode, if wxmp knows one. */
export function errcodeHint(errcode: number): string | undefined {
  return HINTS[errcode]
}

/** `rid: …` that WeChat appends to errmsg; WeChat support asks for it. */
function extractRid(errmsg: string): string | undefined {
  return /rid:\s*([\w-]+)/.exec(errmsg)?.[1]
}

export interface WechatApiErrorInit {
  errcode: number
  errmsg: string
  path: string
  /** The error came from obtaining a token (code WX_ERR_TOKEN) rather than from an API call. */
  duringTokenFetch?: boolean
  /** The hint to use instead of the default one for this errcode. */
  hint?: string
}

/**
 * WeChat answered, with a non-zero errcode.
 *
 * @example
 * try { await api.customerService.sendText(openid, 'hi') }
 * catch (err) { if (err instanceof WechatApiError && err.errcode === 45015) … }
 */
export class WechatApiError extends WxmpError {
  override readonly name = 'WechatApiError'
  readonly errcode: number
  readonly errmsg: string
  readonly rid: string | undefined
  readonly path: string
  readonly hint: string | undefined

  constructor(init: WechatApiErrorInit) {
    const hint = init.hint ?? errcodeHint(init.errcode)
    const code: WxErrorCode = init.duringTokenFetch === true ? 'WX_ERR_TOKEN' : 'WX_ERR_API'
    const what = init.duringTokenFetch === true ? `could not obtain an access token (${init.path})` : init.path
    super(code, `${what}: errcode ${init.errcode} ${init.errmsg}${hint === undefined ? '' : ` — ${hint}`}`, {
      details: { errcode: init.errcode, path: init.path },
    })
    this.errcode = init.errcode
    this.errmsg = init.errmsg
    this.rid = extractRid(init.errmsg)
    this.path = init.path
    this.hint = hint
  }
}

export interface HttpErrorInit {
  path: string
  message: string
  /** HTTP status when a response arrived (5xx, 404, …); undefined for network errors and timeouts. */
  status?: number
  timedOut?: boolean
  cause?: unknown
  duringTokenFetch?: boolean
}

/** No usable answer from WeChat: network error, timeout, HTTP status other than 200, or a body that is not JSON. */
export class HttpError extends WxmpError {
  override readonly name = 'HttpError'
  readonly path: string
  /** WeChat's HTTP status when a response arrived (`status` is wxmp's own status for this error, 502). */
  readonly httpStatus: number | undefined
  readonly timedOut: boolean

  constructor(init: HttpErrorInit) {
    super(init.duringTokenFetch === true ? 'WX_ERR_TOKEN' : 'WX_ERR_HTTP', `${init.path}: ${init.message}`, {
      cause: init.cause,
      details: { path: init.path, ...(init.status === undefined ? {} : { httpStatus: init.status }) },
    })
    this.path = init.path
    this.httpStatus = init.status
    this.timedOut = init.timedOut === true
  }
}
