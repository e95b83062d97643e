/**
 * The middleware engine and its routing sugar (after grammY's composer): a handful of
 * primitives — run a list in order, pass through, branch — and each route method is a few
 * lines over them. Composers nest: `bot.use(router)`.
 */
import { COMPLETED } from './completed.js'
import type { Context } from './context.js'
import { matchFilter, type FilterQuery, type MessageFor } from './filter.js'

export type NextFunction = () => Promise<void>
export type MiddlewareFn<C> = (ctx: C, next: NextFunction) => unknown
export interface MiddlewareObj<C> {
  middleware(): MiddlewareFn<C>
}
export type Middleware<C> = MiddlewareFn<C> | MiddlewareObj<C>

/** The context type after a filter: `ctx.message` narrowed to what the filter admits. */
export type Filtered<C extends Context, Q extends FilterQuery> = C & { message: MessageFor<Q> }

/** Middleware that only hands on to what follows. */
const passOn = <C>(_ctx: C, next: NextFunction) => next()

/** What a chain that finished synchronously returns (the core checks for it; not public API). */
export { COMPLETED }

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * Calls a middleware as an async function would be called (a throw becomes a rejection), but
 * without a promise of its own when it finishes synchronously: a handler that replies at once
 * has replied before `handle` looks, and the deadline timer is never armed.
 */
function run<C>(mw: MiddlewareFn<C>, ctx: C, next: NextFunction): Promise<void> {
  try {
    const result = mw(ctx, next)
    if (result instanceof Promise) return result as Promise<void>
    return isThenable(result) ? (Promise.resolve(result) as Promise<void>) : COMPLETED
  } catch (err) {
    return Promise.reject(err)
  }
}

/** `onTrue(ctx)` or `onFalse(ctx)` by a predicate that answers later (a promise). */
function decideLater(verdict: PromiseLike<boolean>, onTrue: () => unknown, onFalse: () => unknown): Promise<unknown> {
  return Promise.resolve(verdict).then((yes) => (yes ? onTrue() : onFalse()))
}

function flatten<C>(mw: Middleware<C>): MiddlewareFn<C> {
  return typeof mw === 'function' ? mw : (ctx, next) => mw.middleware()(ctx, next)
}

/**
 * Runs `list` from `index`: each middleware's `next` runs the rest, the last one's runs the
 * outer `next`. Only the middleware actually reached cost anything, however long the list.
 */
function runFrom<C>(list: readonly MiddlewareFn<C>[], index: number, ctx: C, next: NextFunction): Promise<void> {
  if (index >= list.length) {
    try {
      return next()
    } catch (err) {
      return Promise.reject(err)
    }
  }
  let called = false
  return run(list[index]!, ctx, () => {
    if (called) return Promise.reject(new Error('next() called more than once in one middleware'))
    called = true
    return runFrom(list, index + 1, ctx, next)
  })
}

export type Trigger = string | RegExp
function matchTrigger(triggers: Trigger | Trigger[], text: string): RegExpMatchArray | string | undefined {
  for (const t of Array.isArray(triggers) ? triggers : [triggers]) {
    if (typeof t === 'string') {
      if (text.trim() === t) return t
    } else {
      t.lastIndex = 0
      const m = text.match(t)
      if (m !== null) return m
    }
  }
  return undefined
}

export class Composer<C extends Context = Context> implements MiddlewareObj<C> {
  /** Grows with every use(); the handler reads it at each run, so routes added later count. */
  private readonly list: MiddlewareFn<C>[]
  private readonly handler: MiddlewareFn<C>

  constructor(...middleware: Middleware<C>[]) {
    const list = (this.list = middleware.map(flatten))
    this.handler = (ctx, next) => runFrom(list, 0, ctx, next)
  }

  middleware(): MiddlewareFn<C> {
    return this.handler
  }

  /** Runs middleware for every message; returns a child composer for chaining inside it. */
  use(...middleware: Middleware<C>[]): Composer<C> {
    const child = new Composer<C>(...middleware)
    this.list.push(flatten(child))
    return child
  }

