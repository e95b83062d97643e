import { WxmpError } from '../errors.js'
import { optionalString, requireCount, requireOneOf, requireString, requireTimeMs } from './check.js'
import { PgMessageBatch } from './pg-batch.js'
import { isRowRef, retryKeyOf, rowRefOf } from './row-ref.js'
import type { SqlDatabase, SqlParam } from './sql-database.js'

/** One inbound message or event as the webhook received it. */
export interface InboundMessage {
  /** The account's AppID (empty when the bot runs without one). */
  appId: string
  /** The dedup key: MsgId for messages, FromUserName + CreateTime (+ Event/EventKey) for events. */
  msgKey: string
  /** FromUserName. */
  openid: string
  msgType: string
  event?: string | undefined
  /** MsgId as a string: it exceeds 2^53. */
  msgId?: string | undefined
  /** WeChat's CreateTime in seconds, as sent. */
  createTime: number
  /** The plaintext XML (after decryption). */
  rawXml: string
  /** Unix milliseconds when the request arrived. */
  receivedAt: number
  /** Whether the request came encrypted (safe or compatible mode). */
  encrypted: boolean
  /** The account's short name (several accounts in one server). Default `default`. */
  account?: string | undefined
}

export const REPLY_VIA = ['passive', 'customer-service', 'none', 'next-message'] as const
export type ReplyVia = (typeof REPLY_VIA)[number]
export const REPLY_STATUS = ['sent', 'out-of-window', 'no-permission', 'quota', 'failed', 'dropped', 'pending', 'expired'] as const
export type ReplyStatus = (typeof REPLY_STATUS)[number]

/** What became of a message: the reply and how it left, the handler's time and error. */
export interface MessageOutcome {
  replyXml?: string | undefined
  replyVia: ReplyVia
  replyStatus?: ReplyStatus | undefined
  latencyMs: number
  /** A message, or an Error whose name and message are kept. */
  error?: unknown
}

/** A row of the message log. `completedAt` is null until the outcome is recorded. */
export interface MessageRecord {
  id: number
  appId: string
  /** The account's short name (`default` for the environment-variable account); always set on rows read back. */
  account?: string
  msgKey: string
  openid: string
  msgType: string
  event: string | null
  msgId: string | null
  createTime: number
  rawXml: string
  encrypted: boolean
  receivedAt: number
  /** How many times WeChat delivered it (its retries share one row). */
  deliveries: number
  replyVia: ReplyVia | null
  replyStatus: ReplyStatus | null
  replyXml: string | null
  latencyMs: number | null
  error: string | null
  completedAt: number | null
}

export interface RecentQuery {
  /** Most rows returned. Default 20, at most 1000. */
  limit?: number
  /** Only rows after this id, oldest first (for following the log). */
  afterId?: number
  appId?: string
  /** Only this account's rows (by its short name). */
  account?: string
  openid?: string
}

const MAX_ERROR_LENGTH = 4000
/** The account of rows written without one (and of rows from before migration 5). */
export const DEFAULT_ACCOUNT_NAME = 'default'
const COLUMNS =
  'id, app_id, msg_key, openid, msg_type, event, msg_id, create_time, raw_xml, encrypted, received_at, deliveries, ' +
  'reply_via, reply_status, reply_xml, latency_ms, error, completed_at, account'

const INSERT_COLUMNS = 'app_id, msg_key, openid, msg_type, event, msg_id, create_time, raw_xml, encrypted, received_at, account'
/** One row's placeholders for INSERT_COLUMNS. */
export const INSERT_VALUES = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?'
/** The same for BULK_SQL, where raw_xml comes as UTF-8 bytes. */
const BULK_INSERT_VALUES = '?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?'
/**
 * The unique key that ties WeChat's retries to one row. On SQLite it is (app_id, create_time,
 * msg_key) since migration 6: a retry carries the same CreateTime, and an index that begins
 * with the time takes each new row near its end, where (app_id, msg_key), which begins with
 * the sender, took it on a random page (a page read and a page written per message: most of
 * the writer thread's work, bench/README.md). PostgreSQL keeps (app_id, msg_key), which
 * instances of an older wxmp sharing the database still name in their ON CONFLICT.
 */
