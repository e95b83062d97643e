/**
 * The layer every API group talks to: the transport plus the access-token rule (every call
 * carries the cached token; a 40001/40014/42001 drops that token only if it is still the
 * current one, refreshes once and sends the call once more). Groups depend on this module
 * alone, and the client (client.ts) only composes caller and groups, so there is no import
 * circle between the client and its groups.
 */
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { KeyValueStore } from '../storage/types.js'
import { TOKEN_INVALID_ERRCODES, WechatApiError } from './errors.js'
import type { TokenManager } from './token-manager.js'
import { Transport, type BinaryResult, type Query, type RequestSpec } from './transport.js'

/** A file part of a multipart form: bytes, the file name WeChat sees, and its type. */
export interface FormFile {
  data: Buffer | Uint8Array | Blob
  filename: string
  /** Default: from the file name's extension, else application/octet-stream. */
  contentType?: string
}

/** Multipart fields: text, a Blob/File, or a FormFile. */
export type FormFields = Record<string, string | Blob | FormFile>

export interface CallOptions {
  /** Default: POST when there is a body or a form, else GET. */
  method?: 'GET' | 'POST'
  query?: Query
  /** Retry network errors (default: true for GET). */
  idempotent?: boolean
  /**
   * Sends multipart/form-data instead of JSON (uploads: field `media`, and for video
   * material a `description` text field). Rebuilt for every attempt.
   */
  form?: FormFields
}

export interface RawCallOptions extends CallOptions {
  /** A JSON value to send (serialised with JSON.stringify). */
  json?: unknown
  /** A body sent exactly as given: JSON text you serialised yourself (64-bit numbers), or bytes. */
  body?: string | Uint8Array
  /** Content-Type of `body`. Default application/json; charset=utf-8. */
  contentType?: string
}

/** What `api.raw` answers: WeChat's JSON (errcode already checked), or the Response of a file. */
export type RawResult = { kind: 'json'; body: Record<string, unknown> } | { kind: 'binary'; response: Response; contentType: string; buffer(): Promise<Buffer> }

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  bmp: 'image/bmp',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  wma: 'audio/x-ms-wma',
  wav: 'audio/wav',
  mp4: 'video/mp4',
}

/** The Content-Type for a file name (`cat.png` → image/png). */
export function contentTypeFor(filename: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? ''
  return CONTENT_TYPES[ext] ?? 'application/octet-stream'
}

function isFormFile(value: unknown): value is FormFile {
  return value !== null && typeof value === 'object' && !(value instanceof Blob) && 'data' in value && 'filename' in value
}

/** Turns FormFields into a builder of fresh FormData (a body can be sent once; a retry needs a new one). */
export function formBuilder(fields: FormFields): () => FormData {
  const parts: Array<[string, string | Blob, string | undefined]> = []
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') parts.push([name, value, undefined])
    else if (value instanceof Blob) parts.push([name, value, value instanceof File ? value.name : undefined])
    else if (isFormFile(value)) {
      if (typeof value.filename !== 'string' || value.filename === '' || /[\r\n"]/.test(value.filename)) {
        throw new WxmpError('WX_ERR_API_INPUT', `form field ${name}: filename must be a non-empty name without quotes or line breaks`)
      }
      const data = value.data
      if (!(data instanceof Blob) && !(data instanceof Uint8Array)) throw new WxmpError('WX_ERR_API_INPUT', `form field ${name}: data must be a Buffer, Uint8Array or Blob`)
      parts.push([name, new Blob([data], { type: value.contentType ?? contentTypeFor(value.filename) }), value.filename])
    } else {
      throw new WxmpError('WX_ERR_API_INPUT', `form field ${name}: give a string, a Blob or { data, filename }`)
    }
  }
  return () => {
    const form = new FormData()
    for (const [name, value, filename] of parts) {
      if (typeof value === 'string') form.append(name, value)
      else form.append(name, value, filename)
    }
    return form
  }
}

export interface ApiCallerOptions {
  appId: string
  appSecret: string | undefined
  store: KeyValueStore
  now: () => number
  transport: Transport
  token: TokenManager
  mpBaseUrl: string
  openBaseUrl: string
  logger: Logger | undefined
}

/**
 * What an API group needs: account facts and the three ways to send (`withToken` for any
 * spec, `binary` for answers that may be files, `unauthenticated` for OAuth and token
 * endpoints), plus `call` for plain JSON.
 */
export class ApiCaller {
  readonly appId: string
  readonly appSecret: string | undefined
  readonly store: KeyValueStore
  readonly now: () => number
  readonly transport: Transport
  readonly token: TokenManager
  readonly mpBaseUrl: string
  readonly openBaseUrl: string
  private readonly logger: Logger | undefined

