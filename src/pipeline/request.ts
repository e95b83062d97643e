import { WxmpError } from '../errors.js'

/**
 * What adapters hand to the core and get back. Adapters translate to and from these and do
 * nothing else; every policy (signatures, deadline, encryption, status codes) is in the core.
 */
export interface InboundRequest {
  method: string
  /** Query parameters. A signed parameter given twice is refused (WX_ERR_QUERY_DUPLICATE); others count by their first value. */
  query: URLSearchParams | Record<string, string | string[] | undefined>
  headers?: Record<string, string | string[] | undefined>
  /** The raw body bytes (or text). Never a parsed object: mount wxmp before any body parser. */
  body?: Buffer | Uint8Array | string
  /** Client address, for logs and rate limiting. */
  remoteAddress?: string
}

export interface OutboundResponse {
  status: number
  /** Shared between responses (frozen): copy it before adding headers. */
  headers: Readonly<Record<string, string>>
  body: string
}

export type Query = Record<string, string>

/**
 * The parameters that decide how a request is verified and read. Each may appear once: frameworks
 * disagree on which of two values counts (first, last, an array), so a duplicate is refused
 * rather than guessed, and no spelling of one signed request can read as another.
 */
export const SIGNED_PARAMETERS: ReadonlySet<string> = new Set(['signature', 'timestamp', 'nonce', 'msg_signature', 'encrypt_type', 'echostr'])

export function normaliseQuery(query: InboundRequest['query']): Query {
  const out: Query = Object.create(null) as Query
  let duplicate: string | undefined
  if (query instanceof URLSearchParams) {
    // forEach: no [key, value] array per parameter
    query.forEach((value, key) => {
      if (!(key in out)) out[key] = value
      else if (SIGNED_PARAMETERS.has(key)) duplicate = key
    })
  } else {
    for (const [key, value] of Object.entries(query)) {
      if (Array.isArray(value) && value.length > 1 && SIGNED_PARAMETERS.has(key)) duplicate = key
      const first = Array.isArray(value) ? value[0] : value
      if (typeof first === 'string') out[key] = first
    }
  }
  if (duplicate !== undefined) {
    throw new WxmpError('WX_ERR_QUERY_DUPLICATE', `query parameter ${duplicate} appears more than once: WeChat sends each signed parameter once (a rewritten or forged URL?)`, { details: { parameter: duplicate } })
  }
  return out
}

// one frozen header object for every response of a kind: the dedup store keeps each answer
// for minutes, and a copy per answer was a tenth of what it kept
const TEXT: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' })
const XML: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/xml; charset=utf-8' })

export function textResponse(status: number, body: string, extraHeaders?: Record<string, string>): OutboundResponse {
  return { status, headers: extraHeaders === undefined ? TEXT : { ...TEXT, ...extraHeaders }, body }
}

export function xmlResponse(body: string): OutboundResponse {
  return { status: 200, headers: XML, body }
}

/** The acknowledgement WeChat documents: plain `success`, valid in every mode. */
export function successResponse(): OutboundResponse {
  return textResponse(200, 'success')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A POST body as text: raw bytes (or a string) only, within `maxBytes`, valid UTF-8, without a BOM. */
export function bodyText(body: InboundRequest['body'], maxBytes: number): string {
  if (body === undefined || body === null) throw new WxmpError('WX_ERR_BODY_EMPTY', 'POST without a body')
  if (typeof body === 'string') {
    if (Buffer.byteLength(body) > maxBytes) throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`)
    return stripBom(body)
  }
  if (!(body instanceof Uint8Array)) {
    throw new WxmpError('WX_ERR_BODY_NOT_RAW', 'the request body was already parsed by a body parser: mount wxmp before it, or give wxmp the raw body (Buffer or string)')
  }
  if (body.byteLength > maxBytes) throw new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`)
  if (body.byteLength === 0) throw new WxmpError('WX_ERR_BODY_EMPTY', 'POST with an empty body')
  try {
    return stripBom(utf8.decode(body))
  } catch (err) {
    throw new WxmpError('WX_ERR_XML_MALFORMED', 'body is not valid UTF-8', { cause: err })
  }
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/**
 * What comes after an answer, for tools that play WeChat (`wxmp simulate`): the answer follows
 * as a customer-service message, or waits for the user's next message. WeChat ignores it.
 */
export type NextHint = 'customer-service' | 'next-message'
const NEXT: Readonly<Record<string, Readonly<Record<NextHint, Readonly<Record<string, string>>>>>> = Object.freeze({
  xml: Object.freeze({
    'customer-service': Object.freeze({ ...XML, 'x-wxmp-next': 'customer-service' }),
    'next-message': Object.freeze({ ...XML, 'x-wxmp-next': 'next-message' }),
  }),
  text: Object.freeze({
    'customer-service': Object.freeze({ ...TEXT, 'x-wxmp-next': 'customer-service' }),
    'next-message': Object.freeze({ ...TEXT, 'x-wxmp-next': 'next-message' }),
  }),
})

/** The same answer, saying what comes after it. */
export function withNext(response: OutboundResponse, next: NextHint | undefined): OutboundResponse {
  if (next === undefined) return response
  const kind = response.headers['content-type'] === XML['content-type'] ? 'xml' : 'text'
  return { ...response, headers: NEXT[kind]![next] }
}
