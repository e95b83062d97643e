/**
 * Every error wxmp raises carries a stable `WX_ERR_*` code, an HTTP status (for the webhook
 * path) and a message that names the likely mistake. One row per code; docs/errors.md
 * documents each row under an anchor of the same name.
 */
export const ERROR_TABLE = {
  // configuration (startup)
  WX_ERR_CONFIG: { status: 500, title: 'invalid configuration' },
  WX_ERR_AES_KEY_INVALID: { status: 500, title: 'EncodingAESKey is invalid' },
  // HTTP shape
  WX_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'method not allowed' },
  WX_ERR_NOT_FOUND: { status: 404, title: 'no webhook at this path' },
  WX_ERR_BODY_TOO_LARGE: { status: 413, title: 'request body too large' },
  WX_ERR_BODY_EMPTY: { status: 400, title: 'request body is empty' },
  WX_ERR_BODY_NOT_RAW: { status: 400, title: 'request body was already parsed' },
  WX_ERR_RATE_LIMITED: { status: 429, title: 'too many requests from this address' },
  WX_ERR_REQUEST_TIMEOUT: { status: 408, title: 'headers or body arrived too slowly' },
  WX_ERR_HEADERS_TOO_LARGE: { status: 431, title: 'request headers too large' },
  WX_ERR_BAD_REQUEST: { status: 400, title: 'not a well-formed HTTP request' },
  WX_ERR_OVERLOADED: { status: 503, title: 'too many request bodies in flight: retry later' },
  // verification
  WX_ERR_SIGNATURE_MISSING: { status: 401, title: 'signature, timestamp or nonce missing' },
  WX_ERR_SIGNATURE_INVALID: { status: 401, title: 'signature does not match' },
  WX_ERR_TIMESTAMP_INVALID: { status: 400, title: 'timestamp is not a Unix time in seconds' },
  WX_ERR_TIMESTAMP_STALE: { status: 403, title: 'timestamp outside the tolerance window' },
  WX_ERR_REPLAY: { status: 403, title: 'query string replayed with a different body' },
  WX_ERR_ECHOSTR_MISSING: { status: 400, title: 'echostr missing on URL verification' },
  WX_ERR_QUERY_DUPLICATE: { status: 400, title: 'a signed query parameter appears more than once' },
  // encryption
  WX_ERR_ENCRYPTION_REQUIRED: { status: 403, title: 'plaintext request rejected: encryption is required' },
  WX_ERR_NO_AES_KEY: { status: 400, title: 'encrypted request but no EncodingAESKey configured' },
  WX_ERR_MSG_SIGNATURE_MISSING: { status: 401, title: 'msg_signature missing on an encrypted request' },
  WX_ERR_MSG_SIGNATURE_INVALID: { status: 401, title: 'msg_signature does not match the Encrypt text' },
  WX_ERR_ENCRYPT_MISSING: { status: 400, title: 'encrypt_type=aes but the body has no Encrypt element' },
  WX_ERR_ENCRYPT_TYPE_UNKNOWN: { status: 400, title: 'encrypt_type is neither raw nor aes' },
  WX_ERR_DECRYPT_BASE64: { status: 400, title: 'Encrypt is not valid base64' },
  WX_ERR_DECRYPT_FAILED: { status: 400, title: 'the encrypted message could not be opened' },
  WX_ERR_DECRYPT_PADDING: { status: 400, title: 'PKCS#7 padding is corrupt' },
  WX_ERR_DECRYPT_BUFFER: { status: 400, title: 'decrypted buffer is malformed' },
  WX_ERR_APPID_MISMATCH: { status: 403, title: 'AppID inside the ciphertext is not the configured AppID' },
  // XML and message shape
  WX_ERR_XML_MALFORMED: { status: 400, title: 'body is not well-formed XML' },
  WX_ERR_XML_DOCTYPE: { status: 400, title: 'XML with DOCTYPE or entity declarations is refused' },
  WX_ERR_XML_TOO_DEEP: { status: 400, title: 'XML nested too deeply' },
  WX_ERR_MESSAGE_INVALID: { status: 400, title: 'message misses a required field' },
  // replies and handlers (the HTTP answer is still a valid "success")
  WX_ERR_REPLY_INVALID: { status: 200, title: 'reply breaks a documented limit' },
  WX_ERR_REPLY_TWICE: { status: 200, title: 'reply already sent for this message' },
  WX_ERR_HANDLER: { status: 200, title: 'a handler threw' },
  WX_ERR_REPLY_AFTER_RETURN: { status: 200, title: 'a reply came after the handlers had returned (a forgotten await)' },
  // outbound API
  WX_ERR_API: { status: 502, title: 'WeChat API returned an error' },
  WX_ERR_HTTP: { status: 502, title: 'network error talking to WeChat' },
  WX_ERR_TOKEN: { status: 502, title: 'could not obtain an access token' },
  WX_ERR_API_INPUT: { status: 400, title: 'API call rejected before sending: invalid input' },
  WX_ERR_PUBLISH_FAILED: { status: 502, title: 'WeChat did not publish the article' },
  WX_ERR_POST_INVALID: { status: 400, title: 'the Markdown post cannot become a WeChat article' },
  // operator console (its JSON API; never the webhook path)
  WX_ERR_CONSOLE_UNAUTHORIZED: { status: 401, title: 'console: not signed in, or wrong name or password' },
  WX_ERR_CONSOLE_FORBIDDEN: { status: 403, title: 'console: cross-site request or missing CSRF token' },
  WX_ERR_CONSOLE_LOCKED: { status: 429, title: 'console: too many failed sign-ins, locked for a while' },
  // storage
  WX_ERR_STORAGE: { status: 503, title: 'storage backend failed' },
  WX_ERR_INTERNAL: { status: 500, title: 'internal error' },
  // replies without code (rules)
  WX_ERR_RULE_INVALID: { status: 400, title: 'rule refused: a field breaks a rule or a WeChat limit' },
  WX_ERR_RULE: { status: 200, title: 'a rule failed while answering; the code handlers got the message' },
} as const satisfies Record<string, { status: number; title: string }>

export type WxErrorCode = keyof typeof ERROR_TABLE

export class WxmpError extends Error {
  override readonly name: string = 'WxmpError'
  readonly code: WxErrorCode
  readonly status: number
  /** Extra machine-readable facts for logs (never secrets). */
  readonly details: Record<string, unknown> | undefined

  constructor(code: WxErrorCode, message?: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    const row = ERROR_TABLE[code]
    super(message ?? row.title, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = row.status
    this.details = options?.details
  }
}

export function isWxmpError(err: unknown, code?: WxErrorCode): err is WxmpError {
  return err instanceof WxmpError && (code === undefined || err.code === code)
}
