/**
 * A fake WeChat API server on loopback that behaves like WeChat where it matters: token
 * issuance and invalidation, errcodes for bad tokens, bad JSON, missing fields and quotas,
 * injectable faults, and a log of every call. Point the client (or the whole product, with
 * WECHAT_API_BASE) at `url`.
 *
 * @example
 * const fake = await startFakeWechat()
 * const api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
 * await api.customerService.sendText('oUser0000001', 'hi')
 * fake.sent // [{ kind: 'customer-service', touser: 'oUser0000001', msgtype: 'text', … }]
 * await fake.close()
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { answerControl, CONTROL_PREFIX, parseFault } from './control.js'
import { newMediaId } from './handlers/media.js'
import { addComment } from './handlers/comments.js'
import { publishConfig, publishing, type FakePublishJob, type PublishOutcome } from './handlers/freepublish.js'
import { addWaitingUser } from './handlers/kf.js'
import { setMassQuota } from './handlers/mass.js'
import { acceptSubscription } from './handlers/subscribe.js'
import { ROUTES } from './routes.js'
import { FakeState, type FakeMedia, type FakeUser } from './state.js'
import type { FakeCall, FakeFault, FakeIssuedToken, FakeRequest, FakeResponse, FakeSent } from './types.js'

export type { FakeCall, FakeFault, FakeIssuedToken, FakeSent, FakeRequest, FakeResponse } from './types.js'
export type { FakeUser, FakeMedia } from './state.js'
export type { FakePublishJob, PublishOutcome } from './handlers/freepublish.js'
export { CONTROL_USAGE } from './control.js'

export const FAKE_APP_ID = 'wx5f2a1c0d9e8b7a60'
export const FAKE_APP_SECRET = '3c5e8f0a1b2d4c6e8f0a1b2d4c6e8f0a'

const MAX_BODY_BYTES = 20 * 1024 * 1024

export interface FakeWechatOptions {
  /** Default 0: a free port. */
  port?: number
  /** Default 127.0.0.1 (loopback only). */
  host?: string
  /** The fake's clock (ms): move it to expire tokens, codes and media. */
  now?: () => number
  appId?: string
  appSecret?: string
  /** expires_in of issued tokens, seconds. Default 7200. */
  tokenTtlSec?: number
  /** How long a classic token keeps working after a newer one was fetched. Default 300 000 ms. */
  tokenOverlapMs?: number
  /** Followers per user/get page (WeChat: 10 000). */
  userPageSize?: number
  /** Called after every call is answered. */
  onCall?: (call: FakeCall) => void
  /**
   * False plays an account without customer-service permission (an unverified 订阅号, the
   * accounts most bots run on): custom/send and custom/typing answer 48001. Default true.
   */
  customerService?: boolean
  /** How long a publish job stays "publishing" (status 1) on the fake's clock. Default 1500 ms. */
  publishDelayMs?: number
  /** Called when a publish job ends (what WeChat announces with PUBLISHJOBFINISH). */
  onPublishFinished?: (job: FakePublishJob) => void
}

export interface FakeWechat {
  /** `http://127.0.0.1:<port>`: the baseUrl / WECHAT_API_BASE. */
  url: string
  port: number
  appId: string
  appSecret: string
  /** Every call, in order of arrival (the AppSecret is redacted from query and body). */
  calls: FakeCall[]
  /** Customer-service messages, typing commands and template messages delivered. */
  sent: FakeSent[]
  /** Every access_token handed out (a stable_token answer that repeats a token is not a new one). */
  tokensIssued: FakeIssuedToken[]
  /** Calls to /cgi-bin/token and /cgi-bin/stable_token, whatever their answer. */
  tokenFetches(): number
  /** Queues a fault for the next matching call(s); without `path` it matches any call except token fetches. */
  inject(fault: FakeFault): void
  /** Every current token dies now (as when another system force-refreshes the account's token). */
  revokeTokens(): void
  addUser(openid: string, fields?: Partial<Omit<FakeUser, 'openid'>>): FakeUser
  /** A media file as if a user had sent it (or it had been uploaded); returns the media_id. */
  addMedia(media: { type: FakeMedia['type']; data: Buffer; contentType: string; filename: string }): string
  addTemplate(templateId: string, template?: { title?: string; content?: string }): void
  /** The code WeChat would append to the redirect after this user consents. */
  authorize(openid: string, scope?: 'snsapi_base' | 'snsapi_userinfo'): string
  /** Closes (45015) or reopens the 48-hour customer-service window for a user. */
  setWindow(openid: string, open: boolean): void
  /** Customer-service messages still allowed for a user (45047 after); undefined removes the limit. */
  setSendQuota(openid: string, remaining: number | undefined): void
  /** Daily quota for a path: calls beyond `limit` answer 45009 until clear_quota. */
  setQuota(path: string, limit: number | undefined): void
  /** Grants or withdraws customer-service permission (without it custom/send and custom/typing answer 48001). */
  setCustomerService(allowed: boolean): void
  /** The outcome of the next publish job(s), in order: `{ status: 2 }` originality, 3 failure, 4 audit refused. */
  setPublishOutcome(...outcomes: PublishOutcome[]): void
  /** Mass sends left before 45028 (default 4, a service account's month). */
  setMassQuota(left: number): void
  /** A reader's comment on an article sent with this msg_data_id; returns its user_comment_id. */
  addComment(msgDataId: string, comment: { openid: string; content: string; index?: number }): number
  /** The user accepted a subscription template in the popup: notices with it now reach them. */
  acceptSubscription(openid: string, templateId: string): void
  /** A user waiting for a customer-service agent. */
  addWaitingUser(openid: string): void
  /** Direct access to the state (menus, tags, media, qrcodes …) for assertions. */
  state: FakeState
  reset(): void
  close(): Promise<void>
}

