/**
 * The audit log: who did what, when, from where, and whether it worked. Every operator action
 * (sign-in and its failures, sign-out, answers, pauses, menu publishes, tag changes, rules)
 * writes one row before the console answers.
 */
import type { SqlDatabase } from '../records/sql-database.js'

export interface AuditEntry {
  operator: string
  action: string
  /** What it was done to: an OpenID, a tag id, "menu"… */
  target?: string | undefined
  /** Extra facts as JSON (never a password, a token or a secret). */
  detail?: unknown
  remote?: string | undefined
  ok: boolean
}

export interface AuditRow extends Omit<AuditEntry, 'detail'> {
  id: number
  at: number
  detail: unknown
}

const MAX_DETAIL = 8000

export class AuditLog {
  constructor(
    private readonly db: SqlDatabase,
    private readonly appId: string,
    private readonly now: () => number = Date.now,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    let detail = entry.detail === undefined ? null : JSON.stringify(entry.detail)
    if (detail !== null && detail.length > MAX_DETAIL) detail = JSON.stringify({ truncated: detail.slice(0, MAX_DETAIL) })
    await this.db.run('INSERT INTO wxmp_console_audit (app_id, at, operator, action, target, detail, remote, ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      this.appId,
      this.now(),
      entry.operator.slice(0, 100),
      entry.action,
      entry.target?.slice(0, 200) ?? null,
      detail,
      entry.remote?.slice(0, 100) ?? null,
      entry.ok ? 1 : 0,
    ])
  }

  /** Newest first; `beforeId` pages back. */
  async list(options: { limit?: number; beforeId?: number } = {}): Promise<AuditRow[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 50), 200)
    const rows = await this.db.all(
      `SELECT id, at, operator, action, target, detail, remote, ok FROM wxmp_console_audit WHERE app_id = ?${options.beforeId === undefined ? '' : ' AND id < ?'} ORDER BY id DESC LIMIT ?`,
      options.beforeId === undefined ? [this.appId, limit] : [this.appId, options.beforeId, limit],
    )
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      operator: r.operator as string,
      action: r.action as string,
      target: (r.target as string | null) ?? undefined,
      detail: parseDetail(r.detail as string | null),
      remote: (r.remote as string | null) ?? undefined,
      ok: Number(r.ok) === 1,
    }))
  }
}

function parseDetail(text: string | null): unknown {
  if (text === null) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
