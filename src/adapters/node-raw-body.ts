import type { IncomingMessage } from 'node:http'
import { WxmpError } from '../errors.js'
import type { BodyBudget } from '../pipeline/body-budget.js'
import { readBody } from './read-body.js'

/** The raw body and how to give back what reading it reserved from the body budget. */
export interface RawBody {
  body: unknown
  /** Call once the request is answered (a no-op when nothing was reserved). */
  release(): void
}

const NOTHING_RESERVED = () => undefined

/**
 * The raw body of a node request (node:http, Express, Koa), whether or not a body parser ran
 * before wxmp. `parsed` is what the parser left (`req.body`, koa's `ctx.request.rawBody`):
 * - a Buffer or string is the raw body already read: use it;
 * - anything else while the stream is still unread (Express 4 json/urlencoded leave `{}` for
 *   text/xml without reading it): read the stream, bounded by `limit` and `budget`;
 * - an object after the stream was read: the XML is gone, so hand the object on and let the
 *   core answer 400 WX_ERR_BODY_NOT_RAW with the hint to mount wxmp first.
 */
export async function nodeRawBody(req: IncomingMessage, parsed: unknown, limit: number, budget?: BodyBudget): Promise<RawBody> {
  if (typeof parsed === 'string' || parsed instanceof Uint8Array) return { body: parsed, release: NOTHING_RESERVED }
  if (!req.readableDidRead && !req.readableEnded) {
    // a client that hung up while earlier middleware was awaiting would leave readBody waiting forever
    if (req.destroyed) throw new WxmpError('WX_ERR_BODY_EMPTY', 'request body could not be read: the client closed the connection first')
    const body = await readBody(req, limit, budget)
    return { body, release: budget === undefined ? NOTHING_RESERVED : () => budget.release(body.length) }
  }
  if (parsed !== undefined && parsed !== null) return { body: parsed, release: NOTHING_RESERVED }
  throw new WxmpError('WX_ERR_BODY_NOT_RAW', 'the request stream was already read by another middleware that kept no body: mount wxmp before it')
}
