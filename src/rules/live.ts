/**
 * The rules a running server answers with: compiled once per version and kept in memory, so a
 * message never waits for the database. Every `pollMs` one tiny query reads the version row;
 * only when it moved are the rules read and compiled again, and the new set replaces the old
 * one between two messages. With the default 1 s poll a change made anywhere (the CLI, the
 * console, another instance) answers everywhere within about a second.
 *
 * When the database is unreachable the last rules stay in use; the failure is logged once and
 * again when it recovers.
 */
import type { Logger } from '../logger.js'
import type { RulesSource } from './middleware.js'
import { RuleSet } from './rule-set.js'

/** What LiveRules needs from a store (RuleStore has it). */
export interface VersionedRules {
  version(): Promise<number>
  load(): Promise<RuleSet>
}

export interface LiveRulesOptions {
  /** How often to look at the version row. Default 1000 ms. */
  pollMs?: number
  logger?: Logger
  /** Called after a new set is in use (tests, metrics). */
  onReload?: (set: RuleSet) => void
}

export class LiveRules implements RulesSource {
  private set: RuleSet
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<boolean> | undefined
  private failing = false

  private constructor(
    private readonly store: VersionedRules,
    initial: RuleSet,
    private readonly options: LiveRulesOptions,
  ) {
    this.set = initial
  }

  /** Loads the rules now (a failure here is the caller's: the server does not start without them) and starts polling. */
  static async start(store: VersionedRules, options: LiveRulesOptions = {}): Promise<LiveRules> {
    const live = new LiveRules(store, await store.load(), options)
    const pollMs = Math.max(50, options.pollMs ?? 1000)
    live.timer = setInterval(() => void live.refresh(), pollMs)
    live.timer.unref()
    return live
  }

  get current(): RuleSet {
    return this.set
  }

  /** Reloads when the stored version moved; true when a new set is now in use. One poll at a time. */
  refresh(): Promise<boolean> {
    this.polling ??= this.poll().finally(() => (this.polling = undefined))
    return this.polling
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async poll(): Promise<boolean> {
    try {
      if ((await this.store.version()) === this.set.version) return this.recovered(false)
      const next = await this.store.load()
      this.set = next
      this.options.logger?.info({ version: next.version, rules: next.size }, 'rules reloaded')
      this.options.onReload?.(next)
      return this.recovered(true)
    } catch (err) {
      if (!this.failing) this.options.logger?.warn({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'rules: cannot read the database; answering with the rules loaded before')
      this.failing = true
      return false
    }
  }

  private recovered(changed: boolean): boolean {
    if (this.failing) this.options.logger?.info({}, 'rules: the database is reachable again')
    this.failing = false
    return changed
  }
}
