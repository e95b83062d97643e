/**
 * OAuth web authorization and the JS-SDK ticket (protocol.md §9.6, §9.7). A test plays the
 * user with `fake.authorize(openid, scope)`, which returns the code WeChat would put on the
 * redirect.
 */
import { randomBytes } from 'node:crypto'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { ok } from './body.js'

const CODE_TTL_MS = 5 * 60_000
const WEB_TOKEN_TTL_SEC = 7200
const REFRESH_TTL_MS = 30 * 86_400_000

function issueWebToken(state: FakeState, openid: string, scope: string, refreshToken?: string): FakeResponse {
  const accessToken = randomBytes(60).toString('base64url')
  const refresh = refreshToken ?? randomBytes(60).toString('base64url')
  state.webTokens.set(accessToken, { openid, scope, expiresAt: state.now() + WEB_TOKEN_TTL_SEC * 1000 })
  if (refreshToken === undefined) state.refreshTokens.set(refresh, { openid, scope, expiresAt: state.now() + REFRESH_TTL_MS })
  const user = state.users.get(openid)
  return {
    json: {
      access_token: accessToken,
      expires_in: WEB_TOKEN_TTL_SEC,
      refresh_token: refresh,
      openid,
      scope,
      ...(user?.unionid === undefined ? {} : { unionid: user.unionid }),
    },
  }
}

/**
 * open.weixin.qq.com/connect/oauth2/authorize: the user consents at once and is sent back to
 * `redirect_uri?code=…&state=…`. The user is the `openid` query parameter (a fake-only
 * extension), else the first follower, else a new one. WeChat's page errors (10003, 10005,
 * 10010–10012) come back as an HTTP 400 page naming the code.
 */
export function oauthAuthorize(req: FakeRequest, state: FakeState): FakeResponse {
  const q = req.query
  const page = (code: number | undefined, what: string): FakeResponse => ({ text: `fake-wechat authorize page: ${code === undefined ? '' : `error ${code}: `}${what}`, status: 400 })
  if (!q.get('appid')) return page(10012, 'appid is empty')
  if (q.get('appid') !== state.appId) return page(undefined, `appid ${q.get('appid')} is not this account (${state.appId})`)
  const redirect = q.get('redirect_uri') ?? ''
  if (redirect === '') return page(10011, 'redirect_uri is empty')
  if (!/^https?:\/\/[^/\s]+/i.test(redirect)) return page(10003, 'redirect_uri is not an absolute http(s) URL')
  const scope = q.get('scope') ?? ''
  if (scope === '') return page(10010, 'scope is empty')
  if (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo') return page(10005, `scope ${scope} is not permitted`)
  if (q.get('response_type') !== 'code') return page(undefined, 'response_type must be code')
  const wanted = q.get('openid')
  const openid = wanted ?? [...state.users.values()].find((u) => u.subscribe === 1)?.openid ?? state.addUser(`oWxmpFakeUser${randomBytes(8).toString('hex').slice(0, 15)}`).openid
  if (!state.users.has(openid)) state.addUser(openid)
  const code = randomBytes(16).toString('hex')
  state.oauthCodes.set(code, { openid, scope, createdAt: state.now(), used: false })
  const back = new URL(redirect)
  back.searchParams.set('code', code)
  back.searchParams.set('state', q.get('state') ?? '')
  return { redirect: back.toString() }
}

export function oauthAccessToken(req: FakeRequest, state: FakeState): FakeResponse {
  const q = req.query
  if (q.get('appid') !== state.appId) return state.error(40013)
  if (q.get('secret') !== state.appSecret) return state.error(40125)
  if (q.get('grant_type') !== 'authorization_code') return state.error(40002)
  const code = state.oauthCodes.get(q.get('code') ?? '')
  if (code === undefined || state.now() - code.createdAt > CODE_TTL_MS) return state.error(40029)
  if (code.used) return state.error(40163)
  code.used = true
  return issueWebToken(state, code.openid, code.scope)
}

export function oauthRefresh(req: FakeRequest, state: FakeState): FakeResponse {
  const q = req.query
  if (q.get('appid') !== state.appId) return state.error(40013)
  if (q.get('grant_type') !== 'refresh_token') return state.error(40002)
  const token = q.get('refresh_token') ?? ''
  const record = state.refreshTokens.get(token)
  if (record === undefined) return state.error(40030)
  if (state.now() >= record.expiresAt) return state.error(42002, 'refresh_token expired')
  return issueWebToken(state, record.openid, record.scope, token)
}

function webToken(req: FakeRequest, state: FakeState): FakeResponse | { openid: string; scope: string } {
  const token = req.query.get('access_token')
  if (token === null || token === '') return state.error(41001)
  const record = state.webTokens.get(token)
  if (record === undefined) return state.error(40001)
  if (state.now() >= record.expiresAt) return state.error(42001)
  if (req.query.get('openid') !== record.openid) return state.error(40003)
  return record
}

export function oauthUserInfo(req: FakeRequest, state: FakeState): FakeResponse {
  const record = webToken(req, state)
  if (!('openid' in record)) return record
  if (record.scope !== 'snsapi_userinfo') return state.error(48001, 'api unauthorized hint: [scope snsapi_base cannot read userinfo]')
  const user = state.users.get(record.openid)
  return {
    json: {
      openid: record.openid,
      nickname: user?.nickname ?? 'WeChat user',
      sex: 0,
      province: '',
      city: '',
      country: '',
      headimgurl: user?.headimgurl ?? '',
      privilege: [],
      ...(user?.unionid === undefined ? {} : { unionid: user.unionid }),
    },
  }
}

export function oauthAuth(req: FakeRequest, state: FakeState): FakeResponse {
  const record = webToken(req, state)
  return 'openid' in record ? ok() : record
}

export function getTicket(req: FakeRequest, state: FakeState): FakeResponse {
  const type = req.query.get('type')
  if (type !== 'jsapi' && type !== 'wx_card') return state.error(40097)
  const now = state.now()
  let ticket = state.tickets.get(type)
  if (ticket === undefined || now >= ticket.expiresAt) {
    ticket = { ticket: randomBytes(64).toString('base64url'), expiresAt: now + 7200_000 }
    state.tickets.set(type, ticket)
  }
  return { json: { errcode: 0, errmsg: 'ok', ticket: ticket.ticket, expires_in: Math.floor((ticket.expiresAt - now) / 1000) } }
}
