import { WxmpError } from './errors.js'
import type { Logger } from './logger.js'
import { ACCOUNT_KINDS, type AccountKind } from './pipeline/late/permission.js'
import { validateLateOptions, type DeliveryStatus, type LateMode } from './pipeline/late/settings.js'
import type { KeyValueStore } from './storage/types.js'
import type { RequestLimiter } from './pipeline/admission.js'

/** What the bot records about each message (the SQL message log implements it). */
export interface MessageRecorder {
  recordInbound(entry: InboundRecord): Promise<string | number>
  recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void>
  /**
   * The id `recordInbound(entry)` resolves with, known at once: for recorders whose ids follow
   * from the entry (the server's appended message log). With it, a message answered at once
   * has its outcome recorded in the same write as the message itself.
   */
  idOf?(entry: InboundRecord): string | number
  /**
   * Appends the record to this event-loop turn's file write (src/pipeline/turn-end.ts: it runs
   * at the turn's end, before the turn's answers leave) and returns its id; throws when the
   * entry is refused. A failed write is reported by the recorder itself. With it, the answer
   * of a message waits for the turn's writes (one promise per turn) instead of a promise of
   * its own: the server's appended message log has it.
   */
  appendInbound?(entry: InboundRecord): string | number
  /** `recordOutcome` for such a recorder, appended the same way; throws when the outcome is refused. */
  appendOutcome?(id: string | number, outcome: OutcomeRecord): void
}
export interface InboundRecord {
  appId: string
  msgKey: string
  openid: string
  msgType: string
  event: string | undefined
  msgId: string | undefined
  createTime: number
  rawXml: string
  receivedAt: number
  encrypted: boolean
  /** The account's short name (BotOptions.account). */
  account?: string | undefined
}
/** How the answer left: passive (on the first delivery or a retry), customer service, the user's next message, or not at all. */
export type ReplyVia = 'passive' | 'customer-service' | 'next-message' | 'none'
export interface OutcomeRecord {
  replyXml: string | undefined
  replyVia: ReplyVia
  replyStatus?: DeliveryStatus
  latencyMs: number
  error: string | undefined
}

export type { LateMode } from './pipeline/late/settings.js'
export type { AccountKind } from './pipeline/late/permission.js'

/** Answers that wait for the user's next message (the retry window's last resort, long replies' pages). */
export interface PendingAnswerOptions {
  /**
   * Only a text message equal to this word fetches a pending answer (e.g. '继续'); other
   * messages are handled as usual. Default: any message from the user fetches it.
   */
  keyword?: string | undefined
  /** `skip` (default): the message that fetched a pending answer is not handled further; `handle`: it is, and its own reply goes the late way. */
  then?: 'skip' | 'handle' | undefined
  /** How long a pending answer is kept. Default 24 h. */
  ttlMs?: number | undefined
  /** Footer of a page when more follow: `{n}` is the pages left, `{keyword}` the word to send. Default '（回复"继续"查看剩余 {n} 页）'. */
  footer?: string | undefined
  /** Answered when the user asks while the answer is still being prepared. */
  busyNotice?: string | undefined
}

