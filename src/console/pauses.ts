/**
 * Conversations where an operator paused the bot. Kept in the database so every instance of a
 * fleet honours a pause; each instance reads the (small) table every 2 s and answers the
 * webhook from memory, so a paused check costs one Map lookup per message. A pause always has
 * an end (default 2 hours): a forgotten one does not silence the bot for good.
 */
import { COMPLETED } from '../composer.js'
import type { Context } from '../context.js'
import type { Logger } from '../logger.js'
import type { SqlDatabase } from '../records/sql-database.js'

export interface Pause {
  openid: string
  operator: string
  pausedAt: number
  until: number
}

export const MAX_PAUSE_MS = 7 * 24 * 3600_000

export class Pauses {
  private paused = new Map<string, Pause>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly db: SqlDatabase,
    private readonly appId: string,
    private readonly now: () => number = Date.now,
    private readonly logger?: Pick<Logger, 'warn'>,
  ) {}

  /** Loads the table and keeps reloading it every `everyMs`. */
  async start(everyMs = 2000): Promise<void> {
    await this.reload()
    this.timer = setInterval(() => {
      this.reload().catch((err: unknown) => this.logger?.warn({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'console: could not reload paused conversations'))
    }, everyMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  async reload(): Promise<void> {
    const rows = await this.db.all('SELECT openid, operator, paused_at, until_at FROM wxmp_console_paused WHERE app_id = ? AND until_at > ?', [this.appId, this.now()])
    this.paused = new Map(rows.map((r) => [r.openid as string, { openid: r.openid as string, operator: r.operator as string, pausedAt: Number(r.paused_at), until: Number(r.until_at) }]))
  }

  get(openid: string): Pause | undefined {
    const pause = this.paused.get(openid)
    return pause !== undefined && pause.until > this.now() ? pause : undefined
  }

  all(): Pause[] {
    return [...this.paused.values()].filter((p) => p.until > this.now())
  }

  async pause(openid: string, operator: string, forMs: number): Promise<Pause> {
    const at = this.now()
    const pause: Pause = { openid, operator, pausedAt: at, until: at + Math.min(Math.max(60_000, forMs), MAX_PAUSE_MS) }
    await this.db.batch([
      { sql: 'DELETE FROM wxmp_console_paused WHERE app_id = ? AND openid = ?', params: [this.appId, openid] },
      { sql: 'INSERT INTO wxmp_console_paused (app_id, openid, operator, paused_at, until_at) VALUES (?, ?, ?, ?, ?)', params: [this.appId, openid, operator, pause.pausedAt, pause.until] },
    ])
    this.paused.set(openid, pause)
    return pause
  }

  async resume(openid: string): Promise<boolean> {
    const changed = await this.db.run('DELETE FROM wxmp_console_paused WHERE app_id = ? AND openid = ?', [this.appId, openid])
    this.paused.delete(openid)
    return changed > 0
  }

  /**
   * Middleware: for a paused conversation the code handlers (and rules) do not run, so WeChat
   * gets "success" and the operator answers; the message is still logged as usual.
   */
  middleware() {
    return (ctx: Context, next: () => Promise<void>): Promise<void> | void => {
      if (this.paused.size === 0 || this.get(ctx.openid) === undefined) return next()
      ctx.log.info({ openid: ctx.openid }, 'console: conversation paused by an operator; the bot does not answer')
      return COMPLETED
    }
  }
}