const RETRY_KEY: Record<SqlDatabase['kind'], string> = { sqlite: 'app_id, create_time, msg_key', postgres: 'app_id, msg_key' }
const onRetry = (kind: SqlDatabase['kind']) => `ON CONFLICT (${RETRY_KEY[kind]}) DO UPDATE SET deliveries = wxmp_messages.deliveries + 1`
const insertSql = (kind: SqlDatabase['kind']) => `INSERT INTO wxmp_messages (${INSERT_COLUMNS}) VALUES (${INSERT_VALUES}) ${onRetry(kind)} RETURNING id`
const UPDATE_OUTCOME = `UPDATE wxmp_messages
  SET reply_via = ?, reply_status = ?, reply_xml = ?, latency_ms = ?, error = ?, completed_at = ?
  WHERE id = ?`

/**
 * The message log: every inbound message and event with its raw XML, and what became of it.
 * `recordInbound` commits before it resolves, so a row whose reply went out survives a crash.
 * A retry of the same message (same `msgKey`) counts a delivery on the first row.
 *
 * @example
 * const id = await records.messages.recordInbound({ appId, msgKey, openid, msgType: 'text', msgId,
 *   createTime: 1700000000, rawXml, receivedAt: Date.now(), encrypted: false })
 * await records.messages.recordOutcome(id, { replyXml, replyVia: 'passive', latencyMs: 12 })
 */
export class MessageLog {
  /**
   * Runs before every read (and direct write): the server's appended log
   * (src/records/logged-recorder.ts) loads what it holds first, so a read sees every message
   * recorded before it.
   */
  beforeRead: (() => Promise<void>) | undefined

  /** On PostgreSQL, the writes of one event-loop turn share one round trip (src/records/pg-batch.ts). */
  private readonly batch: PgMessageBatch | undefined
  private readonly insert: string

