/**
 * Koa adapter: a middleware that answers the webhook path and passes every other request on.
 * It translates the request to InboundRequest and the OutboundResponse back; all policy lives in
 * `bot.handle`. Structural types only, so wxmp needs neither koa nor @types/koa.
 *
 * @example
 * import Koa from 'koa'
 * import { wechatKoa } from 'wxmp/koa'
 * const app = new Koa()
 * app.use(wechatKoa(bot, { path: '/wechat' }))
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import { WxmpError } from '../errors.js'
import type { InboundRequest, OutboundResponse } from '../pipeline/request.js'
import { nodeRawBody } from './node-raw-body.js'
import { AccountTable, handlerPerBot } from '../accounts/table.js'

type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget'>>

/** What the adapter reads from and writes to Koa's `ctx`. */
export interface KoaLikeContext {
  method: string
  path: string
  querystring: string
  headers: IncomingHttpHeaders
  /** The client address after Koa's `app.proxy` setting. */
  ip: string
  req: IncomingMessage
  /** `body` and `rawBody` are set by a body parser mounted before wxmp (koa-bodyparser, @koa/bodyparser). */
  request: { body?: unknown; rawBody?: unknown }
  status: number
  body: unknown
  set(fields: Record<string, string>): void
}

export interface WechatKoaOptions {
  /** Answer only this path and call `next()` for the others. Default: answer every request (for a router route). */
  path?: string
}

/**
 * A Koa middleware for the webhook. Mount it before any body parser, or let the parser keep the
 * raw text (koa-bodyparser's `ctx.request.rawBody`); a parser that consumed the XML into an
 * object gets the documented 400 WX_ERR_BODY_NOT_RAW. Bodies above `maxBodyBytes` get 413.
 * Mounted before any body parser, a forged or stale request is answered 401/403 before its body
 * is read (`bot.admit`).
 */
export function wechatKoa(bot: AnyBot | AccountTable, options: WechatKoaOptions = {}): <C extends KoaLikeContext>(ctx: C, next: () => Promise<unknown>) => Promise<unknown> {
  if (bot instanceof AccountTable) {
    // several accounts (`mountAccounts`): each account's path with its bot, the rest to next()
    const table = bot
    const handlerOf = handlerPerBot((one) => wechatKoa(one))
    return async (ctx, next) => {
      const found = table.match(ctx.path)?.bot
      return found === undefined ? next() : handlerOf(found)(ctx, next)
    }
  }
  const { path } = options
  if (path !== undefined && !path.startsWith('/')) throw new WxmpError('WX_ERR_CONFIG', `wechatKoa path must start with '/', got '${path}'`)
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return async (ctx, next) => {
    if (path !== undefined && ctx.path !== path && ctx.path !== path + '/') return next()
    const request: InboundRequest = {
      method: ctx.method,
      query: new URLSearchParams(ctx.querystring),
      headers: ctx.headers,
      ...(ctx.ip ? { remoteAddress: ctx.ip } : {}),
    }
    const refused = bot.admit?.(request)
    if (refused !== undefined) return respond(ctx, refused)
    let release: (() => void) | undefined
    try {
      if (request.method === 'POST') {
        const raw = await nodeRawBody(ctx.req, ctx.request.rawBody ?? ctx.request.body, limit, bot.bodyBudget)
        request.body = raw.body as InboundRequest['body']
        release = raw.release
      }
    } catch (err) {
      return respond(ctx, bot.handleError(err, request))
    }
    try {
      respond(ctx, await bot.handle(request))
    } finally {
      release?.()
    }
  }
}

function respond(ctx: KoaLikeContext, response: OutboundResponse): void {
  ctx.status = response.status
  // headers before the body: Koa keeps a Content-Type that is already set
  ctx.set(response.headers)
  ctx.body = response.body
}
