/**
 * Express adapter (Express 4 and 5, and Connect). It translates the request to InboundRequest
 * and the OutboundResponse back; all policy lives in `bot.handle`. Structural types only, so
 * wxmp needs neither express nor @types/express.
 *
 * @example
 * import express from 'express'
 * import { wechatExpress } from 'wxmp/express'
 * const app = express()
 * app.all('/wechat', wechatExpress(bot)) // GET for the URL check, POST for messages
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import type { InboundRequest } from '../pipeline/request.js'
import { nodeRawBody } from './node-raw-body.js'
import { send } from './node.js'
import { AccountTable, handlerPerBot } from '../accounts/table.js'

type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget'>>

/** What the adapter reads from Express's `req`. */
export interface ExpressLikeRequest extends IncomingMessage {
  /** Set by a body parser mounted before wxmp; a Buffer or string is used as the raw body. */
  body?: unknown
  /** The client address after Express's `trust proxy` setting. */
  ip?: string | undefined
  /** The URL before a router stripped its mount path. */
  originalUrl?: string
}

/**
 * An Express route handler for the webhook. Mount it before any body parser, or give it the raw
 * body (`express.raw()` / `express.text()` on the route); a parser that turned the XML into an
 * object gets the documented 400 WX_ERR_BODY_NOT_RAW. Bodies above `maxBodyBytes` get 413.
 * Mounted before any body parser, a forged or stale request is answered 401/403 before its body
 * is read (`bot.admit`); a parser mounted before wxmp reads every body first, checked or not.
 */
export function wechatExpress(bot: AnyBot | AccountTable): (req: ExpressLikeRequest, res: ServerResponse, next?: (err?: unknown) => void) => Promise<void> {
  if (bot instanceof AccountTable) return accountsExpress(bot)
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return async (req, res) => {
    const remoteAddress = req.ip ?? req.socket.remoteAddress
    const request: InboundRequest = {
      method: req.method ?? 'GET',
      query: new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost').searchParams,
      headers: req.headers,
      ...(remoteAddress ? { remoteAddress } : {}),
    }
    const refused = bot.admit?.(request)
    if (refused !== undefined) return send(res, refused, false)
    let release: (() => void) | undefined
    try {
      if (request.method === 'POST') {
        const raw = await nodeRawBody(req, req.body, limit, bot.bodyBudget)
        request.body = raw.body as InboundRequest['body']
        release = raw.release
      }
    } catch (err) {
      return send(res, bot.handleError(err, request), true)
    }
    try {
      send(res, await bot.handle(request), false)
    } finally {
      release?.()
    }
  }
}

/**
 * Several accounts (`mountAccounts`): `app.use(wechatExpress(accounts))` answers each account's
 * path with its bot and passes every other request on (`next()`), or answers 404 without a next.
 */
function accountsExpress(table: AccountTable): (req: ExpressLikeRequest, res: ServerResponse, next?: (err?: unknown) => void) => Promise<void> {
  const handlerOf = handlerPerBot((bot) => wechatExpress(bot))
  return async (req, res, next) => {
    const bot = table.match(new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost').pathname)?.bot
    if (bot !== undefined) return handlerOf(bot)(req, res)
    if (next !== undefined) return next()
    req.resume()
    send(res, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'WX_ERR_NOT_FOUND\n' }, false)
  }
}