  /**
   * On PostgreSQL, the row's reference before it is written (src/records/row-ref.ts): the bot
   * records a message answered at once with the reference, and its outcome then goes in the
   * message's own INSERT (src/records/pg-batch.ts). Undefined on SQLite, where the server's
   * appended log (src/records/logged-recorder.ts) does the same.
   */
  readonly idOf: ((entry: InboundMessage) => string) | undefined

  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => number = Date.now,
  ) {
    this.insert = insertSql(db.kind)
    this.batch = db.kind === 'postgres' ? new PgMessageBatch(db, { outcome: UPDATE_OUTCOME }) : undefined
    // checked like recordInbound checks it: a refused message gets no reference, so no outcome
    // is recorded for a row that will never be there
    this.idOf = this.batch === undefined ? undefined : (entry) => (inboundParams(entry), rowRefOf(entry))
  }

  /** Writes the message (committed when this resolves) and returns its row id. */
  async recordInbound(message: InboundMessage): Promise<number> {
    const params = inboundParams(message)
    if (this.batch !== undefined) return this.batch.insert(params)
    await this.beforeRead?.() // an appended record of the same message goes in first
    return Number(await this.db.value<number>(this.insert, params))
  }

  /** Records the reply and how it left. Calling it again (a late customer-service reply) overwrites. */
  async recordOutcome(id: number | string, outcome: MessageOutcome): Promise<void> {
    if (isRowRef(id)) return this.recordOutcomeByKey(id, outcome)
    const rowId = requireRowId(id)
    const params = [...outcomeParams(outcome, this.now()), rowId]
    const changed = this.batch !== undefined ? ((await this.batch.outcome(params)) ? 1 : 0) : await this.db.run(UPDATE_OUTCOME, params)
    if (changed === 0) {
      throw new WxmpError('WX_ERR_STORAGE', `message log has no row with id ${rowId}: was it pruned, or is the id from another database?`)
    }
  }

  /** The outcome of the row a reference names (`idOf`; on SQLite, the appended log's). */
  private async recordOutcomeByKey(ref: string, outcome: MessageOutcome): Promise<void> {
    const key = retryKeyOf(ref)
    if (key === undefined) throw new TypeError(`message id ${JSON.stringify(ref.slice(0, 60))} is not one this message log gave`)
    const values = outcomeParams(outcome, this.now())
    let changed: number
    if (this.batch !== undefined) changed = (await this.batch.outcomeByKey(key.appId, key.msgKey, values)) ? 1 : 0
    else {
      await this.beforeRead?.() // its row may still be in the appended log
      changed =
        key.createTime === undefined
          ? await this.db.run(BULK_SQL.outcomeByKeyAlone, [...values, key.appId, key.msgKey])
          : await this.db.run(BULK_SQL.outcomeByKey, [...values, key.appId, key.createTime, key.msgKey])
    }
    if (changed === 0) throw new WxmpError('WX_ERR_STORAGE', `message log has no row for ${JSON.stringify(ref.slice(0, 80))}: was it pruned, or is it from another database?`)
  }

  async get(id: number | string): Promise<MessageRecord | undefined> {
    await this.beforeRead?.()
    const [row] = await this.db.all(`SELECT ${COLUMNS} FROM wxmp_messages WHERE id = ?`, [requireRowId(id)])
    return row === undefined ? undefined : toRecord(row)
  }

  /**
   * The latest `limit` rows, oldest first; with `afterId`, the first `limit` rows after it
   * (what `wxmp log tail` polls).
   */
  async recent(query: RecentQuery = {}): Promise<MessageRecord[]> {
    const limit = requireCount('limit', query.limit ?? 20, 1, 1000)
    const where: string[] = []
    const params: SqlParam[] = []
    if (query.afterId !== undefined) {
      where.push('id > ?')
      params.push(requireCount('afterId', query.afterId, 0, Number.MAX_SAFE_INTEGER))
    }
    if (query.appId !== undefined) {
      where.push('app_id = ?')
      params.push(requireString('appId', query.appId))
    }
    if (query.account !== undefined) {
      where.push('account = ?')
      params.push(requireString('account', query.account))
    }
    if (query.openid !== undefined) {
      where.push('openid = ?')
      params.push(requireString('openid', query.openid))
    }
    const order = query.afterId === undefined ? 'DESC' : 'ASC'
    await this.beforeRead?.()
    const rows = await this.db.all(
      `SELECT ${COLUMNS} FROM wxmp_messages${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${order} LIMIT ?`,
      [...params, limit],
    )
    const records = rows.map(toRecord)
    return order === 'DESC' ? records.reverse() : records
  }

  /** Deletes rows received before `receivedBefore` (Unix ms); returns how many. */
  async prune(receivedBefore: number): Promise<number> {
    await this.beforeRead?.()
    return this.db.run('DELETE FROM wxmp_messages WHERE received_at < ?', [requireTimeMs('receivedBefore', receivedBefore)])
  }
}

/** The INSERT's parameters for a message, checked (TypeError/RangeError name the field). */
export function inboundParams(message: InboundMessage): SqlParam[] {
  const params: SqlParam[] = [
    requireString('appId', message.appId),
    requireString('msgKey', message.msgKey),
    requireString('openid', message.openid),
    requireString('msgType', message.msgType),
    optionalString('event', message.event),
    optionalString('msgId', message.msgId),
    requireCount('createTime', message.createTime, 0, Number.MAX_SAFE_INTEGER),
    requireString('rawXml', message.rawXml),
    requireBoolean('encrypted', message.encrypted),
    requireTimeMs('receivedAt', message.receivedAt),
    message.account === undefined ? DEFAULT_ACCOUNT_NAME : requireString('account', message.account),
  ]
  if (message.msgKey === '') throw new TypeError('msgKey must not be empty: it is what ties retries to one row')
  return params
}

/** The outcome columns' values (reply_via … completed_at), checked. */
export function outcomeParams(outcome: MessageOutcome, completedAt: number): SqlParam[] {
  return [
    requireOneOf('replyVia', outcome.replyVia, REPLY_VIA),
    outcome.replyStatus === undefined ? null : requireOneOf('replyStatus', outcome.replyStatus, REPLY_STATUS),
    optionalString('replyXml', outcome.replyXml),
    requireCount('latencyMs', Math.max(0, Math.round(outcome.latencyMs)), 0, 2 ** 31 - 1),
    errorText(outcome.error),
    completedAt,
  ]
}

