/**
 * Fetch adapter: standard `Request` in, `Response` out, for Hono, Bun, Deno, Cloudflare Workers
 * and Next.js route handlers. It translates the request to InboundRequest and the
 * OutboundResponse back; all policy lives in `bot.handle`.
 *
 * @example
 * import { wechatFetch } from 'wxmp/fetch'
 * const handle = wechatFetch(bot)
 * app.all('/wechat', (c) => handle(c.req.raw))   // Hono
 * export { handle as GET, handle as POST }        // Next.js app/wechat/route.ts
 */
import type { Bot } from '../bot.js'
import { DEFAULTS } from '../bot-options.js'
import { WxmpError } from '../errors.js'
import { overloaded, type BodyBudget } from '../pipeline/body-budget.js'
import type { InboundRequest } from '../pipeline/request.js'
import { AccountTable, handlerPerBot } from '../accounts/table.js'

type AnyBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget'>>

export interface WechatFetchOptions {
  /**
   * The client address for logs and rate limiting: a `Request` does not carry it. Receives the
   * request and whatever else the runtime passed to the handler, e.g.
   * Bun `(req, server) => server.requestIP(req)?.address`,
   * Deno `(req, info) => info.remoteAddr.hostname`,
   * Cloudflare `(req) => req.headers.get('cf-connecting-ip')`.
   */
  // `any` so those one-liners type-check without naming each runtime's types
  remoteAddress?(request: Request, ...platformArgs: any[]): string | null | undefined
}

export type FetchHandler = (request: Request, ...platformArgs: unknown[]) => Promise<Response>

/**
 * A fetch handler for the webhook. The body is read up to the bot's `maxBodyBytes` (checked
 * against Content-Length first, then while reading, so a chunked upload is cut off); beyond it,
 * 413. A body another middleware already read is the documented 400 WX_ERR_BODY_NOT_RAW.
 * A forged, stale or replayed query is answered by `bot.admit` before the body is read; while it
 * is read, its bytes are reserved from the bot's body budget (503 past it).
 */
export function wechatFetch(bot: AnyBot | AccountTable, options: WechatFetchOptions = {}): FetchHandler {
  if (bot instanceof AccountTable) {
    // several accounts (`mountAccounts`): the request's path picks the bot; another path is 404
    const table = bot
    const handlerOf = handlerPerBot((one) => wechatFetch(one, options))
    return async (request, ...platformArgs) => {
      const found = table.match(new URL(request.url).pathname)?.bot
      if (found !== undefined) return handlerOf(found)(request, ...platformArgs)
      return new Response('WX_ERR_NOT_FOUND\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } })
    }
  }
  const limit = bot.options.maxBodyBytes ?? DEFAULTS.maxBodyBytes
  return async (request, ...platformArgs) => {
    const remoteAddress = options.remoteAddress?.(request, ...platformArgs)
    const inbound: InboundRequest = {
      method: request.method,
      query: new URL(request.url).searchParams,
      headers: Object.fromEntries(request.headers),
      ...(remoteAddress ? { remoteAddress } : {}),
    }
    const refused = bot.admit?.(inbound)
    if (refused !== undefined) return toResponse(refused)
    let reserved = 0
    try {
      if (request.method === 'POST') {
        const body = await readBounded(request, limit, bot.bodyBudget)
        if (body !== undefined) {
          inbound.body = body
          if (bot.bodyBudget !== undefined) reserved = body.length
        }
      }
    } catch (err) {
      return toResponse(bot.handleError(err, inbound))
    }
    try {
      return toResponse(await bot.handle(inbound))
    } finally {
      bot.bodyBudget?.release(reserved)
    }
  }
}

function toResponse(response: { status: number; headers: Record<string, string>; body: string }): Response {
  return new Response(response.body, { status: response.status, headers: response.headers })
}

/** The body, bounded by `limit`; with a budget, its bytes stay reserved (the caller releases them) unless reading fails. */
async function readBounded(request: Request, limit: number, budget: BodyBudget | undefined): Promise<Buffer | undefined> {
  const declared = Number(request.headers.get('content-length') ?? 0)
  if (declared > limit) throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the ${limit}-byte limit`)
  if (budget !== undefined && Number.isFinite(declared) && !budget.fits(declared)) throw overloaded(budget.limit)
  if (request.bodyUsed) throw new WxmpError('WX_ERR_BODY_NOT_RAW', 'the request body was already read by another middleware: mount wxmp before it, or pass it the untouched Request')
  if (request.body === null) return undefined
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (size + value.byteLength > limit) {
        void reader.cancel().catch(() => undefined)
        throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds the ${limit}-byte limit`)
      }
      try {
        budget?.reserve(value.byteLength)
      } catch (err) {
        void reader.cancel().catch(() => undefined)
        throw err
      }
      size += value.byteLength
      chunks.push(value)
    }
  } catch (err) {
    budget?.release(size)
    if (err instanceof WxmpError) throw err
    throw new WxmpError('WX_ERR_BODY_EMPTY', `request body could not be read: ${(err as Error).message}`, { cause: err })
  }
  return Buffer.concat(chunks, size)
}
