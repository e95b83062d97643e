/**
 * Whether this account may send customer-service messages (客服消息): the question `late: 'auto'`
 * turns on. Only verified accounts (认证订阅号, 认证服务号) and the sandbox test account have the
 * permission; the rest get errcode 48001. The answer comes from configuration (`accountKind`),
 * else from WeChat itself: the first 48001 (often from "typing…", a second after a message,
 * before the deadline decides anything) is remembered per account in the shared store, so every
 * instance, and the next process, knows it too.
 */
import type { Logger } from '../../logger.js'
import type { KeyValueStore } from '../../storage/types.js'

/** The kinds of Official Account, as the console names them. */
export type AccountKind = 'subscription' | 'subscription-verified' | 'service' | 'service-verified' | 'sandbox'
export const ACCOUNT_KINDS: readonly AccountKind[] = Object.freeze(['subscription', 'subscription-verified', 'service', 'service-verified', 'sandbox'])

/** Kinds that may send customer-service messages. */
const WITH_CUSTOMER_SERVICE: ReadonlySet<AccountKind> = new Set(['subscription-verified', 'service-verified', 'sandbox'])

/**
 * yes: customer service works; no: it does not (48001 or configuration); unknown: not learned
 * yet (a late reply tries customer service; the pages of a long reply wait for the next message).
 */
export type Permission = 'yes' | 'no' | 'unknown'

/** How long a learned 48001 is remembered: an account verified meanwhile is found out within this. */
export const LEARNED_TTL_MS = 7 * 24 * 3600_000
/** How often the shared store is read again for what other instances learned. */
const REFRESH_MS = 30_000

export interface PermissionOptions {
  /** Shared store (keys are already namespaced per account by the bot's store). */
  store: KeyValueStore
  /** Key suffix naming the account (AppID). */
  accountKey: string
  /** From configuration; wins over what was learned, except that a 48001 is always believed. */
  accountKind?: AccountKind | undefined
  /** False when no API client is configured: nothing can be sent at all. */
  hasApi(): boolean
  log: Logger
  now: () => number
}

/**
 * @example
 * const permission = new CustomerServicePermission({ store, accountKey: appId, hasApi: () => true, log, now: Date.now })
 * permission.state()              // 'unknown' until learned
 * permission.learnedNo('typing')  // a 48001: 'no' here and, through the store, everywhere
 */
export class CustomerServicePermission {
  private learned: Permission = 'unknown'
  private loadedAt = -Infinity
  private loading: Promise<void> | undefined

  constructor(private readonly options: PermissionOptions) {}

  private get key(): string {
    return `late:customer-service:${this.options.accountKey || 'default'}`
  }

  /** What is known now (synchronous: decided at each deadline). Starts a background refresh when stale. */
  state(): Permission {
    if (!this.options.hasApi()) return 'no'
    if (this.learned === 'no') return 'no'
    const kind = this.options.accountKind
    if (kind !== undefined) return WITH_CUSTOMER_SERVICE.has(kind) ? 'yes' : 'no'
    this.refresh()
    return this.learned
  }

  /** WeChat accepted a customer-service call (a message, "typing…"): the account has the permission. */
  learnedYes(): void {
    if (this.learned !== 'unknown') return
    this.learned = 'yes'
    this.options.store.set(this.key, { permission: 'yes', at: this.options.now() }, LEARNED_TTL_MS).catch(() => undefined)
  }

  /** Reads what other instances learned, at most every 30 s, in the background. */
  refresh(): void {
    if (this.loading !== undefined || this.options.now() - this.loadedAt < REFRESH_MS) return
    this.loadedAt = this.options.now()
    this.loading = this.options.store
      .get<{ permission: Permission }>(this.key)
      .then(
        (value) => {
          if (value?.permission === 'no') this.learned = 'no'
          else if (value?.permission === 'yes' && this.learned === 'unknown') this.learned = 'yes'
        },
        () => undefined, // the store is down: keep what this process knows
      )
      .finally(() => (this.loading = undefined))
  }

  /** Waits for a refresh in flight (tests, and the first message after start). */
  async ready(): Promise<void> {
    this.refresh()
    await this.loading
  }

  /** WeChat answered 48001: remembered here at once and in the shared store for every instance. */
  learnedNo(from: 'typing' | 'customer-service'): void {
    if (this.learned === 'no') return
    this.learned = 'no'
    const kind = this.options.accountKind
    if (kind !== undefined && WITH_CUSTOMER_SERVICE.has(kind)) {
      this.options.log.warn({ code: 'WX_ERR_API', errcode: 48001, accountKind: kind }, `WECHAT_ACCOUNT_KIND says ${kind}, but WeChat refused customer service with 48001: late answers now use the retry window and pending answers`)
    } else {
      this.options.log.info({ errcode: 48001, from }, 'this account may not send customer-service messages (48001): late answers use the retry window and pending answers from now on (remembered for 7 days)')
    }
    this.options.store.set(this.key, { permission: 'no', at: this.options.now() }, LEARNED_TTL_MS).catch(() => undefined)
  }
}
