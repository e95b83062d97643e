/**
 * WeChat's error answers as the fake server gives them: HTTP 200 with
 * `{"errcode":N,"errmsg":"… rid: …"}`. Handlers throw `wxError(N)`; the server turns it into
 * that body. The errmsg texts follow WeChat's English ones closely enough for logs and tests.
 */
import { randomBytes } from 'node:crypto'

const ERRMSG: Record<number, string> = {
  [-1]: 'system error',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40006: 'invalid meida size',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40016: 'invalid button size',
  40017: 'invalid button type',
  40018: 'invalid button name size',
  40019: 'invalid button key size',
  40020: 'invalid button url size',
  40022: 'invalid sub button level',
  40023: 'invalid sub button size',
  40024: 'invalid sub button type',
  40025: 'invalid sub button name size',
  40026: 'invalid sub button key size',
  40027: 'invalid sub button url size',
  40029: 'invalid code',
  40030: 'invalid refresh_token',
  40032: 'invalid openid list size',
  40037: 'invalid template_id',
  40053: 'invalid action info',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  40163: 'code been used',
  40164: 'invalid ip, not in whitelist',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  41005: 'media data missing',
  41006: 'media_id missing',
  41008: 'missing code',
  41009: 'missing openid',
  42001: 'access_token expired',
  42002: 'refresh_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  43004: 'require subscribe',
  44002: 'empty post data',
  44003: 'empty news data',
  44004: 'empty content',
  45008: 'article size out of limit',
  45009: 'reach max api daily quota limit',
  45011: 'api minute-quota reach limit  mustslower  retry next minute',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  45056: 'too many tags',
  45057: "can't delete the tag that has too many fans",
  45058: "can't modify sys tag",
  45059: 'too many tag now, no need to add new',
  45081: 'already in typing status',
  45157: 'invalid tag name',
  45158: 'tag name too long',
  45159: 'invalid tag id',
  46003: 'menu no exist',
  47001: 'data format error',
  48001: 'api unauthorized',
  48006: 'forbid to clear quota because of reaching the limit',
  65301: 'menuid not exist',
  65302: 'no such user',
  65303: 'there is no selfmenu, please create selfmenu first',
  65304: 'match rule empty',
  65320: 'invalid matchrule: privacy fields are no longer supported',
}

/** A WeChat errcode answer, thrown by a handler. */
export class FakeWxError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    super(`${errcode} ${errmsg}`)
  }
}

/** `rid: 6501a2b3-1c2d3e4f-5a6b7c8d`, the request id WeChat appends to error messages. */
function rid(): string {
  const hex = randomBytes(12).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16)}`
}

/**
 * The error WeChat gives for `errcode`, with an optional detail (as WeChat's `hint:`).
 *
 * @example
 * throw wxError(40003)              // {"errcode":40003,"errmsg":"invalid openid rid: …"}
 */
export function wxError(errcode: number, detail?: string): FakeWxError {
  return new FakeWxError(errcode, errmsgFor(errcode, detail))
}

/** The errmsg text for an errcode: WeChat's words, `hint: [detail]`, then `rid: …`. */
export function errmsgFor(errcode: number, detail?: string): string {
  const base = ERRMSG[errcode] ?? 'error'
  return `${base}${detail === undefined ? '' : ` hint: [${detail}]`} rid: ${rid()}`
}