  constructor(options: ApiCallerOptions) {
    this.appId = options.appId
    this.appSecret = options.appSecret
    this.store = options.store
    this.now = options.now
    this.transport = options.transport
    this.token = options.token
    this.mpBaseUrl = options.mpBaseUrl
    this.openBaseUrl = options.openBaseUrl
    this.logger = options.logger
  }

  /** JSON (or a multipart form) with the token; WeChat's JSON back, 64-bit ids as strings. */
  async call<T = Record<string, unknown>>(path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const spec = this.spec(path, body, options)
    return this.withToken(spec, (s) => this.transport.json<T>(s))
  }

  /**
   * The escape hatch: a body exactly as given (raw JSON text or bytes) or a form, and the
   * answer as JSON or as the Response of a file. Token rules and errcode checks still apply.
   */
  async raw(path: string, options: RawCallOptions = {}): Promise<RawResult> {
    const given = [options.json !== undefined, options.body !== undefined, options.form !== undefined].filter(Boolean).length
    if (given > 1) throw new WxmpError('WX_ERR_API_INPUT', `${path}: give one of json, body or form`)
    const spec = this.spec(path, options.json, options)
    if (options.body !== undefined) {
      const raw = options.body
      if (typeof raw !== 'string' && !(raw instanceof Uint8Array)) throw new WxmpError('WX_ERR_API_INPUT', `${path}: body must be a string or bytes`)
      spec.method = options.method ?? 'POST'
      spec.raw = { body: raw, contentType: options.contentType ?? 'application/json; charset=utf-8' }
    }
    const result = await this.binary(spec)
    if (result.kind === 'json') return result
    const response = result.response
    return {
      kind: 'binary',
      response,
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      buffer: async () => Buffer.from(await response.arrayBuffer()),
    }
  }

  /** A JSON call without the access_token (token fetch, OAuth). */
  async unauthenticated<T>(spec: RequestSpec): Promise<T> {
    return this.transport.json<T>(spec)
  }

  /** A call whose answer may be a file. */
  async binary(spec: RequestSpec): Promise<BinaryResult> {
    return this.withToken(spec, (s) => this.transport.binary(s))
  }

  /** Runs `send` with the current token; on a token errcode, once more with a fresh one. */
  async withToken<T>(spec: RequestSpec, send: (spec: RequestSpec) => Promise<T>): Promise<T> {
    if (spec.query?.access_token !== undefined) throw new WxmpError('WX_ERR_API_INPUT', `${spec.path}: do not pass access_token yourself; the client adds it`)
    const record = await this.token.record()
    try {
      return await send({ ...spec, query: { ...spec.query, access_token: record.value } })
    } catch (err) {
      if (!(err instanceof WechatApiError && TOKEN_INVALID_ERRCODES.has(err.errcode))) throw err
      this.logger?.warn({ path: spec.path, errcode: err.errcode }, 'access_token refused: refreshing it once and retrying the call once')
      const fresh = await this.token.replaceFailed(record)
      return send({ ...spec, query: { ...spec.query, access_token: fresh.value } })
    }
  }

  private spec(path: string, body: unknown, options: CallOptions): RequestSpec {
    const { pathname, query } = splitPath(path)
    if (options.form !== undefined && body !== undefined) throw new WxmpError('WX_ERR_API_INPUT', `${pathname}: give a JSON body or a form, not both`)
    const hasBody = body !== undefined || options.form !== undefined
    const method = options.method ?? (hasBody ? 'POST' : 'GET')
    if (method === 'GET' && hasBody) throw new WxmpError('WX_ERR_API_INPUT', `${pathname}: a GET request cannot carry a body; pass parameters in options.query`)
    const spec: RequestSpec = { path: pathname, method, query: { ...query, ...options.query } }
    if (options.form !== undefined) spec.form = formBuilder(options.form)
    else if (body !== undefined) spec.json = body
    if (options.idempotent !== undefined) spec.idempotent = options.idempotent
    return spec
  }
}

function splitPath(path: string): { pathname: string; query: Query } {
  if (typeof path !== 'string' || path.length === 0) throw new WxmpError('WX_ERR_API_INPUT', 'api.call needs a path such as /cgi-bin/menu/get')
  if (/^[a-z]+:\/\//i.test(path)) {
    throw new WxmpError('WX_ERR_API_INPUT', `api.call takes a path such as /cgi-bin/menu/get, not a URL (${path.split('?')[0]}): the host comes from baseUrl / WECHAT_API_BASE`)
  }
  const [rawPath = '', rawQuery] = path.split('?', 2)
  const query: Query = {}
  for (const [k, v] of new URLSearchParams(rawQuery ?? '')) query[k] = v
  return { pathname: rawPath.startsWith('/') ? rawPath : '/' + rawPath, query }
}
