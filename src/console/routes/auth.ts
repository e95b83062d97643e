/** Sign-in, sign-out and the session the page starts from. */
import { randomBytes } from 'node:crypto'
import { consoleError, isHttps, readJson, remoteOf, sendJson } from '../http.js'
import { verifyPassword, parseHash, isOperatorName } from '../password.js'
import { accountOf, type ConsoleAccount } from '../accounts.js'
import type { ConsoleDeps } from '../deps.js'
import { COOKIE } from '../deps.js'
import type { Route, RouteContext } from '../router.js'

/** Checked for unknown names too, so the answer time does not tell which names exist. */
const DECOY = parseHash(`scrypt:15:8:1:${randomBytes(16).toString('base64url')}:${randomBytes(32).toString('base64url')}`)!

/**
 * Shared by every account: operators, sessions and sign-in limits are the server's. The audit
 * line goes to the account the page is on (`?account=`, else the first).
 */
export function authRoutes(accounts: readonly ConsoleAccount[]): Route[] {
  const deps = accounts[0]!.deps
  const on = (ctx: RouteContext) => accountOf(accounts, ctx.url, true).deps
  // before sign-in nothing tells which account names exist: an unknown one is the first
  const signingInOn = (ctx: RouteContext) => (accounts.find((a) => a.name === ctx.url.searchParams.get('account')) ?? accounts[0]!).deps
  const cookieAttributes = (ctx: RouteContext, maxAgeSec: number) =>
    `Path=${deps.base}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${isHttps(ctx.req) ? '; Secure' : ''}`

  return [
    {
      method: 'POST',
      pattern: /^\/login$/,
      public: true,
      async handle(ctx) {
        const body = await readJson(ctx.req, 4096)
        const name = typeof body.user === 'string' ? body.user.trim() : ''
        const password = typeof body.password === 'string' ? body.password : ''
        const remote = remoteOf(ctx.req)
        const auditName = isOperatorName(name) ? name : '(invalid name)'
        const locked = await deps.guard.lockedFor(name, remote)
        if (locked > 0) {
          await signingInOn(ctx).audit.record({ operator: auditName, action: 'sign-in', remote, ok: false, detail: { reason: 'locked' } })
          const minutes = Math.ceil(locked / 60_000)
          throw consoleError('WX_ERR_CONSOLE_LOCKED', `too many failed sign-ins: try again in ${minutes} minute${minutes === 1 ? '' : 's'}`, { retryAfterSec: Math.ceil(locked / 1000) }, { 'retry-after': String(Math.ceil(locked / 1000)) })
        }
        const operator = deps.operators.operators.find((o) => o.name === name)
        const good = (await verifyPassword(password.slice(0, 1024), operator?.hash ?? DECOY)) && operator !== undefined
        if (!good) {
          const nowLocked = await deps.guard.failed(name, remote)
          await signingInOn(ctx).audit.record({ operator: auditName, action: 'sign-in', remote, ok: false, detail: { reason: nowLocked ? 'wrong name or password; now locked' : 'wrong name or password' } })
          throw consoleError('WX_ERR_CONSOLE_UNAUTHORIZED', 'wrong name or password')
        }
        await deps.guard.succeeded(name)
        const { id, session } = await deps.sessions.create(operator.name)
        await signingInOn(ctx).audit.record({ operator: operator.name, action: 'sign-in', remote, ok: true })
        sendJson(ctx.res, 200, sessionBody(accounts, signingInOn(ctx), session.user, session.csrf), { 'set-cookie': `${COOKIE}=${id}; ${cookieAttributes(ctx, Math.floor(deps.sessions.maxAgeMs / 1000))}` })
      },
    },
    {
      method: 'POST',
      pattern: /^\/logout$/,
      async handle(ctx) {
        await deps.sessions.destroy(ctx.sessionId)
        for (const account of accounts) account.deps.live.endSession(ctx.sessionId)
        await on(ctx).audit.record({ operator: ctx.session.user, action: 'sign-out', remote: remoteOf(ctx.req), ok: true })
        sendJson(ctx.res, 200, { ok: true }, { 'set-cookie': `${COOKIE}=; ${cookieAttributes(ctx, 0)}` })
      },
    },
    {
      method: 'GET',
      pattern: /^\/session$/,
      handle(ctx) {
        sendJson(ctx.res, 200, sessionBody(accounts, on(ctx), ctx.session.user, ctx.session.csrf))
      },
    },
  ]
}

/**
 * What the page needs to start: who is signed in, the CSRF token, the accounts (the switcher,
 * shown with two or more) and what the account on screen can do.
 */
function sessionBody(accounts: readonly ConsoleAccount[], deps: ConsoleDeps, user: string, csrf: string) {
  return {
    user,
    csrf,
    account: { name: deps.account, appId: deps.config.appId ?? null, dev: deps.config.dev },
    accounts: accounts.map((a) => ({ name: a.name, path: a.path })),
    features: { api: deps.api() !== undefined, rules: deps.rules() !== undefined, pending: true },
    rulesOrder: deps.config.rules,
    replyTimeoutMs: deps.config.replyTimeoutMs,
  }
}
