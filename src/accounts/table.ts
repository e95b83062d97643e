/**
 * Several accounts behind one listener: which bot answers which path. The adapters look the
 * request's path up here and hand the request to that bot, exactly as with one bot; an unknown
 * path is the adapter's 404 (or the framework's next route) and touches no account's state.
 * The set can be replaced while requests run (a reload): a request keeps the bot it was given.
 *
 * @example
 * import { mountAccounts } from 'wxmp'
 * import { serve } from 'wxmp/node'
 * const accounts = mountAccounts([
 *   { name: 'shop', path: '/wechat/shop', bot: shopBot },
 *   { name: 'news', path: '/wechat/news', bot: newsBot },
 * ])
 * await serve(accounts, { port: 3000 })
 */
import type { Bot } from '../bot.js'
import { WxmpError } from '../errors.js'

/** A Bot, or a stand-in with the same `handle` (then the checks before the body run inside `handle`). */
export type WebhookBot = Pick<Bot, 'handle' | 'handleError' | 'options'> & Partial<Pick<Bot, 'admit' | 'bodyBudget' | 'drain'>>

export interface MountedAccount<B extends WebhookBot = WebhookBot> {
  /** Short name ([a-z0-9-]): for logs and `ctx.account` (set `account` in the bot's options too). */
  name: string
  /** The webhook path, e.g. /wechat/shop; a trailing slash is accepted too. */
  path: string
  bot: B
}

export class AccountTable<B extends WebhookBot = WebhookBot> {
  private byPath = new Map<string, MountedAccount<B>>()
  private list: readonly MountedAccount<B>[] = []

  constructor(accounts: Iterable<MountedAccount<B>> = []) {
    this.replace(accounts)
  }

  /** Serves exactly these accounts from now on (checked first: a bad set changes nothing). */
  replace(accounts: Iterable<MountedAccount<B>>): void {
    const byPath = new Map<string, MountedAccount<B>>()
    const names = new Set<string>()
    const list = [...accounts]
    for (const account of list) {
      if (typeof account.path !== 'string' || !account.path.startsWith('/')) throw new WxmpError('WX_ERR_CONFIG', `account "${account.name}": path ${JSON.stringify(account.path)} must start with "/"`)
      const path = account.path.length > 1 ? account.path.replace(/\/+$/, '') : account.path
      const other = byPath.get(path)
      if (other !== undefined) throw new WxmpError('WX_ERR_CONFIG', `accounts "${other.name}" and "${account.name}" have the same path ${path}`)
      if (names.has(account.name)) throw new WxmpError('WX_ERR_CONFIG', `two accounts are named "${account.name}"`)
      names.add(account.name)
      byPath.set(path, { ...account, path })
    }
    this.byPath = byPath
    this.list = Object.freeze([...byPath.values()])
  }

  /** The account served at `pathname` (exact, or with one trailing slash), if any. */
  match(pathname: string): MountedAccount<B> | undefined {
    const exact = this.byPath.get(pathname)
    if (exact !== undefined || !pathname.endsWith('/') || pathname.length === 1) return exact
    return this.byPath.get(pathname.slice(0, -1))
  }

  get(name: string): MountedAccount<B> | undefined {
    return this.list.find((a) => a.name === name)
  }

  /** The accounts now served, in configuration order. */
  get accounts(): readonly MountedAccount<B>[] {
    return this.list
  }

  /** Waits up to `ms` for every account's handlers still running (late replies). */
  async drain(ms: number): Promise<boolean> {
    const results = await Promise.all(this.list.map((a) => a.bot.drain?.(ms) ?? true))
    return results.every(Boolean)
  }
}

/** An AccountTable for the adapters (`serve`, `webhookCallback`, `wechatExpress`, `wechatKoa`, `wechatFastify`, `webhookHandler`). */
export function mountAccounts<B extends WebhookBot>(accounts: Iterable<MountedAccount<B>>): AccountTable<B> {
  return new AccountTable(accounts)
}

export function isAccountTable(value: unknown): value is AccountTable {
  return value instanceof AccountTable
}

/** One adapter handler per bot, made on first use (an account replaced by a reload gets its own). */
export function handlerPerBot<H>(make: (bot: WebhookBot) => H): (bot: WebhookBot) => H {
  const made = new WeakMap<object, H>()
  return (bot) => {
    let handler = made.get(bot)
    if (handler === undefined) made.set(bot, (handler = make(bot)))
    return handler
  }
}

/**
 * The bot at one path of the table, looked up per request (so a reload that replaces the
 * account is followed), and pinned per request between `admit` and `handle`: for adapters whose
 * routes are registered once (Fastify).
 */
export function botAtPath(table: AccountTable, path: string): WebhookBot {
  const pinned = new WeakMap<object, WebhookBot>()
  const current = (): WebhookBot => {
    const bot = table.match(path)?.bot
    if (bot === undefined) throw new WxmpError('WX_ERR_NOT_FOUND', `no account is served at ${path} any more`)
    return bot
  }
  const of = (request: object) => pinned.get(request) ?? current()
  return {
    get options() {
      return current().options
    },
    get bodyBudget() {
      return current().bodyBudget!
    },
    admit(request) {
      const bot = current()
      pinned.set(request, bot)
      return bot.admit?.(request)
    },
    handle: (request) => of(request).handle(request),
    handleError: (err, request) => of(request).handleError(err, request),
    drain: (ms) => table.drain(ms ?? 10_000),
  }
}