function headersOf(req: IncomingMessage): Record<string, string | string[] | undefined> {
  return req.headers as Record<string, string | string[] | undefined>
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return undefined
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function summariseBody(req: FakeRequest): unknown {
  if (req.body.length === 0) return undefined
  const type = String(req.headers['content-type'] ?? '')
  if (/^multipart\//i.test(type)) return { multipart: true, bytes: req.body.length }
  const text = req.body.toString('utf8')
  try {
    const parsed: unknown = JSON.parse(text)
    // stable_token and clear_quota/v2 carry the AppSecret in the body: the log never keeps it
    if (parsed !== null && typeof parsed === 'object' && 'secret' in parsed) return { ...parsed, secret: '[redacted]' }
    return parsed
  } catch {
    return text.length > 500 ? text.slice(0, 500) + '…' : text
  }
}

function write(res: ServerResponse, answer: FakeResponse): { status: number; errcode: number | undefined } {
  if ('redirect' in answer) {
    res.writeHead(302, { location: answer.redirect })
    res.end()
    return { status: 302, errcode: undefined }
  }
  if ('binary' in answer) {
    res.writeHead(200, { 'content-type': answer.contentType, 'content-length': answer.binary.length, ...answer.headers })
    res.end(answer.binary)
    return { status: 200, errcode: undefined }
  }
  if ('text' in answer) {
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain; charset=utf-8' })
    res.end(answer.text)
    let errcode: number | undefined
    try {
      const code = (JSON.parse(answer.text) as { errcode?: unknown }).errcode
      errcode = typeof code === 'number' ? code : undefined
    } catch {
      errcode = undefined
    }
    return { status: answer.status, errcode }
  }
  const status = answer.status ?? 200
  const text = 'rawJson' in answer ? answer.rawJson : JSON.stringify(answer.json)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(text)
  const code = /"errcode"\s*:\s*(-?\d+)/.exec(text)?.[1]
  return { status, errcode: code === undefined ? 0 : Number(code) }
}

/** Starts the fake on loopback; `close()` stops it. */
export async function startFakeWechat(options: FakeWechatOptions = {}): Promise<FakeWechat> {
  const state = new FakeState({
    appId: options.appId ?? FAKE_APP_ID,
    appSecret: options.appSecret ?? FAKE_APP_SECRET,
    tokenTtlSec: options.tokenTtlSec ?? 7200,
    tokenOverlapMs: options.tokenOverlapMs ?? 300_000,
    userPageSize: options.userPageSize ?? 10_000,
    now: options.now ?? Date.now,
  })
  if (options.customerService === false) state.customerService = false

  async function answer(req: FakeRequest): Promise<{ response: FakeResponse; injected: boolean }> {
    const route = ROUTES[req.path]
    // faults first: latency adds to whatever comes next, an errcode or a status replaces it
    for (let fault = state.takeFault(req.path); fault !== undefined; fault = state.takeFault(req.path)) {
      if ('latencyMs' in fault) {
        await sleep(fault.latencyMs)
        continue
      }
      if ('errcode' in fault) return { response: state.error(fault.errcode, fault.errmsg), injected: true }
      if ('json' in fault) return { response: { json: fault.json }, injected: true }
      return { response: { text: `fake-wechat: injected HTTP ${fault.status}`, status: fault.status }, injected: true }
    }
    if (route === undefined) return { response: { text: `fake-wechat: no endpoint ${req.path}`, status: 404 }, injected: false }
    if (req.method !== route.method) return { response: state.error(route.method === 'POST' ? 43002 : 43001), injected: false }
    if (route.auth) {
      const bad = state.checkToken(req.query.get('access_token'))
      if (bad !== undefined) return { response: bad, injected: false }
    }
    if (state.denied(req.path)) return { response: state.error(48001), injected: false }
    if (state.overQuota(req.path)) return { response: state.error(45009), injected: false }
    return { response: await route.handle(req, state), injected: false }
  }

  const publish = publishConfig(state)
  if (options.publishDelayMs !== undefined) publish.delayMs = options.publishDelayMs
  if (options.onPublishFinished !== undefined) publish.onFinish = options.onPublishFinished

  const controls: Omit<FakeWechat, 'url' | 'port' | 'close'> = {
    appId: state.appId,
    appSecret: state.appSecret,
    calls: state.calls,
    sent: state.sent,
    tokensIssued: state.tokensIssued,
    state,
    tokenFetches: () => state.calls.filter((c) => c.path === '/cgi-bin/token' || c.path === '/cgi-bin/stable_token').length,
    inject(fault) {
      const checked = parseFault(fault)
      if (typeof checked === 'string') throw new RangeError(`fake-wechat inject: ${checked}`)
      state.faults.push({ ...checked, left: checked.times ?? 1 })
    },
    revokeTokens: () => state.revokeTokens(),
    addUser: (openid, fields) => state.addUser(openid, fields),
    addMedia(media) {
      const mediaId = newMediaId()
      state.media.set(mediaId, { ...media, mediaId, createdAt: state.now() })
      return mediaId
    },
    addTemplate(templateId, template = {}) {
      state.templates.set(templateId, { title: template.title ?? templateId, content: template.content ?? '' })
    },
    authorize(openid, scope = 'snsapi_base') {
      const code = newMediaId().slice(0, 32)
      state.oauthCodes.set(code, { openid, scope, createdAt: state.now(), used: false })
      return code
    },
    setWindow(openid, open) {
      if (open) state.closedWindows.delete(openid)
      else state.closedWindows.add(openid)
    },
    setSendQuota(openid, remaining) {
      if (remaining === undefined) state.sendQuota.delete(openid)
      else state.sendQuota.set(openid, remaining)
    },
    setQuota(path, limit) {
      if (limit === undefined) state.quotas.delete(path)
      else state.quotas.set(path, { limit, used: 0 })
    },
    setCustomerService(allowed) {
      state.customerService = allowed
    },
    setPublishOutcome(...outcomes) {
      for (const outcome of outcomes) {
        if (![0, 2, 3, 4].includes(outcome.status)) throw new RangeError('fake-wechat setPublishOutcome: status is 0, 2, 3 or 4')
      }
      publishing(state).outcomes.push(...outcomes)
    },
    setMassQuota: (left) => setMassQuota(state, left),
    addComment: (msgDataId, comment) => addComment(state, msgDataId, comment),
    acceptSubscription: (openid, templateId) => acceptSubscription(state, openid, templateId),
    addWaitingUser: (openid) => addWaitingUser(state, openid),
    reset: () => state.reset(),
  }

  const server = createServer((incoming, res) => {
    serveOne(incoming, res).catch(() => {
      // the client went away mid-request (aborted upload, timeout): nothing left to answer
      res.destroy()
    })
  })

  async function serveOne(incoming: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(incoming.url ?? '/', 'http://fake.invalid')
    const body = await readBody(incoming)
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      // the fake's own controls: answered, never logged as WeChat calls
      write(res, body === undefined ? { text: 'fake-wechat: body too large', status: 413 } : answerControl(incoming.method ?? 'GET', url.pathname, url.searchParams, body, controls))
      return
    }
    const req: FakeRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: headersOf(incoming),
      body: body ?? Buffer.alloc(0),
      accessToken: url.searchParams.get('access_token') ?? undefined,
    }
    const seq = state.nextSeq()
    const at = state.now()
    let result: { response: FakeResponse; injected: boolean }
    if (body === undefined) result = { response: { text: 'fake-wechat: body too large', status: 413 }, injected: false }
    else {
      try {
        result = await answer(req)
      } catch (err) {
        result = { response: { text: `fake-wechat: handler failed: ${(err as Error).message}`, status: 500 }, injected: false }
      }
    }
    const { status, errcode } = write(res, result.response)
    const query = Object.fromEntries([...url.searchParams].map(([k, v]) => [k, k === 'secret' ? '[redacted]' : v]))
    const call: FakeCall = { seq, at, method: req.method, path: req.path, query, accessToken: req.accessToken, body: summariseBody(req), status, errcode, injected: result.injected }
    state.calls.push(call)
    options.onCall?.(call)
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    ...controls,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
