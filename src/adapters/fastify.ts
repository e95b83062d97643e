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
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import { WxmpError } from '../errors.js'
import type { InboundRequest, OutboundResponse } from '../pipeline/request.js'

type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'>

export interface WechatFastifyOptions {
  /** Route path, under the `prefix` the plugin is registered with. Default /wechat. */
  path?: string
}

/**
 * A Fastify plugin serving the webhook at `path` for every method (the core answers GET, POST
 * and HEAD, and 405 for the rest). The route's `bodyLimit` is the bot's `maxBodyBytes`; an
 * oversized or unreadable body gets the core's status and log line, not Fastify's error page.
 */
export function wechatFastify(bot: AnyBot, options: WechatFastifyOptions = {}): FastifyPluginCallback {
  const path = options.path ?? '/wechat'
  if (!path.startsWith('/')) throw new WxmpError('WX_ERR_CONFIG', `wechatFastify path must start with '/', got '${path}'`)
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return (instance, _options, done) => {
    // Only inside this plugin's context: the raw bytes whatever the Content-Type says.
    instance.removeAllContentTypeParsers()
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_request, body, next) => next(null, body))
    instance.setErrorHandler((err, request, reply) => respond(reply, bot.handleError(bodyError(err, limit), inbound(request))))
    instance.route({
      method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: path,
      bodyLimit: limit,
      exposeHeadRoute: false,
      handler: async (request, reply) => respond(reply, await bot.handle({ ...inbound(request), body: request.body as InboundRequest['body'] })),
    })
    done()
  }
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
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode
  if (typeof status !== 'number' || status < 400 || status >= 500) return err
  if (status === 413) return new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds the ${limit}-byte limit`, { cause: err })
  return new WxmpError('WX_ERR_BODY_EMPTY', `request body could not be read: ${(err as Error).message}`, { cause: err })
}