/**
 * The statements that load appended records in bulk (src/records/logged-recorder.ts): an
 * inbound row; an inbound row with its outcome (a retry's second inbound counts a delivery and
 * takes the newer outcome); an outcome for a row loaded earlier, found by its retry key (the
 * AppID, CreateTime and dedup key); and one appended before migration 6, whose record has no
 * CreateTime, found by scanning back from the newest row (the row is recent: it was loaded a
 * load or so earlier).
 *
 * The writer thread binds the two XML columns (raw_xml, reply_xml) as the UTF-8 bytes the
 * appended record already holds, and SQLite casts them to TEXT: no JS string is made from them
 * and encoded back (src/records/sqlite-writer-worker.ts, BYTES_FIELD).
 */
export const BULK_SQL = {
  insert: `INSERT INTO wxmp_messages (${INSERT_COLUMNS}) VALUES (${BULK_INSERT_VALUES}) ${onRetry('sqlite')}`,
  insertDone: `INSERT INTO wxmp_messages (${INSERT_COLUMNS}, reply_via, reply_status, reply_xml, latency_ms, error, completed_at)
    VALUES (${BULK_INSERT_VALUES}, ?, ?, CAST(? AS TEXT), ?, ?, ?)
    ON CONFLICT (${RETRY_KEY.sqlite}) DO UPDATE SET deliveries = wxmp_messages.deliveries + 1, reply_via = excluded.reply_via,
      reply_status = excluded.reply_status, reply_xml = excluded.reply_xml, latency_ms = excluded.latency_ms, error = excluded.error,
      completed_at = excluded.completed_at`,
  outcomeByKey: `UPDATE wxmp_messages
    SET reply_via = ?, reply_status = ?, reply_xml = CAST(? AS TEXT), latency_ms = ?, error = ?, completed_at = ?
    WHERE app_id = ? AND create_time = ? AND msg_key = ?`,
  // NOT INDEXED: from the newest row back, not through the per-follower index the planner might pick
  outcomeByKeyAlone: `UPDATE wxmp_messages
    SET reply_via = ?, reply_status = ?, reply_xml = CAST(? AS TEXT), latency_ms = ?, error = ?, completed_at = ?
    WHERE id = (SELECT id FROM wxmp_messages NOT INDEXED WHERE app_id = ? AND msg_key = ? ORDER BY id DESC LIMIT 1)`,
} as const

function requireBoolean(field: string, value: unknown): number {
  if (typeof value !== 'boolean') throw new TypeError(`${field} must be a boolean, got ${typeof value}`)
  return value ? 1 : 0
}

function requireRowId(id: unknown): number {
  const n = typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : id
  return requireCount('message id', n, 1, Number.MAX_SAFE_INTEGER)
}

function errorText(error: unknown): string | null {
  if (error === undefined || error === null) return null
  let text: string
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    text = `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`
  } else {
    text = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error)
  }
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}… (${text.length} characters)` : text
}

function toRecord(row: Record<string, unknown>): MessageRecord {
  const num = (v: unknown) => (v === null ? null : Number(v))
  return {
    id: Number(row.id),
    appId: row.app_id as string,
    account: (row.account as string | null) ?? DEFAULT_ACCOUNT_NAME,
    msgKey: row.msg_key as string,
    openid: row.openid as string,
    msgType: row.msg_type as string,
    event: row.event as string | null,
    msgId: row.msg_id as string | null,
    createTime: Number(row.create_time),
    rawXml: row.raw_xml as string,
    encrypted: Number(row.encrypted) === 1,
    receivedAt: Number(row.received_at),
    deliveries: Number(row.deliveries),
    replyVia: row.reply_via as ReplyVia | null,
    replyStatus: row.reply_status as ReplyStatus | null,
    replyXml: row.reply_xml as string | null,
    latencyMs: num(row.latency_ms),
    error: row.error as string | null,
    completedAt: num(row.completed_at),
  }
}
