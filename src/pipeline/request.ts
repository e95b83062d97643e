/**
 * What adapters hand to the core and get back. Adapters translate to and from these and do
 * nothing else; every policy (signatures, deadline, encryption, status codes) is in the core.
 */
export interface InboundRequest {
  method: string
  /** Query parameters; a repeated parameter counts by its first value. */
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

export function normaliseQuery(query: InboundRequest['query']): Query {
  const out: Query = Object.create(null) as Query
  if (query instanceof URLSearchParams) {
    // forEach: no [key, value] array per parameter
    query.forEach((value, key) => {
      if (!(key in out)) out[key] = value
    })
    return out
  }
  for (const [key, value] of Object.entries(query)) {
    const first = Array.isArray(value) ? value[0] : value
    if (typeof first === 'string') out[key] = first
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
