/** The dashboard (last hour per minute, health of the stores and the API token) and the audit log. */
import type { ConsoleDeps } from '../deps.js'
import { lastHour } from '../dashboard-queries.js'
import { badInput, sendJson } from '../http.js'
import type { Route } from '../router.js'
import { scrub } from '../api-errors.js'
import { ResilientStore } from '../../storage/resilient.js'

const CHECK_TIMEOUT_MS = 3000

export function dashboardRoutes(deps: ConsoleDeps): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/dashboard$/,
      async handle(ctx) {
        const [minutes, health] = await Promise.all([lastHour(deps.records.db, deps.appId, deps.now(), deps.config.replyTimeoutMs), healthOf(deps)])
        sendJson(ctx.res, 200, { minutes, health, replyTimeoutMs: deps.config.replyTimeoutMs })
      },
    },
    {
      method: 'GET',
      pattern: /^\/audit$/,
      async handle(ctx) {
        const before = ctx.url.searchParams.get('before')
        if (before !== null && !/^\d{1,15}$/.test(before)) throw badInput('before must be a whole number')
        sendJson(ctx.res, 200, { entries: await deps.audit.list({ limit: 100, ...(before === null ? {} : { beforeId: Number(before) }) }) })
      },
    },
  ]
}

interface Check {
  ok: boolean
  ms?: number
  /** Why it failed (scrubbed of anything token-like). */
  detail?: string
  kind?: string
  expiresInMin?: number
}

async function timed(check: () => Promise<Partial<Check>>): Promise<Check> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    const facts = await Promise.race([
      check(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ])
    return { ...facts, ok: true, ms: Math.round(performance.now() - started) }
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - started), detail: scrub(err instanceof Error ? err.message : String(err)).slice(0, 300) }
  } finally {
    clearTimeout(timer)
  }
}

/** Health of what the webhook depends on; the token is described (age, expiry), never shown. */
async function healthOf(deps: ConsoleDeps) {
  const shared = deps.stores.shared
  const api = deps.api()
  const [database, redis, token] = await Promise.all([
    timed(async () => {
      await deps.records.messages.recent({ limit: 1 })
      return { kind: deps.records.kind }
    }),
    deps.config.redisUrl === undefined
      ? Promise.resolve(null)
      : timed(async () => {
          await shared.ping()
          if (shared instanceof ResilientStore && shared.degraded) throw new Error('unreachable: running on the in-process fallback')
          return { kind: 'redis' }
        }),
    api === undefined
      ? Promise.resolve(null)
      : timed(async () => {
          let record = await api.token.peek()
          if (record === undefined || record.expiresAt <= deps.now()) {
            await api.token.get()
            record = await api.token.peek()
          }
          return record === undefined ? {} : { expiresInMin: Math.max(0, Math.round((record.expiresAt - deps.now()) / 60_000)) }
        }),
  ])
  return { database, redis, token, sharedStore: shared.kind }
}