  /** Runs middleware when `predicate` holds; others fall through to what follows. */
  filter<D extends C>(predicate: (ctx: C) => ctx is D, ...middleware: Middleware<D>[]): Composer<D>
  filter(predicate: (ctx: C) => boolean | Promise<boolean>, ...middleware: Middleware<C>[]): Composer<C>
  filter(predicate: (ctx: C) => boolean | Promise<boolean>, ...middleware: Middleware<C>[]): Composer<C> {
    const child = new Composer<C>(...middleware)
    this.branch(predicate, child, passOn)
    return child
  }

  /**
   * Handles a message type or event, with `ctx.message` typed accordingly.
   * @example bot.on('event:CLICK', ctx => ctx.reply(ctx.message.EventKey))
   */
  on<Q extends FilterQuery>(query: Q | Q[], ...middleware: Middleware<Filtered<C, Q>>[]): Composer<Filtered<C, Q>> {
    const matches = matchFilter(query)
    return this.filter((ctx): ctx is Filtered<C, Q> => matches(ctx.message), ...middleware)
  }

  /**
   * Handles text messages equal to a string (surrounding spaces ignored) or matching a RegExp;
   * `ctx.match` holds the match.
   * @example bot.hears(/^help$/i, ctx => ctx.reply('…'))
   */
  hears(trigger: Trigger | Trigger[], ...middleware: Middleware<Filtered<C, 'text'>>[]): Composer<Filtered<C, 'text'>> {
    return this.on('text').filter((ctx) => {
      ctx.match = matchTrigger(trigger, ctx.message.Content)
      return ctx.match !== undefined
    }, ...middleware)
  }

  /** Handles a menu CLICK with this key (or keys, or a RegExp over the key). */
  click(key: Trigger | Trigger[], ...middleware: Middleware<Filtered<C, 'event:CLICK'>>[]): Composer<Filtered<C, 'event:CLICK'>> {
    return this.on('event:CLICK').filter((ctx) => {
      ctx.match = matchTrigger(key, ctx.message.EventKey)
      return ctx.match !== undefined
    }, ...middleware)
  }

  /**
   * Handles any event by name, including events not in the table (card, device…), matched
   * case-insensitively.
   */
  event(name: string | string[], ...middleware: Middleware<C>[]): Composer<C> {
    const names = new Set((Array.isArray(name) ? name : [name]).map((n) => n.toLowerCase()))
    return this.filter((ctx) => ctx.event !== undefined && names.has(ctx.event.toLowerCase()), ...middleware)
  }

  /**
   * Handles a parametric QR code: `subscribe` through a QR code (EventKey `qrscene_<scene>`) and
   * `SCAN` by a follower, alike. `ctx.scene` is the scene; an optional trigger filters it.
   */
  scan(scene: Trigger | Trigger[] | undefined, ...middleware: Middleware<C>[]): Composer<C> {
    return this.filter((ctx) => {
      const value = ctx.scene
      if (value === undefined) return false
      if (scene === undefined) return true
      ctx.match = matchTrigger(scene, value)
      return ctx.match !== undefined
    }, ...middleware)
  }

  /** Runs `onTrue` or `onFalse`. */
  branch(predicate: (ctx: C) => boolean | Promise<boolean>, onTrue: Middleware<C>, onFalse: Middleware<C>): Composer<C> {
    const yes = flatten(onTrue)
    const no = flatten(onFalse)
    return this.use((ctx, next) => {
      const verdict = predicate(ctx)
      if (!isThenable(verdict)) return verdict ? yes(ctx, next) : no(ctx, next)
      return decideLater(verdict, () => yes(ctx, next), () => no(ctx, next))
    })
  }

  /**
   * Catches errors thrown by the middleware inside it; `next` after the boundary still runs
   * when the handler calls it.
   */
  errorBoundary(handler: (err: unknown, ctx: C) => unknown, ...middleware: Middleware<C>[]): Composer<C> {
    const child = new Composer<C>(...middleware)
    const inner = flatten(child)
    this.use(async (ctx, next) => {
      let nextCalled = false
      try {
        await inner(ctx, async () => {
          nextCalled = true
          await next()
        })
      } catch (err) {
        if (nextCalled) throw err
        await handler(err, ctx)
      }
    })
    return child
  }
}
