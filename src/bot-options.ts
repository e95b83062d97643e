import { WxmpError } from './errors.js'
import type { Logger } from './logger.js'
import { validateLateOptions, type LateMode } from './pipeline/late-options.js'
import type { KeyValueStore } from './storage/types.js'

/** What the bot records about each message (the SQL message log implements it). */
export interface MessageRecorder {
  recordInbound(entry: InboundRecord): Promise<string | number>
  recordOutcome(id: string | number, outcome: OutcomeRecord): Promise<void>
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
}
export type ReplyVia = 'passive' | 'customer-service' | 'none'
export interface OutcomeRecord {
  replyXml: string | undefined
  replyVia: ReplyVia
  replyStatus?: 'sent' | 'out-of-window' | 'no-permission' | 'quota' | 'failed' | 'dropped'
  latencyMs: number
  error: string | undefined
}

export type { LateMode } from './pipeline/late-options.js'

export interface BotOptions {
  /** 服务器配置 Token: signs every callback. */
  token: string
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
  /** What happens to a reply that misses the deadline. Default 'customer-service'. Per route: `lateOptions()`. */
  late?: LateMode | undefined
  /**
   * Text answered passively at the deadline instead of `success` when no reply is ready yet
   * (e.g. "正在思考，请稍候…"); the reply then follows through the customer-service API.
   */
  interim?: string | undefined
  /** Show "typing…" when a handler still runs this many ms after the message arrived. Default 1000; false: never. */
  typingAfterMs?: number | false | undefined
  /** Largest accepted body. Default 1 MiB. */
  maxBodyBytes?: number | undefined
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
  if (options.replyTimeoutMs !== undefined && options.replyTimeoutMs >= 5000) {
    fail('replyTimeoutMs', `is ${options.replyTimeoutMs} ms but WeChat gives up at 5000 ms: keep it below (default 4500)`)
  }
  if (options.late !== undefined && options.late !== 'customer-service' && options.late !== 'drop') fail('late', "must be 'customer-service' or 'drop'")
  validateLateOptions({ ...(options.interim === undefined ? {} : { interim: options.interim }), ...(options.typingAfterMs === undefined ? {} : { typingAfterMs: options.typingAfterMs }) }, 'Bot options')
  if (options.encodingAESKey !== undefined && options.appId === undefined && options.allowAnyAppId !== true) {
    fail('appId', 'is required with an encodingAESKey: the AppID inside every ciphertext is checked against it, so messages encrypted for another account are refused. Set appId (WECHAT_APPID), or allowAnyAppId: true if the key is shared by several accounts on purpose')
  }
  if (options.requireEncryption === true && options.encodingAESKey === undefined) {
    fail('requireEncryption', 'is on but no encodingAESKey is set: encrypted requests could not be read')
  }
}
