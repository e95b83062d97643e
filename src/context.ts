import type { WechatApi } from './api/client.js'
import { COMPLETED } from './completed.js'
import type { Logger } from './logger.js'
import type { KeyValueStore } from './storage/types.js'
import type { WechatMessage } from './messages/types.js'
import { validateLateOptions, type DeliveryOutcome, type LateOptions } from './pipeline/late/settings.js'
import type { ReplySlot } from './pipeline/reply-slot.js'
import type { NewsArticle, Reply } from './reply/types.js'

/** What a context needs from its bot; kept narrow so contexts are cheap to build in tests. */
export interface ContextHost<A = unknown> {
  readonly api: A
  /** Durable store for sessions and other per-user state. */
  readonly sharedStore: KeyValueStore
  /** Namespace for keys of this account (AppID, or the 原始ID when no AppID is set). */
  readonly accountKey: string
  /** The account's short name (BotOptions.account); `default` for a bot given none. */
  readonly account: string
  /**
   * Delivers a reply that missed the passive window (customer service, a later delivery of the
   * message, or the user's next message). `afterReturn`: the handlers had already returned. Never rejects.
   */
  deliverLate(ctx: Context, reply: Reply, afterReturn: boolean): Promise<DeliveryOutcome>
  /** Sends a message now through the customer-service API (ctx.send). Never rejects. */
  sendNow(ctx: Context, reply: Reply): Promise<DeliveryOutcome>
  /** The handler or a route changed this message's late options (the typing delay may move). */
  lateOptionsChanged(ctx: Context): void
}

export interface RequestInfo {
  /** Request id used in every log line of this delivery. */
  id: string
  /** True when the message arrived AES-encrypted (safe or compatible mode). */
  encrypted: boolean
  /** Unix ms when the request arrived. */
  receivedAt: number
}

let readCore: (ctx: Context) => unknown

/** The core's record of a message, given to the context when the core made it (the dispatcher's run). */
export function coreRecordOf(ctx: Context): unknown {
  return readCore(ctx)
}

/**
 * The context of one inbound message: `ctx.message` with WeChat's official field names, camelCase
 * shortcuts, the reply helpers, `ctx.api`, and `ctx.state` for middleware to share data.
 *
 * @example bot.on('text', ctx => ctx.reply(`you said: ${ctx.text}`))
 */
export class Context<M extends WechatMessage = WechatMessage> {
  /** Free space for middleware to pass values downstream. */
  readonly state: Record<string, unknown> = {}
  /** Set by `hears` (the RegExp match or the matched string) and `click`/`scan` with a RegExp. */
  match: RegExpMatchArray | string | undefined
  private late: Readonly<LateOptions> = {}
  /** The core's own record of this message (not public; read with `coreRecordOf`). A field, not a WeakMap: no GC cost per message. */
  readonly #core: unknown

  constructor(
    readonly message: M,
    private readonly host: ContextHost,
    private readonly slot: ReplySlot,
    readonly request: RequestInfo,
    readonly log: Logger,
    core?: unknown,
  ) {
    this.#core = core
  }

  static {
    readCore = (ctx) => ctx.#core
  }

  /** The WeChat API client of this bot (needs appId and appSecret). */
  get api(): WechatApi {
    return this.host.api as WechatApi
  }

  /**
   * The short name of the account this message came to (`wxmp.config.json`'s key; `default`
   * for the one account of the environment variables): a handler shared by several accounts
   * tells them apart with it.
   *
   * @example
   * bot.on('text', (ctx) => ctx.reply(ctx.account === 'shop' ? '欢迎光临' : '你好'))
   */
  get account(): string {
    return this.host.account
  }

  /** The durable store (sessions, per-user state), namespaced by `storeKey`. */
  get sharedStore(): KeyValueStore {
    return this.host.sharedStore
  }

  /** A key for per-user state in the shared store: account + OpenID + name. */
  storeKey(name: string): string {
    return `${name}:${this.host.accountKey || this.accountId}:${this.openid}`
  }

  /** The user's OpenID (FromUserName). */
  get openid(): string {
    return this.message.FromUserName
  }

  /** The account's 原始ID (ToUserName). */
  get accountId(): string {
    return this.message.ToUserName
  }

  get msgType(): string {
    return this.message.MsgType
  }

  /** The event name for events, else undefined. */
  get event(): string | undefined {
    return this.message.MsgType === 'event' ? (this.message as { Event: string }).Event : undefined
  }

  /** EventKey of an event (menu key, scene, URL…), else undefined. */
  get eventKey(): string | undefined {
    const key = (this.message as { EventKey?: unknown }).EventKey
    return typeof key === 'string' ? key : undefined
  }

  /** Content of a text message, else undefined. */
  get text(): string | undefined {
    return this.message.MsgType === 'text' ? (this.message as { Content: string }).Content : undefined
  }

  /** MsgId of an ordinary message (a string: it exceeds 2^53). */
  get msgId(): string | undefined {
    const id = (this.message as { MsgId?: unknown }).MsgId
    return typeof id === 'string' ? id : undefined
  }

  /**
   * The parametric QR scene: for `subscribe` through a QR code the EventKey after `qrscene_`,
   * for `SCAN` the EventKey itself; otherwise undefined.
   */
  get scene(): string | undefined {
    const event = this.event
    const key = this.eventKey
    if (key === undefined) return undefined
    if (event === 'subscribe') return key.startsWith('qrscene_') ? key.slice('qrscene_'.length) : undefined
    return event === 'SCAN' ? key : undefined
  }

