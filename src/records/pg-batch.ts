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
 * An outcome recorded by the row's reference (src/records/row-ref.ts) while its row still waits
 * for the turn's INSERT goes in that INSERT: a message answered at once is one row written once,
 * not an INSERT and then an UPDATE, which on PostgreSQL writes the row a second time with its
 * index entries (the page is full, so it is no heap-only update) and leaves a dead row to vacuum.
 * An outcome whose row has left already updates it by (AppID, dedup key) in the next statement.
 *
 * A key that appears twice in one turn (WeChat's retry recorded again) would make PostgreSQL
 * refuse the whole INSERT ("cannot affect row a second time"): the second goes in the next
 * statement of the same flush. Same for an outcome written twice: the later one wins.
 */
import type { SqlDatabase, SqlParam } from './sql-database.js'

interface Waiter<T> {
  resolve(value: T): void
  reject(err: unknown): void
}

interface Inbound extends Waiter<number> {
  /** The eleven INSERT_COLUMNS values. */
  params: SqlParam[]
  /** AppID and dedup key, the unique key on PostgreSQL. */
  key: string
  /** The six outcome values, when the outcome came before the INSERT left; and who waits for it. */
  outcome?: { values: SqlParam[]; waiters: Waiter<boolean>[] }
}

interface Outcome extends Waiter<boolean> {
  /** The six outcome values, then the row id (by id) or the AppID and dedup key (by key). */
  params: SqlParam[]
}

/** How an outcome finds its row: by id, or by the unique key. */
interface OutcomeTarget {
  columns: string[]
  types: string[]
  where: string
  returning: string
  keyOf(params: SqlParam[]): string
  keyOfRow(row: Record<string, unknown>): string
}

/** Most rows in one statement (PostgreSQL takes at most 65 535 parameters). */
const MAX_ROWS = 500
const INSERT_COLUMNS = 'app_id, msg_key, openid, msg_type, event, msg_id, create_time, raw_xml, encrypted, received_at, account'
const OUTCOME_COLUMNS = ['reply_via', 'reply_status', 'reply_xml', 'latency_ms', 'error', 'completed_at']
// typed, because a VALUES list gives PostgreSQL no column to infer types from
const OUTCOME_TYPES = ['text', 'text', 'text', 'integer', 'text', 'bigint']
const SET_OUTCOME = OUTCOME_COLUMNS.map((c) => `${c} = v.${c}`).join(', ')
// a retry's INSERT without an outcome keeps the one the row has
const KEEP_OR_TAKE_OUTCOME = OUTCOME_COLUMNS.map((c) => `${c} = CASE WHEN excluded.reply_via IS NULL THEN wxmp_messages.${c} ELSE excluded.${c} END`).join(', ')
const rowKey = (appId: unknown, msgKey: unknown) => `${String(appId)}\u0000${String(msgKey)}`

const BY_ID: OutcomeTarget = {
  columns: ['id'],
  types: ['bigint'],
  where: 'm.id = v.id',
  returning: 'm.id',
  keyOf: (params) => String(params[6]),
  keyOfRow: (row) => String(row.id),
}
/** One outcome by key, for a batch that failed. */
const UPDATE_OUTCOME_BY_KEY = `UPDATE wxmp_messages SET ${OUTCOME_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE app_id = ? AND msg_key = ?`
const BY_KEY: OutcomeTarget = {
  columns: ['app_id', 'msg_key'],
  types: ['text', 'text'],
  where: 'm.app_id = v.app_id AND m.msg_key = v.msg_key',
  returning: 'm.app_id, m.msg_key',
  keyOf: (params) => rowKey(params[6], params[7]),
  keyOfRow: (row) => rowKey(row.app_id, row.msg_key),
}

export class PgMessageBatch {
  private inbound: Inbound[] = []
  /** The rows of `inbound` by key (the latest, when a retry is there twice). */
  private inboundByKey = new Map<string, Inbound>()
  private outcomes: Outcome[] = []
  private keyedOutcomes: Outcome[] = []
  private scheduled = false
  private flushing = false

  constructor(
    private readonly db: SqlDatabase,
    /** The single-row outcome UPDATE by row id, for a batch that failed. */
    private readonly single: { outcome: string },
  ) {}

  /** Resolves with the row id once the turn's INSERT is committed. */
  insert(params: SqlParam[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const entry: Inbound = { params, key: rowKey(params[0], params[1]), resolve, reject }
      this.inbound.push(entry)
      this.inboundByKey.set(entry.key, entry)
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

  /**
   * The outcome of the row with this AppID and dedup key: in its INSERT when that has not left
   * yet, else an UPDATE by key. Resolves once committed: true when the row was there.
   */
  outcomeByKey(appId: string, msgKey: string, values: SqlParam[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const waiting = this.inboundByKey.get(rowKey(appId, msgKey))
      if (waiting !== undefined) {
        // a second outcome before the INSERT left (a late reply at once) overwrites the first
        if (waiting.outcome === undefined) waiting.outcome = { values, waiters: [{ resolve, reject }] }
        else {
          waiting.outcome.values = values
          waiting.outcome.waiters.push({ resolve, reject })
        }
        return
      }
      this.keyedOutcomes.push({ params: [...values, appId, msgKey], resolve, reject })
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
    const keyedOutcomes = this.keyedOutcomes
    this.inbound = []
    this.inboundByKey = new Map()
    this.outcomes = []
    this.keyedOutcomes = []
    this.flushing = true
    // The INSERT's waiters are settled after the next statement has left, not before: settling
    // runs each row's message on (its stored answer, its reply), a turn's worth of work in
    // microtasks, and the next statement would wait behind all of it while PostgreSQL idles.
    // Under load that wait was a fifth of each statement's cycle (bench/README.md). The pool
    // hands out its connection on process.nextTick, so the settling goes on a tick queued after
    // (the statement's write leaves in the first tick, the waiters go on in the second).
    const settlements: Array<() => void> = []
    const settle = () => {
      for (const done of settlements.splice(0)) done()
    }
    // inserts first: an outcome of the same turn may be for a row inserted by it
    void this.flushInbound(inbound, settlements)
      .then(async () => {
        // outcome statements follow: the rows need not wait for them
        if (outcomes.length > 0 || keyedOutcomes.length > 0) settle()
        await this.flushOutcomes(outcomes, BY_ID, this.single.outcome)
        await this.flushOutcomes(keyedOutcomes, BY_KEY, UPDATE_OUTCOME_BY_KEY)
      })
      .finally(() => {
        this.flushing = false
        // at once, not on the next turn: what waits now goes in the next statement (see above)
        if (this.inbound.length > 0 || this.outcomes.length > 0 || this.keyedOutcomes.length > 0) this.flush()
        process.nextTick(settle)
      })
  }

  /** Writes the rows; how each row's promise settles goes in `settlements`, for the caller to run. */
  private async flushInbound(all: Inbound[], settlements: Array<() => void>): Promise<void> {
    for (const group of distinctGroups(all, (p) => p.key)) {
      for (let i = 0; i < group.length; i += MAX_ROWS) {
        const chunk = group.slice(i, i + MAX_ROWS)
        try {
          const rows = await this.db.all<{ id: number; app_id: string; msg_key: string }>(insertSql(chunk), insertParams(chunk))
          const ids = new Map(rows.map((row) => [rowKey(row.app_id, row.msg_key), Number(row.id)]))
          for (const p of chunk) {
            const id = ids.get(p.key)
            settlements.push(id === undefined ? () => settleInbound(p, new Error('the batch INSERT returned no id for this row')) : () => settleInbound(p, undefined, id))
          }
        } catch {
          // one by one, so that one bad row rejects only its own promise
          await Promise.all(chunk.map(async (p) => {
            try {
              const id = (await this.db.all<{ id: number }>(insertSql([p]), insertParams([p])))[0]?.id
              if (id === undefined) throw new Error('the INSERT returned no id for this row')
              settlements.push(() => settleInbound(p, undefined, Number(id)))
            } catch (err) {
              settlements.push(() => settleInbound(p, err))
            }
          }))
        }
      }
    }
  }

  private async flushOutcomes(all: Outcome[], target: OutcomeTarget, single: string): Promise<void> {
    const types = [...OUTCOME_TYPES, ...target.types]
    for (const group of distinctGroups(all, (p) => target.keyOf(p.params))) {
      for (let i = 0; i < group.length; i += MAX_ROWS) {
        const chunk = group.slice(i, i + MAX_ROWS)
        const values = chunk.map(() => `(${types.map((type) => `?::${type}`).join(', ')})`).join(', ')
        const sql = `UPDATE wxmp_messages AS m SET ${SET_OUTCOME}
          FROM (VALUES ${values}) AS v (${[...OUTCOME_COLUMNS, ...target.columns].join(', ')})
          WHERE ${target.where} RETURNING ${target.returning}`
        try {
          const rows = await this.db.all(sql, chunk.flatMap((p) => p.params))
          const updated = new Set(rows.map((row) => target.keyOfRow(row)))
          for (const p of chunk) p.resolve(updated.has(target.keyOf(p.params)))
        } catch {
          await Promise.all(chunk.map(async (p) => {
            try {
              p.resolve((await this.db.run(single, p.params)) > 0)
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
 * The INSERT of these rows; with the outcome columns when one of them has its outcome. Built
 * once per row count and shape: the same string each time, so the database layer's lookup of
 * its prepared statement hashes nothing new (bounded by MAX_ROWS, as the statements are).
 */
function insertSql(chunk: Inbound[]): string {
  const withOutcome = chunk.some((p) => p.outcome !== undefined)
  const shape = chunk.length * 2 + (withOutcome ? 1 : 0)
  let sql = insertTexts.get(shape)
  if (sql === undefined) {
    const placeholders = `(${'?, '.repeat(withOutcome ? 16 : 10)}?)`
    const values = chunk.map(() => placeholders).join(', ')
    sql = withOutcome
      ? `INSERT INTO wxmp_messages (${INSERT_COLUMNS}, ${OUTCOME_COLUMNS.join(', ')}) VALUES ${values}
      ON CONFLICT (app_id, msg_key) DO UPDATE SET deliveries = wxmp_messages.deliveries + 1, ${KEEP_OR_TAKE_OUTCOME}
      RETURNING id, app_id, msg_key`
      : `INSERT INTO wxmp_messages (${INSERT_COLUMNS}) VALUES ${values}
      ON CONFLICT (app_id, msg_key) DO UPDATE SET deliveries = wxmp_messages.deliveries + 1
      RETURNING id, app_id, msg_key`
    insertTexts.set(shape, sql)
  }
  return sql
}
const insertTexts = new Map<number, string>()

const NO_OUTCOME: SqlParam[] = [null, null, null, null, null, null]

function insertParams(chunk: Inbound[]): SqlParam[] {
  const withOutcome = chunk.some((p) => p.outcome !== undefined)
  const params: SqlParam[] = []
  for (const p of chunk) {
    params.push(...p.params)
    if (withOutcome) params.push(...(p.outcome?.values ?? NO_OUTCOME))
  }
  return params
}

function settleInbound(p: Inbound, err: unknown, id?: number): void {
  if (id === undefined) {
    p.reject(err)
    for (const waiter of p.outcome?.waiters ?? []) waiter.reject(err)
  } else {
    p.resolve(id)
    for (const waiter of p.outcome?.waiters ?? []) waiter.resolve(true)
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
