/** Shapes shared by the fake WeChat server and its handlers. */

/** One request as the handlers see it. */
export interface FakeRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** The access_token the call carried (already checked for routes that need one). */
  accessToken: string | undefined
}

export type FakeResponse =
  | { json: unknown; status?: number }
  /** JSON text written as is (64-bit numbers that JS cannot hold). */
  | { rawJson: string; status?: number }
  | { binary: Buffer; contentType: string; headers?: Record<string, string> }
  | { text: string; status: number; contentType?: string }
  /** HTTP 302 to this URL (the OAuth authorize page sending the user back). */
  | { redirect: string }

/**
 * A fault to inject: the next matching call(s) answer with an errcode, wait, fail with an HTTP
 * status, or answer a canned JSON body (WeChat misbehaving: a cursor that does not move, a
 * field missing).
 */
export type FakeFault =
  | { errcode: number; errmsg?: string; times?: number; path?: string }
  | { latencyMs: number; times?: number; path?: string }
  | { status: number; times?: number; path?: string }
  | { json: Record<string, unknown>; times?: number; path?: string }

/** One line of the call log. */
export interface FakeCall {
  seq: number
  /** Fake clock, ms. */
  at: number
  method: string
  path: string
  /** Query parameters; `secret` is replaced by `[redacted]`. */
  query: Record<string, string>
  /** The access_token carried, if any. */
  accessToken: string | undefined
  /** Parsed JSON body (a `secret` field redacted), a multipart summary, or the raw text when it is not JSON. */
  body: unknown
  status: number
  /** errcode answered (0 for success, undefined for binary answers and HTTP errors). */
  errcode: number | undefined
  /** The answer came from an injected fault. */
  injected: boolean
}

/** What the fake recorded as delivered to users. */
export interface FakeSent {
  kind: 'customer-service' | 'typing' | 'template' | 'mass' | 'mass-preview' | 'subscribe'
  /** The OpenID; for a mass send `@all`, `@tag:<id>` or the OpenIDs joined with commas. */
  touser: string
  /** msgtype for customer-service and mass messages, command for typing, template_id for templates and notices. */
  msgtype: string
  body: Record<string, unknown>
  at: number
  /** Template msgid (a string: it exceeds 2^53); a mass send's msg_id. */
  msgid?: string
}

export interface FakeIssuedToken {
  token: string
  appId: string
  mode: 'classic' | 'stable'
  /** Fake clock, ms. */
  at: number
  expiresAt: number
}

export type Errcode = (code: number, errmsg?: string) => FakeResponse
