/**
 * Token issuance as WeChat does it (protocol.md §6.2): classic fetches issue a new token and
 * the previous one dies after an overlap; stable_token hands out the same token while it is
 * valid (a new one in its last 5 minutes), and force_refresh kills the current one at once,
 * unless the previous forced refresh was less than 30 s ago: then it refreshes nothing and hands
 * back the current token ("需间隔30秒，否则不会刷新").
 */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { readJson } from './body.js'

const STABLE_ROTATE_BEFORE_MS = 300_000
const FORCE_REFRESH_SPACING_MS = 30_000

function checkCredentials(state: FakeState, grantType: unknown, appid: unknown, secret: unknown, wrongSecretErrcode: number): FakeResponse | undefined {
  if (grantType !== 'client_credential') return state.error(40002)
  if (appid !== state.appId) return state.error(40013)
  if (secret !== state.appSecret) return state.error(wrongSecretErrcode, wrongSecretErrcode === 40001 ? 'invalid credential' : undefined)
  return undefined
}

export function classicToken(req: FakeRequest, state: FakeState): FakeResponse {
  const q = req.query
  // a wrong secret on the classic endpoint answers 40001 "invalid credential"
  const bad = checkCredentials(state, q.get('grant_type'), q.get('appid'), q.get('secret'), 40001)
  if (bad !== undefined) return bad
  const now = state.now()
  for (const record of state.tokens.values()) {
    if (record.mode === 'classic' && record.diesAt > now) record.diesAt = Math.min(record.diesAt, now + state.tokenOverlapMs)
  }
  const { token } = state.issueToken('classic')
  return { json: { access_token: token, expires_in: state.tokenTtlSec } }
}

export function stableToken(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const bad = checkCredentials(state, body.grant_type, body.appid, body.secret, 40125)
  if (bad !== undefined) return bad
  if (body.force_refresh !== undefined && typeof body.force_refresh !== 'boolean') return state.error(47001, 'data format error hint: [force_refresh must be a boolean]')
  const now = state.now()
  const current = state.stableToken === undefined ? undefined : state.tokens.get(state.stableToken)
  const lastForced = state.area('stable-token-forced', () => ({ at: Number.NEGATIVE_INFINITY }))
  const force = body.force_refresh === true && now - lastForced.at >= FORCE_REFRESH_SPACING_MS
  if (force) lastForced.at = now
  if (force && current !== undefined) current.diesAt = Math.min(current.diesAt, now)
  const usable = current !== undefined && !force && now < current.diesAt && current.expiresAt - now > STABLE_ROTATE_BEFORE_MS
  if (usable && state.stableToken !== undefined) {
    return { json: { access_token: state.stableToken, expires_in: Math.floor((current.expiresAt - now) / 1000) } }
  }
  const { token } = state.issueToken('stable')
  state.stableToken = token
  return { json: { access_token: token, expires_in: state.tokenTtlSec } }
}

export function clearQuota(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  if (parsed.body.appid !== state.appId) return state.error(40013)
  for (const quota of state.quotas.values()) quota.used = 0
  return { json: { errcode: 0, errmsg: 'ok' } }
}

export function callbackIp(_req: FakeRequest, _state: FakeState): FakeResponse {
  return { json: { ip_list: ['127.0.0.1', '101.226.62.77', '101.226.62.78'] } }
}
