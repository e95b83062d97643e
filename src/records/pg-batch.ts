/**
 * The message log on PostgreSQL, one round trip per event-loop turn instead of one per message:
 * the inbound rows of a turn go in one multi-row INSERT (RETURNING their ids, matched back by
 * AppID and dedup key), the outcomes of a turn in one UPDATE … FROM (VALUES …). Each is one
 * statement, so one transaction: every promise of the turn settles after its COMMIT, as with a
 * statement per message ("resolved" still means "committed"). If a batch fails, its rows are
 * tried one by one, so that one bad row rejects only its own promise.
 *
 * While one turn's statements are on their way, the next turns' rows wait and go together when
 * they are back: under load a statement then carries many turns (the writes to PostgreSQL's
 * socket, each of which wakes it, are what a row costs most), and an idle server still writes
 * every turn at once.
 *
 * A key that appears twice in one turn (WeChat's retry recorded again) would make PostgreSQL
 * refuse the whole INSERT ("cannot affect row a second time"): the second goes in the next
 * statement of the same flush. Same for an outcome written twice: the later one wins.
 */
import type { SqlDatabase, SqlParam } from './sql-database.js'

interface Pending<T> {
  params: SqlParam[]
  resolve(value: T): void
  reject(err: unknown): void
}

/** Most rows in one statement (PostgreSQL takes at most 65 535 parameters). */
const MAX_ROWS = 500
const INSERT_COLUMNS = 'app_id, msg_key, openid, msg_type, event, msg_id, create_time, raw_xml, encrypted, received_at, account'
// typed, because a VALUES list gives PostgreSQL no column to infer types from
const OUTCOME_TYPES = ['text', 'text', 'text', 'integer', 'text', 'bigint', 'bigint']

export class PgMessageBatch {
  private inbound: Pending<number>[] = []
  private outcomes: Pending<boolean>[] = []
  private scheduled = false
  private flushing = false

  constructor(
    private readonly db: SqlDatabase,
    /** The single-row statements, for a batch that failed. */
    private readonly single: { insert: string; outcome: string },
  ) {}

  /** Resolves with the row id once the turn's INSERT is committed. */
  insert(params: SqlParam[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.inbound.push({ params, resolve, reject })
      this.schedule()
    })
  }

  /** `params`: the six outcome values, then the row id. Resolves once committed: true when the row was there. */
  outcome(params: SqlParam[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.outcomes.push({ params, resolve, reject })
      this.schedule()
    })
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private readonly flush = () => {
    this.scheduled = false
    const inbound = this.inbound
    const outcomes = this.outcomes
    this.inbound = []
    this.outcomes = []
    this.flushing = true
    // inserts first: an outcome of the same turn may be for a row inserted by it
    void this.flushInbound(inbound)
      .then(() => this.flushOutcomes(outcomes))
      .finally(() => {
        this.flushing = false
        if (this.inbound.length > 0 || this.outcomes.length > 0) this.schedule()
      })
  }

  private async flushInbound(all: Pending<number>[]): Promise<void> {
    for (const group of distinctGroups(all, (p) => `${String(p.params[0])}\u0000${String(p.params[1])}`)) {
      for (let i = 0; i < group.length; i += MAX_ROWS) {
        const chunk = group.slice(i, i + MAX_ROWS)
        const values = chunk.map(() => `(${'?, '.repeat(10)}?)`).join(', ')
        const sql = `INSERT INTO wxmp_messages (${INSERT_COLUMNS}) VALUES ${values}
          ON CONFLICT (app_id, msg_key) DO UPDATE SET deliveries = wxmp_messages.deliveries + 1
          RETURNING id, app_id, msg_key`
        try {
          const rows = await this.db.all<{ id: number; app_id: string; msg_key: string }>(sql, chunk.flatMap((p) => p.params))
          const ids = new Map(rows.map((row) => [`${row.app_id}\u0000${row.msg_key}`, Number(row.id)]))
          for (const p of chunk) {
            const id = ids.get(`${String(p.params[0])}\u0000${String(p.params[1])}`)
            if (id === undefined) p.reject(new Error('the batch INSERT returned no id for this row'))
            else p.resolve(id)
          }
        } catch {
          await Promise.all(chunk.map(async (p) => {
            try {
              p.resolve(Number(await this.db.value<number>(this.single.insert, p.params)))
            } catch (err) {
              p.reject(err)
            }
          }))
        }
      }
    }
  }

  private async flushOutcomes(all: Pending<boolean>[]): Promise<void> {
    for (const group of distinctGroups(all, (p) => String(p.params[6]))) {
      for (let i = 0; i < group.length; i += MAX_ROWS) {
        const chunk = group.slice(i, i + MAX_ROWS)
        const values = chunk.map(() => `(${OUTCOME_TYPES.map((type) => `?::${type}`).join(', ')})`).join(', ')
        const sql = `UPDATE wxmp_messages AS m SET reply_via = v.reply_via, reply_status = v.reply_status, reply_xml = v.reply_xml,
            latency_ms = v.latency_ms, error = v.error, completed_at = v.completed_at
          FROM (VALUES ${values}) AS v (reply_via, reply_status, reply_xml, latency_ms, error, completed_at, id)
          WHERE m.id = v.id RETURNING m.id`
        try {
          const rows = await this.db.all<{ id: number }>(sql, chunk.flatMap((p) => p.params))
          const updated = new Set(rows.map((row) => Number(row.id)))
          for (const p of chunk) p.resolve(updated.has(Number(p.params[6])))
        } catch {
          await Promise.all(chunk.map(async (p) => {
            try {
              p.resolve((await this.db.run(this.single.outcome, p.params)) > 0)
            } catch (err) {
              p.reject(err)
            }
          }))
        }
      }
    }
  }
}

/**
 * Splits `all` into groups in which no key appears twice, keeping order: the first occurrence
 * of each key in the first group, the second in the next, and so on.
 */
function distinctGroups<T>(all: T[], keyOf: (item: T) => string): T[][] {
  const groups: T[][] = []
  const seen = new Map<string, number>()
  for (const item of all) {
    const key = keyOf(item)
    const index = seen.get(key) ?? 0
    seen.set(key, index + 1)
    ;(groups[index] ??= []).push(item)
  }
  return groups
}
