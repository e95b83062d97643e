/**
 * `/readyz`: whether every dependency answers, cached for a short interval (default 1 s) and
 * probed by one caller at a time, so a flood of /readyz costs at most one round of probes per
 * interval instead of one per request. The answer names only the kind of dependency that is
 * down ("redis", "postgres (records)"), never its host, port, database or error text: those go
 * to the log, once when a dependency goes down and once when it is back.
 */
import type { Logger } from '../logger.js'

export interface Dependency {
  /** What /readyz calls it: a kind, never an address. */
  name: string
  probe: () => Promise<unknown>
}

export interface ReadinessOptions {
  /** How long an answer is reused. Default 1000 ms. */
  cacheMs?: number
  /** A probe that has not answered by then counts as down. Default 2000 ms. */
  timeoutMs?: number
  logger?: Pick<Logger, 'warn' | 'info'>
  /** Extra fields read at each answer (no I/O): fallbacks and queues. */
  extra?: () => Record<string, unknown>
  now?: () => number
}

export interface ReadinessReport {
  ok: boolean
  body: { status: 'ready' | 'unavailable'; checks: Array<{ store: string; ok: boolean }>; [field: string]: unknown }
}

export class Readiness {
  private cached: { at: number; checks: Array<{ store: string; ok: boolean }> } | undefined
  private running: Promise<Array<{ store: string; ok: boolean }>> | undefined
  private readonly down = new Set<string>()
  private readonly cacheMs: number
  private readonly timeoutMs: number
  private readonly now: () => number

  constructor(
    private readonly dependencies: readonly Dependency[],
    private readonly options: ReadinessOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 1000
    this.timeoutMs = options.timeoutMs ?? 2000
    this.now = options.now ?? Date.now
  }

  async report(): Promise<ReadinessReport> {
    const checks = await this.checks()
    const ok = checks.every((c) => c.ok)
    return { ok, body: { status: ok ? 'ready' : 'unavailable', checks, ...this.options.extra?.() } }
  }

  private checks(): Promise<Array<{ store: string; ok: boolean }>> {
    const cached = this.cached
    if (cached !== undefined && this.now() - cached.at < this.cacheMs) return Promise.resolve(cached.checks)
    this.running ??= this.probeAll().finally(() => (this.running = undefined))
    return this.running
  }

  private async probeAll(): Promise<Array<{ store: string; ok: boolean }>> {
    const checks = await Promise.all(this.dependencies.map(async ({ name, probe }) => ({ store: name, ok: await this.probe(name, probe) })))
    this.cached = { at: this.now(), checks }
    return checks
  }

  private async probe(name: string, probe: () => Promise<unknown>): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)))])
      if (this.down.delete(name)) this.options.logger?.info({ dependency: name }, `readiness: ${name} answers again`)
      return true
    } catch (err) {
      if (!this.down.has(name)) {
        this.down.add(name)
        this.options.logger?.warn({ code: 'WX_ERR_STORAGE', dependency: name, err: err instanceof Error ? err.message : String(err) }, `readiness: ${name} does not answer; /readyz says 503 until it does`)
      }
      return false
    } finally {
      clearTimeout(timer)
    }
  }
}
