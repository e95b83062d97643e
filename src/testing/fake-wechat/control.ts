/**
 * The fake's own control API under `/__fake/`, so a fake started from the command line
 * (`wxmp fake-wechat`) can be steered like the in-process one: read the call log and what was
 * delivered, inject faults, add users, close a user's window, play the user on the OAuth page.
 * These requests are answered as plain JSON and are not part of the call log.
 *
 * @example
 * curl -X POST localhost:8081/__fake/inject -d '{"errcode":40001,"path":"/cgi-bin/message/custom/send"}'
 * curl localhost:8081/__fake/calls
 */
import type { FakeCall, FakeFault, FakeSent, FakeResponse } from './types.js'
import type { FakeUser } from './state.js'

export const CONTROL_PREFIX = '/__fake/'

/** What the control API drives: the same methods a test calls on the FakeWechat handle. */
export interface FakeControls {
  calls: FakeCall[]
  sent: FakeSent[]
  tokenFetches(): number
  inject(fault: FakeFault): void
  revokeTokens(): void
  addUser(openid: string, fields?: Partial<Omit<FakeUser, 'openid'>>): FakeUser
  authorize(openid: string, scope?: 'snsapi_base' | 'snsapi_userinfo'): string
  setWindow(openid: string, open: boolean): void
  setCustomerService(allowed: boolean): void
  setPublishOutcome(...outcomes: Array<{ status: 0 } | { status: 2 | 3 | 4; failIdx?: number[] }>): void
  setMassQuota(left: number): void
  reset(): void
}

export const CONTROL_USAGE = `GET  /__fake/calls                      the call log (?path=/cgi-bin/… to filter)
GET  /__fake/sent                       customer-service, typing and template messages delivered
POST /__fake/inject    {"errcode":40001,"path":"/cgi-bin/…","times":1} | {"latencyMs":800} | {"status":502} | {"json":{…}}
POST /__fake/users     {"openid":"o…","subscribe":1}
POST /__fake/window    {"openid":"o…","open":false}   (45015 until reopened)
POST /__fake/permissions {"customerService":false}   (48001 on custom/send and custom/typing)
POST /__fake/authorize {"openid":"o…","scope":"snsapi_userinfo"} → {"code":"…"}
POST /__fake/publish-outcome {"status":4,"failIdx":[1]}   the next publish job ends so (0 ok, 2, 3, 4)
POST /__fake/mass-quota {"left":0}      mass sends left before 45028
POST /__fake/revoke-tokens                every current access_token answers 40001
POST /__fake/reset                        back to a fresh server`

const OPENID = /^[\w-]{6,64}$/

function bad(message: string): FakeResponse {
  return { json: { ok: false, error: message }, status: 400 }
}

/** Checks a fault that arrived as JSON: exactly one kind, sane numbers. */
export function parseFault(value: unknown): FakeFault | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'a fault is a JSON object'
  const f = value as Record<string, unknown>
  const kinds = ['errcode', 'latencyMs', 'status', 'json'].filter((k) => f[k] !== undefined)
  if (kinds.length !== 1) return 'give exactly one of errcode, latencyMs, status, json'
  const extra: { times?: number; path?: string } = {}
  if (f.times !== undefined) {
    if (typeof f.times !== 'number' || !Number.isInteger(f.times) || f.times < 1 || f.times > 10_000) return 'times must be a whole number from 1 to 10000'
    extra.times = f.times
  }
  if (f.path !== undefined) {
    if (typeof f.path !== 'string' || !f.path.startsWith('/')) return 'path must start with / (e.g. /cgi-bin/message/custom/send)'
    extra.path = f.path
  }
  if (f.errcode !== undefined) {
    if (typeof f.errcode !== 'number' || !Number.isInteger(f.errcode)) return 'errcode must be a whole number'
    return { errcode: f.errcode, ...(typeof f.errmsg === 'string' ? { errmsg: f.errmsg } : {}), ...extra }
  }
  if (f.latencyMs !== undefined) {
    if (typeof f.latencyMs !== 'number' || !(f.latencyMs >= 0 && f.latencyMs <= 120_000)) return 'latencyMs must be from 0 to 120000'
    return { latencyMs: f.latencyMs, ...extra }
  }
  if (f.status !== undefined) {
    if (typeof f.status !== 'number' || !Number.isInteger(f.status) || f.status < 100 || f.status > 599) return 'status must be an HTTP status (100–599)'
    return { status: f.status, ...extra }
  }
  if (f.json === null || typeof f.json !== 'object' || Array.isArray(f.json)) return 'json must be an object'
  return { json: f.json as Record<string, unknown>, ...extra }
}