export interface BotOptions {
  /** 服务器配置 Token: signs every callback. */
  token: string
  /**
   * The account's short name when one server runs several ([a-z0-9-], e.g. `shop`): `ctx.account`,
   * the `account` of every log line, message-log row and follower. Default `default`.
   */
  account?: string | undefined
  /** AppID (`wx…`): checked inside ciphertexts and used for API calls. */
  appId?: string | undefined
  /** AppSecret: only for API calls (access tokens). */
  appSecret?: string | undefined
  /** EncodingAESKey (43 characters): enables compatible and safe mode. Needs `appId` (or `allowAnyAppId`). */
  encodingAESKey?: string | undefined
  /**
   * Accept ciphertexts for any AppID: with an encodingAESKey but no appId the AppID inside each
   * ciphertext is not checked. Only for a key shared on purpose by several accounts (a third-party
   * platform); without this flag an encodingAESKey without appId is refused at construction.
   */
  allowAnyAppId?: boolean | undefined
  /** The key before the last change in the console: tried when the current key fails. */
  previousEncodingAESKey?: string | undefined
  /** Reject plaintext requests (the account runs in safe mode only). */
  requireEncryption?: boolean | undefined
  /** Seconds a request's timestamp may differ from now; 0 disables. Default 300. */
  timestampToleranceSec?: number | undefined
  /** Time for handlers to reply passively before WeChat's 5 s limit. Default 4500 ms. */
  replyTimeoutMs?: number | undefined
  /**
   * What happens to a reply that misses the deadline. Default 'auto': customer service when the
   * account may send it, else WeChat's retries as one ~15 s window and pending answers.
   * Per route: `lateOptions()`.
   */
  late?: LateMode | undefined
  /**
   * The account's kind, when known: tells `late: 'auto'` whether customer-service messages are
   * allowed (only verified accounts and the sandbox may) before WeChat answers 48001.
   */
  accountKind?: AccountKind | undefined
  /** Text answered when the reply will wait for the user's next message. Default '内容较长，回复任意文字获取结果'. */
  pendingNotice?: string | undefined
  /** Pending answers: the keyword that fetches them, what happens to that message, their lifetime and footer. */
  pendingAnswers?: PendingAnswerOptions | undefined
  /** Language of the default notices and footers: 'zh' (default) or 'en'. */
  language?: 'zh' | 'en' | undefined
  /**
   * How long the first deliveries left unanswered in the retry window are held open before
   * they are closed: past WeChat's 5 s, so nothing reaches WeChat on them. Default 8000 ms from arrival.
   */
  lapseHoldMs?: number | undefined
  /**
   * Text answered passively at the deadline instead of `success` when no reply is ready yet
   * (e.g. "正在思考，请稍候…"); the reply then follows through the customer-service API.
   */
  interim?: string | undefined
  /** Show "typing…" when a handler still runs this many ms after the message arrived. Default 1000; false: never. */
  typingAfterMs?: number | false | undefined
  /** Largest accepted body. Default 1 MiB. */
  maxBodyBytes?: number | undefined
  /**
   * Most request-body bytes buffered at once, across all requests in flight (adapters reserve
   * as they read); past it, 503 WX_ERR_OVERLOADED with Retry-After. Default 16 MiB (or maxBodyBytes, if larger); at least maxBodyBytes.
   */
  maxBufferedBodyBytes?: number | undefined
  /**
   * Addresses or CIDR ranges of your own reverse proxies: from them, and only from them, the
   * client address is read from `clientIpHeader` (for logs and `rateLimit`). Default none.
   */
  trustedProxies?: readonly string[] | undefined
  /** The header trusted proxies put the client address in. Default 'x-forwarded-for'. */
  clientIpHeader?: 'x-forwarded-for' | 'x-real-ip' | undefined
  /** Per-source limit, consulted before the body is read; signed requests and refused ones spend separate allowances. */
  rateLimit?: RequestLimiter | undefined
  /** Where the "request rejected" lines go (default: `logger`); the server aggregates them per source. */
  rejectionLogger?: Pick<Logger, 'warn'> | undefined
  /** Shared state (dedup, replay guard, tokens, sessions). Default: in-process memory. */
  store?: KeyValueStore | undefined
  /**
   * Durable shared state (tokens, sessions, locks). Default: `store`. The server passes Redis
   * when REDIS_URL is set, else the SQLite/PostgreSQL database.
   */
  sharedStore?: KeyValueStore | undefined
  /** Message log (see storage). */
  records?: MessageRecorder | undefined
  logger?: Logger | undefined
  /** Unix ms; injectable for tests. */
  now?: (() => number) | undefined
  /** Randomness for encryption; injectable for deterministic tests. */
  randomBytes?: ((size: number) => Buffer) | undefined
  /** fetch used for WeChat API calls; injectable. */
  fetch?: typeof fetch | undefined
  /** WeChat API base URL. Default https://api.weixin.qq.com */
  apiBaseUrl?: string | undefined
  /** How long a message id is remembered for retries. Default 5 min. */
  dedupTtlMs?: number | undefined
}

export const DEFAULTS = {
  timestampToleranceSec: 300,
  replyTimeoutMs: 4500,
  maxBodyBytes: 1024 * 1024,
  maxBufferedBodyBytes: 16 * 1024 * 1024,
  dedupTtlMs: 5 * 60_000,
  apiBaseUrl: 'https://api.weixin.qq.com',
} as const

