/**
 * Per-user sessions: `ctx.session`, loaded before the handlers and saved after them, keyed by
 * account + OpenID in the bot's shared store (SQLite by default, Redis for several instances),
 * with a TTL. A handler that throws leaves the stored session untouched.
 *
 * @example
 * type Ctx = Context & SessionFlavor<{ step: number }>
 * const bot = new Bot<Ctx>({ token })
 * bot.use(session({ initial: () => ({ step: 0 }) }))
 * bot.on('text', ctx => { ctx.session.step++ })
 */
import type { Context } from './context.js'
import type { MiddlewareFn } from './composer.js'
import type { KeyValueStore } from './storage/types.js'

export interface SessionFlavor<S> {
  session: S
}

export interface SessionOptions<S> {
  /** The value of a new session. */
  initial: () => S
  /** Where sessions live; default: the bot's shared store. */
  store?: KeyValueStore
  /** Idle time after which a session is forgotten. Default 30 days. */
  ttlMs?: number
  /** Name in keys, to keep several independent sessions. Default 'session'. */
  name?: string
}

export function session<S, C extends Context & SessionFlavor<S>>(options: SessionOptions<S>): MiddlewareFn<C> {
  if (typeof options.initial !== 'function') throw new TypeError('session({ initial }) needs a function that returns a new session value')
  const ttlMs = options.ttlMs ?? 30 * 24 * 3600_000
  const name = options.name ?? 'session'
  return async (ctx, next) => {
    const store = options.store ?? ctx.sharedStore
    const key = ctx.storeKey(name)
    const stored = await store.get<S>(key)
    const before = stored === undefined ? undefined : JSON.stringify(stored)
    ctx.session = stored ?? options.initial()
    await next() // a throw skips the save below
    const after = JSON.stringify(ctx.session)
    if (after === undefined || ctx.session === null) await store.delete(key)
    else if (after !== before) await store.set(key, ctx.session, ttlMs)
  }
}
