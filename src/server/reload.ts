/**
 * Reloading the accounts (SIGHUP, `server.reload()`): the added and changed accounts are opened
 * next to the running ones, then the path table is swapped in one step, then the removed and
 * replaced accounts stop once their running handlers finish. A request already in flight keeps
 * the bot it started on, so no account's requests fail during a reload; an account whose
 * configuration did not change keeps its bot (and its in-process state). Anything wrong with
 * the new configuration (the file, an account, its rules file or handler module) changes
 * nothing: the result and one error line say what, naming the account.
 */
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { AccountTable } from '../accounts/table.js'
import type { ResolvedAccount } from '../accounts/config.js'
import { openAccount, type AccountDeps, type ServerAccount } from './server-accounts.js'

export interface ReloadResult {
  ok: boolean
  added: string[]
  changed: string[]
  removed: string[]
  unchanged: string[]
  /** Why the new configuration was refused (ok false): the running one stays. */
  error?: string
}

export interface AccountReloaderOptions {
  accounts: Map<string, ServerAccount>
  table: AccountTable
  deps: AccountDeps
  logger: Logger
  /** What a reload without accounts serves: the accounts file read again. */
  load?: () => Promise<ResolvedAccount[]>
  /** How long a replaced or removed account's handlers may still run. Default 10 000 ms. */
  drainMs?: number
}

export class AccountReloader {
  private queue: Promise<unknown> = Promise.resolve()
  private readonly retiring = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly o: AccountReloaderOptions) {}

  /** Reloads one at a time: a second SIGHUP waits for the first. */
  reload(next?: ResolvedAccount[]): Promise<ReloadResult> {
    const run = this.queue.then(() => this.apply(next))
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Waits for a reload in progress and for retired accounts' handlers. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.queue
    await Promise.all([...this.retiring])
  }

  private async apply(next: ResolvedAccount[] | undefined): Promise<ReloadResult> {
    const { accounts, table, deps, logger } = this.o
    const refused = (err: unknown): ReloadResult => {
      const error = (err as Error).message
      logger.error({ code: (err as { code?: string }).code ?? 'WX_ERR_CONFIG', err: error }, `reload refused, the running accounts stay as they are: ${error}`)
      return { ok: false, added: [], changed: [], removed: [], unchanged: [...accounts.keys()], error }
    }
    if (this.stopped) return refused(new WxmpError('WX_ERR_CONFIG', 'the server is stopping'))
    let list: ResolvedAccount[]
    try {
      if (next === undefined && this.o.load === undefined) throw new WxmpError('WX_ERR_CONFIG', 'nothing to reload from: the accounts come from environment variables (use an accounts file, wxmp.config.json)')
      list = next ?? (await this.o.load!())
      if (list.length === 0) throw new WxmpError('WX_ERR_CONFIG', 'the new configuration has no account')
    } catch (err) {
      return refused(err)
    }
    const fresh = new Map<string, ServerAccount>()
    const plan = list.map((account) => {
      const old = accounts.get(account.name)
      return { account, old, same: old !== undefined && sameConfig(old.config, account) }
    })
    let serving: ServerAccount[]
    try {
      for (const { account, same } of plan) {
        if (same) continue
        try {
          fresh.set(account.name, await openAccount(account, deps))
        } catch (err) {
          throw new WxmpError('WX_ERR_CONFIG', `account "${account.name}": ${(err as Error).message}`, { cause: err, details: { account: account.name } })
        }
      }
      serving = plan.map(({ account, old, same }) => (same ? old! : fresh.get(account.name)!))
      // checked before anything is swapped: a duplicate path refuses the whole configuration
      table.replace(serving.map((a) => ({ name: a.name, path: a.path, bot: a.bot })))
    } catch (err) {
      await Promise.all([...fresh.values()].map((a) => a.close(0).catch(() => undefined)))
      return refused(err)
    }
    const retired = [...accounts.values()].filter((a) => !serving.includes(a))
    const result: ReloadResult = {
      ok: true,
      added: plan.filter((p) => p.old === undefined).map((p) => p.account.name),
      changed: plan.filter((p) => p.old !== undefined && !p.same).map((p) => p.account.name),
      removed: retired.filter((a) => !fresh.has(a.name)).map((a) => a.name),
      unchanged: plan.filter((p) => p.same).map((p) => p.account.name),
    }
    accounts.clear()
    for (const account of serving) accounts.set(account.name, account)
    for (const account of retired) {
      const done = account.close(this.o.drainMs ?? 10_000).catch(() => undefined)
      this.retiring.add(done)
      void done.finally(() => this.retiring.delete(done))
    }
    logger.info({ added: result.added, changed: result.changed, removed: result.removed, unchanged: result.unchanged }, 'accounts reloaded')
    return result
  }
}

/** Whether an account's configuration is the same (then its bot keeps running untouched). */
function sameConfig(a: ResolvedAccount, b: ResolvedAccount): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
