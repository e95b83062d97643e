/**
 * Rejection lines, aggregated per source so that a flood cannot flood the log too. Within each
 * interval (default 10 s) a source's first few rejections of each code (the precise `reason`
 * where the line has one; default 5) are logged
 * in full, as the core writes them; the rest are counted, and when the interval ends the source
 * gets one summary line with the counts by code. A source that floods with one code writes at
 * most 5 lines and a summary per interval, whatever its rate. Metrics are not affected: every
 * request is still counted there, exactly.
 *
 * Memory is bounded: past `maxSources` sources in one interval, new ones share one entry.
 */
import type { Logger } from '../logger.js'

export interface RejectionLogOptions {
  logger: Pick<Logger, 'warn'>
  /** Length of the aggregation interval in ms. Default 10 000. */
  intervalMs?: number
  /** Lines logged in full per source, code and interval. Default 5. */
  perCode?: number
  /** Sources tracked per interval. Default 1000. */
  maxSources?: number
  /** Unix ms; injectable for tests. */
  now?: () => number
}

interface SourceWindow {
  logged: Map<string, number>
  suppressed: Map<string, number>
}

const OTHER_SOURCES = '(other sources)'

/**
 * A `warn`-only logger for the core's "request rejected" lines (`BotOptions.rejectionLogger`).
 *
 * @example
 * const rejections = new RejectionLog({ logger })
 * new Bot({ token, logger, rejectionLogger: rejections })
 * … rejections.close() // on shutdown: the last summaries
 */
export class RejectionLog {
  private readonly logger: Pick<Logger, 'warn'>
  private readonly intervalMs: number
  private readonly perCode: number
  private readonly maxSources: number
  private readonly now: () => number
  private sources = new Map<string, SourceWindow>()
  private windowStart: number
  private readonly timer: NodeJS.Timeout

  constructor(options: RejectionLogOptions) {
    this.logger = options.logger
    this.intervalMs = options.intervalMs ?? 10_000
    this.perCode = options.perCode ?? 5
    this.maxSources = options.maxSources ?? 1000
    this.now = options.now ?? Date.now
    this.windowStart = this.now()
    // the summary of a burst is due even when nothing follows it
    this.timer = setInterval(() => this.flush(), this.intervalMs)
    this.timer.unref()
  }

  warn(fields: object, msg?: string): void {
    if (this.now() - this.windowStart >= this.intervalMs) this.flush()
    const line = fields as { remote?: unknown; code?: unknown; reason?: unknown }
    // counted by the precise cause where there is one (the causes behind WX_ERR_DECRYPT_FAILED)
    const code = typeof line.reason === 'string' ? line.reason : typeof line.code === 'string' ? line.code : 'unknown'
    const window = this.windowFor(typeof line.remote === 'string' ? line.remote : 'unknown')
    const logged = window.logged.get(code) ?? 0
    if (logged < this.perCode) {
      window.logged.set(code, logged + 1)
      this.logger.warn(fields, msg)
    } else {
      window.suppressed.set(code, (window.suppressed.get(code) ?? 0) + 1)
    }
  }

  /** Ends the interval: one summary line per source that had rejections not logged in full. */
  flush(): void {
    const seconds = Math.max(1, Math.round((this.now() - this.windowStart) / 1000))
    for (const [remote, window] of this.sources) {
      if (window.suppressed.size === 0) continue
      let count = 0
      for (const n of window.suppressed.values()) count += n
      this.logger.warn(
        { remote, rejected: count, codes: Object.fromEntries(window.suppressed), intervalSec: seconds },
        `${count} more requests from ${remote} rejected in the last ${seconds} s (summarised: the first ${this.perCode} of each code are logged in full; metrics count every one)`,
      )
    }
    this.sources = new Map()
    this.windowStart = this.now()
  }

  /** The last summaries, and no more timer. */
  close(): void {
    clearInterval(this.timer)
    this.flush()
  }

  private windowFor(remote: string): SourceWindow {
    let window = this.sources.get(remote)
    if (window === undefined) {
      const key = this.sources.size >= this.maxSources ? OTHER_SOURCES : remote
      window = this.sources.get(key)
      if (window === undefined) this.sources.set(key, (window = { logged: new Map(), suppressed: new Map() }))
    }
    return window
  }
}