/** Checks options at construction so mistakes fail at boot with the field named. */
export function validateBotOptions(options: BotOptions): void {
  const fail = (field: string, message: string): never => {
    throw new WxmpError('WX_ERR_CONFIG', `${field}: ${message}`, { details: { field } })
  }
  if (typeof options.token !== 'string' || options.token === '') fail('token', 'is required: the Token from the console (服务器配置)')
  if (options.token !== options.token.trim()) fail('token', 'has leading or trailing whitespace: copy the Token again without spaces or a newline')
  if (!/^[\x21-\x7e]+$/.test(options.token)) fail('token', 'may only contain printable ASCII (the console allows letters and digits, 3–32 characters)')
  if (options.account !== undefined && !/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/.test(options.account)) fail('account', `${JSON.stringify(String(options.account).slice(0, 40))} must be 1–32 lowercase letters, digits or "-"`)
  if (options.appId !== undefined && !/^wx[0-9a-zA-Z]{4,30}$/.test(options.appId)) {
    fail('appId', `${JSON.stringify(options.appId.slice(0, 40))} is not an AppID (wx followed by 16 letters or digits): did you paste the 原始ID (gh_…) or the AppSecret?`)
  }
  if (options.appSecret !== undefined && (options.appSecret === '' || /\s/.test(options.appSecret))) {
    fail('appSecret', 'is empty or contains whitespace: copy the AppSecret again (32 letters or digits)')
  }
  const positive = (field: keyof BotOptions, value: number | undefined, allowZero: boolean) => {
    if (value === undefined) return
    if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) fail(field, `must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`)
  }
  positive('timestampToleranceSec', options.timestampToleranceSec, true)
  positive('replyTimeoutMs', options.replyTimeoutMs, false)
  positive('maxBodyBytes', options.maxBodyBytes, false)
  positive('dedupTtlMs', options.dedupTtlMs, false)
  positive('maxBufferedBodyBytes', options.maxBufferedBodyBytes, false)
  if (options.maxBufferedBodyBytes !== undefined && options.maxBufferedBodyBytes < (options.maxBodyBytes ?? DEFAULTS.maxBodyBytes)) {
    fail('maxBufferedBodyBytes', `is below maxBodyBytes (${options.maxBodyBytes ?? DEFAULTS.maxBodyBytes}): one body of the largest accepted size must fit`)
  }
  if (options.replyTimeoutMs !== undefined && options.replyTimeoutMs >= 5000) {
    fail('replyTimeoutMs', `is ${options.replyTimeoutMs} ms but WeChat gives up at 5000 ms: keep it below (default 4500)`)
  }
  if (options.accountKind !== undefined && !ACCOUNT_KINDS.includes(options.accountKind)) fail('accountKind', `must be one of ${ACCOUNT_KINDS.join(', ')}`)
  if (options.language !== undefined && options.language !== 'zh' && options.language !== 'en') fail('language', "must be 'zh' or 'en'")
  const pending = options.pendingAnswers
  if (pending !== undefined) {
    if (pending === null || typeof pending !== 'object') fail('pendingAnswers', 'must be an object such as { keyword: "继续" }')
    if (pending.keyword !== undefined && (typeof pending.keyword !== 'string' || pending.keyword.trim() === '' || pending.keyword.length > 32)) fail('pendingAnswers.keyword', 'must be a word of 1–32 characters, e.g. "继续"')
    if (pending.then !== undefined && pending.then !== 'skip' && pending.then !== 'handle') fail('pendingAnswers.then', "must be 'skip' or 'handle'")
    if (pending.ttlMs !== undefined && !(Number.isFinite(pending.ttlMs) && pending.ttlMs >= 60_000 && pending.ttlMs <= 30 * 86_400_000)) fail('pendingAnswers.ttlMs', 'must be from 60000 (1 minute) to 30 days in ms')
    if (pending.footer !== undefined && (typeof pending.footer !== 'string' || Buffer.byteLength(pending.footer) > 200)) fail('pendingAnswers.footer', 'must be a text of at most 200 bytes, e.g. （回复"继续"查看剩余 {n} 页）')
    if (pending.busyNotice !== undefined && (typeof pending.busyNotice !== 'string' || pending.busyNotice.trim() === '' || Buffer.byteLength(pending.busyNotice) > 2048)) fail('pendingAnswers.busyNotice', 'must be a short non-empty text')
  }
  if (options.lapseHoldMs !== undefined && !(Number.isFinite(options.lapseHoldMs) && options.lapseHoldMs >= 5000 && options.lapseHoldMs <= 14_000)) {
    fail('lapseHoldMs', `must be from 5000 to 14000 ms (past WeChat's 5 s, before its last delivery ends), got ${options.lapseHoldMs}`)
  }
  validateLateOptions(
    {
      ...(options.late === undefined ? {} : { late: options.late }),
      ...(options.pendingNotice === undefined ? {} : { pendingNotice: options.pendingNotice }),
      ...(options.interim === undefined ? {} : { interim: options.interim }),
      ...(options.typingAfterMs === undefined ? {} : { typingAfterMs: options.typingAfterMs }),
    },
    'Bot options',
  )
  if (options.encodingAESKey !== undefined && options.appId === undefined && options.allowAnyAppId !== true) {
    fail('appId', 'is required with an encodingAESKey: the AppID inside every ciphertext is checked against it, so messages encrypted for another account are refused. Set appId (WECHAT_APPID), or allowAnyAppId: true if the key is shared by several accounts on purpose')
  }
  if (options.requireEncryption === true && options.encodingAESKey === undefined) {
    fail('requireEncryption', 'is on but no encodingAESKey is set: encrypted requests could not be read')
  }
}