/** Answers one control request. */
export function answerControl(method: string, path: string, query: URLSearchParams, body: Buffer, fake: FakeControls): FakeResponse {
  const action = path.slice(CONTROL_PREFIX.length)
  if (method === 'GET' && action === 'calls') {
    const only = query.get('path')
    return { json: { calls: only === null ? fake.calls : fake.calls.filter((c) => c.path === only), tokenFetches: fake.tokenFetches() } }
  }
  if (method === 'GET' && action === 'sent') return { json: { sent: fake.sent } }
  if (method !== 'POST') return { text: `fake-wechat control API:\n${CONTROL_USAGE}\n`, status: 404 }
  let input: Record<string, unknown> = {}
  if (body.length > 0) {
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'))
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return bad('the body must be a JSON object')
      input = parsed as Record<string, unknown>
    } catch {
      return bad('the body is not valid JSON')
    }
  }
  const openid = () => (typeof input.openid === 'string' && OPENID.test(input.openid) ? input.openid : undefined)
  switch (action) {
    case 'inject': {
      const fault = parseFault(input)
      if (typeof fault === 'string') return bad(fault)
      fake.inject(fault)
      return { json: { ok: true } }
    }
    case 'users': {
      const id = openid()
      if (id === undefined) return bad('openid must be 6–64 of A-Z a-z 0-9 _ -')
      const subscribe = input.subscribe === 0 ? 0 : 1
      return { json: { ok: true, user: fake.addUser(id, { subscribe, ...(typeof input.remark === 'string' ? { remark: input.remark } : {}), ...(typeof input.unionid === 'string' ? { unionid: input.unionid } : {}) }) } }
    }
    case 'window': {
      const id = openid()
      if (id === undefined || typeof input.open !== 'boolean') return bad('give {"openid": "o…", "open": true|false}')
      fake.setWindow(id, input.open)
      return { json: { ok: true } }
    }
    case 'permissions': {
      if (typeof input.customerService !== 'boolean') return bad('give {"customerService": true|false}')
      fake.setCustomerService(input.customerService)
      return { json: { ok: true } }
    }
    case 'authorize': {
      const id = openid()
      const scope = input.scope ?? 'snsapi_base'
      if (id === undefined || (scope !== 'snsapi_base' && scope !== 'snsapi_userinfo')) return bad('give {"openid": "o…", "scope": "snsapi_base"|"snsapi_userinfo"}')
      return { json: { ok: true, code: fake.authorize(id, scope) } }
    }
    case 'publish-outcome': {
      const status = input.status
      const failIdx = input.failIdx
      if (status !== 0 && status !== 2 && status !== 3 && status !== 4) return bad('give {"status": 0|2|3|4, "failIdx": [1]}')
      if (failIdx !== undefined && !(Array.isArray(failIdx) && failIdx.every((n) => Number.isInteger(n) && (n as number) >= 1))) return bad('failIdx is a list of article numbers from 1')
      fake.setPublishOutcome(status === 0 ? { status } : { status, ...(failIdx === undefined ? {} : { failIdx: failIdx as number[] }) })
      return { json: { ok: true } }
    }
    case 'mass-quota': {
      if (typeof input.left !== 'number' || !Number.isInteger(input.left) || input.left < 0) return bad('give {"left": n}')
      fake.setMassQuota(input.left)
      return { json: { ok: true } }
    }
    case 'revoke-tokens':
      fake.revokeTokens()
      return { json: { ok: true } }
    case 'reset':
      fake.reset()
      return { json: { ok: true } }
    default:
      return { text: `fake-wechat control API:\n${CONTROL_USAGE}\n`, status: 404 }
  }
}