  /** True once a reply was written (or the passive window closed). */
  get replied(): boolean {
    return !this.slot.isOpen
  }

  /**
   * Replies to this message. A string is a text reply. Within the deadline the reply is the
   * HTTP response (passive); after it (or after `replyLater()`), the reply goes the way `late`
   * says — on WeChat's next delivery (the retry window), through the customer-service API, as a
   * pending answer for the user's next message, or dropped — and the returned promise settles
   * when that is done (the outcome is logged and recorded; it never rejects for a refused send).
   * A text longer than one message is sent in pages. One reply per message: use `send` for more.
   */
  reply(reply: string | Reply): Promise<void> {
    const value: Reply = typeof reply === 'string' ? { type: 'text', content: reply } : reply
    const how = this.slot.write(value)
    // the shared settled promise: a handler that returns it has finished synchronously
    if (how === 'passive') return COMPLETED
    return this.host.deliverLate(this as Context, value, how === 'after-return').then(() => undefined)
  }

  /**
   * Says the reply will take a while: WeChat is answered now — with `interim` (or the
   * configured interim text) so the user sees something, else `success` — and the next
   * `ctx.reply()` goes out through the customer-service API where the account may send it
   * (whatever `late` is set to), else it waits for the user's next message (pending answer).
   *
   * @example
   * bot.on('text', async (ctx) => {
   *   ctx.replyLater('正在查询，请稍候…')
   *   await ctx.reply(await slowLookup(ctx.text))
   * })
   */
  replyLater(interim?: string): void {
    if (interim !== undefined) validateLateOptions({ interim }, 'ctx.replyLater()')
    this.setLateOptions({ late: 'auto' })
    this.slot.defer(interim)
  }

  /**
   * Late options for this message only (over the route's and the bot's): what becomes of a late
   * reply (`late`), the interim text, the typing delay, the pending notice.
   *
   * @example ctx.setLateOptions({ interim: '正在生成图片…', typingAfterMs: 0 })
   */
  setLateOptions(options: LateOptions): this {
    validateLateOptions(options, 'ctx.setLateOptions()')
    this.late = Object.freeze({ ...this.late, ...options })
    this.host.lateOptionsChanged(this as Context)
    return this
  }

  /** The late options set for this message by routes and handlers (not the bot's defaults). */
  get lateOverrides(): Readonly<LateOptions> {
    return this.late
  }

  replyText(content: string): Promise<void> {
    return this.reply({ type: 'text', content })
  }

  replyImage(mediaId: string): Promise<void> {
    return this.reply({ type: 'image', mediaId })
  }

  replyVoice(mediaId: string): Promise<void> {
    return this.reply({ type: 'voice', mediaId })
  }

  replyVideo(mediaId: string, options: { title?: string; description?: string; thumbMediaId?: string } = {}): Promise<void> {
    return this.reply({ type: 'video', mediaId, ...options })
  }

  replyMusic(music: { thumbMediaId: string; title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string }): Promise<void> {
    return this.reply({ type: 'music', ...music })
  }

  replyNews(articles: NewsArticle | NewsArticle[]): Promise<void> {
    return this.reply({ type: 'news', articles: Array.isArray(articles) ? articles : [articles] })
  }

  /** Hands this message to the customer-service (客服) system, optionally to one agent. */
  transferToCustomerService(kfAccount?: string): Promise<void> {
    return this.reply(kfAccount === undefined ? { type: 'transfer_customer_service' } : { type: 'transfer_customer_service', kfAccount })
  }

  /** Acknowledges with `success` and no message; later handlers can no longer reply passively. */
  noReply(): Promise<void> {
    return this.reply({ type: 'success' })
  }

  /**
   * Sends a message now through the customer-service API, beside the reply (progress, a
   * second part, an image after the text). Resolves with the outcome — `sent`,
   * `out-of-window`, `quota`, `no-permission` or `failed` — and never rejects for a refused
   * send: the outcome is logged once. One user message allows 5 such messages (a menu click,
   * follow or scan 3), the late reply included.
   *
   * @example
   * const { status } = await ctx.send('第一部分…')
   * if (status !== 'sent') return
   */
  send(reply: string | Reply): Promise<DeliveryOutcome> {
    const value: Reply = typeof reply === 'string' ? { type: 'text', content: reply } : reply
    return this.host.sendNow(this as Context, value)
  }

  sendText(content: string): Promise<DeliveryOutcome> {
    return this.send({ type: 'text', content })
  }

  sendImage(mediaId: string): Promise<DeliveryOutcome> {
    return this.send({ type: 'image', mediaId })
  }

  sendVoice(mediaId: string): Promise<DeliveryOutcome> {
    return this.send({ type: 'voice', mediaId })
  }

  sendVideo(mediaId: string, options: { title?: string; description?: string; thumbMediaId?: string } = {}): Promise<DeliveryOutcome> {
    return this.send({ type: 'video', mediaId, ...options })
  }

  sendMusic(music: { thumbMediaId: string; title?: string; description?: string; musicUrl?: string; hqMusicUrl?: string }): Promise<DeliveryOutcome> {
    return this.send({ type: 'music', ...music })
  }

  /** One article: the customer-service API refuses more (45008). */
  sendNews(article: NewsArticle): Promise<DeliveryOutcome> {
    return this.send({ type: 'news', articles: [article] })
  }
}
