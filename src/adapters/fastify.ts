/**
 * Fastify adapter: a plugin that registers the webhook route in its own encapsulated context,
 * where every content type (and none) arrives as a raw Buffer, so the app's other routes keep
 * their JSON parsing. It translates the request to InboundRequest and the OutboundResponse back;
 * all policy lives in `bot.handle`. Type-only import: wxmp has no runtime dependency on fastify.
 *
 * @example
 * import Fastify from 'fastify'
 * import { wechatFastify } from 'wxmp/fastify'
 * const app = Fastify()
 * await app.register(wechatFastify(bot, { path: '/wechat' }))
 */
import { Transform, pipeline } from 'node:stream'
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import { WxmpError, isWxmpError } from '../errors.js'
import { overloaded, type BodyBudget } from '../pipeline/body-budget.js'
import type { InboundRequest, OutboundResponse } from '../pipeline/request.js'
import { AccountTable, botAtPath } from '../accounts/table.js'

type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget'>>

export interface WechatFastifyOptions {
  /** Route path, under the `prefix` the plugin is registered with. Default /wechat. */
  path?: string
}

/**
 * A Fastify plugin serving the webhook at `path` for every method (the core answers GET, POST
 * and HEAD, and 405 for the rest). The route's `bodyLimit` is the bot's `maxBodyBytes`; an
 * oversized or unreadable body gets the core's status and log line, not Fastify's error page.
 * The checks that need only the request line (`bot.admit`) run in an `onRequest` hook, so a
 * forged or stale request is answered before Fastify reads its body; a `preParsing` hook
 * reserves the body's bytes from the bot's body budget as they arrive (503 past it).
 */
export function wechatFastify(bot: AnyBot | AccountTable, options: WechatFastifyOptions = {}): FastifyPluginCallback {
  if (bot instanceof AccountTable) {
    // several accounts (`mountAccounts`): one route per account path, registered now; the bot
    // behind a path is looked up per request, so a reload that replaces an account is followed
    const table = bot
    return (instance, _options, done) => {
      for (const account of table.accounts) void instance.register(wechatFastify(botAtPath(table, account.path), { path: account.path }))
      done()
    }
  }
  const path = options.path ?? '/wechat'
  if (!path.startsWith('/')) throw new WxmpError('WX_ERR_CONFIG', `wechatFastify path must start with '/', got '${path}'`)
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return (instance, _options, done) => {
    // one InboundRequest per request, so `handle` finds the query `admit` passed
    const requests = new WeakMap<FastifyRequest, InboundRequest>()
    const inboundOf = (request: FastifyRequest): InboundRequest => {
      let made = requests.get(request)
      if (made === undefined) requests.set(request, (made = inbound(request)))
      return made
    }
    const reserved = new WeakMap<FastifyRequest, number>()
    const release = (request: FastifyRequest) => {
      bot.bodyBudget?.release(reserved.get(request) ?? 0)
      reserved.delete(request)
    }
    // Only inside this plugin's context: the raw bytes whatever the Content-Type says.
    instance.removeAllContentTypeParsers()
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, next) => next(null, body))
    instance.setErrorHandler((err, request, reply) => respond(reply, bot.handleError(bodyError(err, limit), inboundOf(request))))
    instance.addHook('onRequest', async (request, reply) => {
      const refused = bot.admit?.(inboundOf(request))
      if (refused !== undefined) return respond(reply, refused)
    })
    instance.addHook('preParsing', async (request, _reply, payload) => {
      const budget = bot.bodyBudget
      if (budget === undefined) return payload
      const declared = Number(request.headers['content-length'])
      if (Number.isFinite(declared) && declared <= limit && !budget.fits(declared)) throw overloaded(budget.limit)
      const counted = reserving(budget, (bytes) => reserved.set(request, (reserved.get(request) ?? 0) + bytes))
      // pipeline, not pipe: an upload that breaks off fails the stream Fastify reads, not just its source
      pipeline(payload, counted, () => undefined)
      return counted
    })
    instance.addHook('onResponse', async (request) => release(request))
    instance.addHook('onRequestAbort', async (request) => release(request))
    instance.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: path,
      bodyLimit: limit,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const made = inboundOf(request)
        if (request.body !== undefined && request.body !== null) made.body = request.body as InboundRequest['body']
        return respond(reply, await bot.handle(made))
      },
    })
    done()
  }
}

/** Passes the body through, reserving each chunk's bytes from the budget (an error past it). */
function reserving(budget: BodyBudget, onReserved: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, next) {
      try {
        budget.reserve(chunk.length)
      } catch (err) {
        return next(err as Error)
      }
      onReserved(chunk.length)
      next(null, chunk)
    },
  })
}

function inbound(request: FastifyRequest): InboundRequest {
  return {
    method: request.method,
    query: new URL(request.url, 'http://localhost').searchParams,
    headers: request.headers,
    ...(request.ip ? { remoteAddress: request.ip } : {}),
  }
}

function respond(reply: FastifyReply, response: OutboundResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body)
}

/** Fastify's body errors in the core's terms, worded like the node adapter's. */
function bodyError(err: unknown, limit: number): unknown {
  if (isWxmpError(err)) return err // ours (the body budget), even after Fastify stamped a statusCode on it
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode
  if (typeof status !== 'number' || status < 400 || status >= 500) return err
  if (status === 413) return new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds the ${limit}-byte limit`, { cause: err })
  return new WxmpError('WX_ERR_BODY_EMPTY', `request body could not be read: ${(err as Error).message}`, { cause: err })
}
