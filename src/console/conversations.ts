/**
 * The inbox's reads: conversations (one per follower, newest first), a conversation's
 * messages, and the operators' own answers (kept in wxmp_console_replies, since they did not
 * come through the webhook). Queries of the console's own, on the records database.
 */
import { parseMessage } from '../messages/parse.js'
import type { MessageRecord, ReplyStatus, ReplyVia } from '../records/message-log.js'
import type { SqlDatabase, SqlParam } from '../records/sql-database.js'
import { toMessageView, type MessageView } from './message-view.js'

const COLUMNS =
  'id, app_id, msg_key, openid, msg_type, event, msg_id, create_time, raw_xml, encrypted, received_at, deliveries, ' +
  'reply_via, reply_status, reply_xml, latency_ms, error, completed_at'

export interface ConversationSummary {
  openid: string
  messages: number
  last: MessageView
  /** The last message the user typed or sent (not an event): the 48-hour window starts there. */
  lastUserMessageAt: number | null
  subscribed: boolean | null
}

export interface OperatorReply {
  id: number
  openid: string
  operator: string
  msgType: 'text' | 'image'
  content: string | null
  mediaId: string | null
  sentAt: number
  /** customer-service: sent at once; next-message: the passive reply of the user's next message (a pending answer). */
  via: 'customer-service' | 'next-message'
  /** customer service: sent, out-of-window, no-permission, quota, failed; next message: pending, sent, expired, failed */
  status: string
  /** A pending answer: when it stops waiting. */
  expiresAt?: number
  errcode: number | null
  error: string | null
}

/**
 * How an answer's way and status sit in the one `status` column: a customer-service answer's
 * status as is, a pending answer's as `next-message:<status>`.
 */
export function storedStatus(via: OperatorReply['via'], status: string): string {
  return via === 'next-message' ? `next-message:${status}` : status
}
export const PENDING_STORED = storedStatus('next-message', 'pending')

export class Conversations {
  constructor(
    private readonly db: SqlDatabase,
    private readonly appId: string,
    /** How long a pending answer waits (the bot's setting): its expiry is shown from it. */
    private readonly pendingTtlMs = 24 * 3600_000,
  ) {}

  /** Newest conversation first; `search` matches part of the OpenID. */
  async list(options: { limit?: number; search?: string; beforeId?: number } = {}): Promise<ConversationSummary[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 50), 200)
    const where = ['app_id = ?']
    const params: SqlParam[] = [this.appId]
    if (options.search !== undefined && options.search !== '') {
      where.push("openid LIKE ? ESCAPE '\\'")
      params.push(`%${options.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`)
    }
    const having = options.beforeId === undefined ? '' : ' HAVING MAX(id) < ?'
    if (options.beforeId !== undefined) params.push(options.beforeId)
    const groups = await this.db.all<{ openid: string; last_id: number; n: number }>(
      `SELECT openid, MAX(id) AS last_id, COUNT(*) AS n FROM wxmp_messages WHERE ${where.join(' AND ')} GROUP BY openid${having} ORDER BY last_id DESC LIMIT ?`,
      [...params, limit],
    )
    if (groups.length === 0) return []
    const marks = groups.map(() => '?').join(', ')
    const ids = groups.map((g) => Number(g.last_id))
    const openids = groups.map((g) => g.openid)
    const [rows, userTimes, followers] = await Promise.all([
      this.db.all(`SELECT ${COLUMNS} FROM wxmp_messages WHERE id IN (${marks})`, ids),
      this.db.all<{ openid: string; at: number }>(
        `SELECT openid, MAX(received_at) AS at FROM wxmp_messages WHERE app_id = ? AND msg_type <> 'event' AND openid IN (${marks}) GROUP BY openid`,
        [this.appId, ...openids],
      ),
      this.db.all<{ openid: string; subscribed: number }>(`SELECT openid, subscribed FROM wxmp_followers WHERE app_id = ? AND openid IN (${marks})`, [this.appId, ...openids]),
    ])
    const byId = new Map(rows.map((r) => [Number(r.id), toRecord(r)]))
    const userAt = new Map(userTimes.map((r) => [r.openid, Number(r.at)]))
    const state = new Map(followers.map((r) => [r.openid, Number(r.subscribed) === 1]))
    return groups.flatMap((g) => {
      const row = byId.get(Number(g.last_id))
      if (row === undefined) return [] // pruned between the two queries
      return [{ openid: g.openid, messages: Number(g.n), last: toMessageView(row), lastUserMessageAt: userAt.get(g.openid) ?? null, subscribed: state.get(g.openid) ?? null }]
    })
  }

  /** One follower's messages, oldest first; `beforeId` pages back. */
  async messages(openid: string, options: { limit?: number; beforeId?: number } = {}): Promise<MessageView[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 50), 200)
    const rows = await this.db.all(
      `SELECT ${COLUMNS} FROM wxmp_messages WHERE app_id = ? AND openid = ?${options.beforeId === undefined ? '' : ' AND id < ?'} ORDER BY id DESC LIMIT ?`,
      options.beforeId === undefined ? [this.appId, openid, limit] : [this.appId, openid, options.beforeId, limit],
    )
    return rows.map((r) => toMessageView(toRecord(r))).reverse()
  }

  /** Rows after `afterId` (oldest first) and the rows in `ids` (to pick up late outcomes). */
  async since(afterId: number, limit: number, ids: readonly number[] = []): Promise<MessageRecord[]> {
    const fresh = await this.db.all(`SELECT ${COLUMNS} FROM wxmp_messages WHERE app_id = ? AND id > ? ORDER BY id ASC LIMIT ?`, [this.appId, afterId, limit])
    const updated = ids.length === 0 ? [] : await this.db.all(`SELECT ${COLUMNS} FROM wxmp_messages WHERE id IN (${ids.map(() => '?').join(', ')}) AND completed_at IS NOT NULL`, [...ids])
    return [...updated, ...fresh].map(toRecord)
  }

  /** Rows received since `since` (ms) whose outcome is not recorded yet, newest first, at most `limit`. */
  async incompleteSince(since: number, limit: number): Promise<number[]> {
    const rows = await this.db.all<{ id: number }>('SELECT id FROM wxmp_messages WHERE app_id = ? AND received_at >= ? AND completed_at IS NULL ORDER BY id DESC LIMIT ?', [this.appId, since, limit])
    return rows.map((row) => Number(row.id))
  }

  async maxId(): Promise<number> {
    const [row] = await this.db.all<{ id: number | null }>('SELECT MAX(id) AS id FROM wxmp_messages WHERE app_id = ?', [this.appId])
    return Number(row?.id ?? 0)
  }

  /** When the user last sent a message (not an event), or null. */
  async lastUserMessageAt(openid: string): Promise<number | null> {
    const [row] = await this.db.all<{ at: number | null }>("SELECT MAX(received_at) AS at FROM wxmp_messages WHERE app_id = ? AND openid = ? AND msg_type <> 'event'", [this.appId, openid])
    return row?.at === null || row?.at === undefined ? null : Number(row.at)
  }

  async recordReply(reply: Omit<OperatorReply, 'id' | 'expiresAt'>): Promise<OperatorReply> {
    const [row] = await this.db.all<{ id: number }>(
      'INSERT INTO wxmp_console_replies (app_id, openid, operator, msg_type, content, media_id, sent_at, status, errcode, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      [this.appId, reply.openid, reply.operator, reply.msgType, reply.content, reply.mediaId, reply.sentAt, storedStatus(reply.via, reply.status), reply.errcode, reply.error],
    )
    return this.withExpiry({ ...reply, id: Number(row!.id) })
  }

  /** Moves a pending answer on (sent, expired, failed); false when it was not pending any more (another instance got there first). */
  async settleReply(id: number, status: 'sent' | 'expired' | 'failed', error: string | null = null): Promise<boolean> {
    const changed = await this.db.run('UPDATE wxmp_console_replies SET status = ?, error = COALESCE(?, error) WHERE app_id = ? AND id = ? AND status = ?', [
      storedStatus('next-message', status),
      error,
      this.appId,
      id,
      PENDING_STORED,
    ])
    return changed > 0
  }

  /** Answers still waiting for the user's next message (of these users, or of everyone), oldest first. */
  async pendingReplies(openids?: readonly string[]): Promise<OperatorReply[]> {
    if (openids !== undefined && openids.length === 0) return []
    const which = openids === undefined ? '' : ` AND openid IN (${openids.map(() => '?').join(', ')})`
    const rows = await this.db.all(
      `SELECT id, openid, operator, msg_type, content, media_id, sent_at, status, errcode, error FROM wxmp_console_replies WHERE app_id = ? AND status = ?${which} ORDER BY id LIMIT 500`,
      [this.appId, PENDING_STORED, ...(openids ?? [])],
    )
    return rows.map((r) => this.withExpiry(toReply(r)))
  }

  /**
   * Users with an answer waiting for their next message: a bot answer (a message-log row still
   * `pending`, received since `since`) or an operator's. Of `openids` only, when given.
   */
  async awaitingNextMessage(since: number, openids?: readonly string[]): Promise<string[]> {
    if (openids !== undefined && openids.length === 0) return []
    const which = openids === undefined ? '' : ` AND openid IN (${openids.map(() => '?').join(', ')})`
    const [bot, operators] = await Promise.all([
      this.db.all<{ openid: string }>(`SELECT DISTINCT openid FROM wxmp_messages WHERE app_id = ? AND received_at >= ? AND reply_status = 'pending'${which} LIMIT 1000`, [this.appId, since, ...(openids ?? [])]),
      this.db.all<{ openid: string }>(`SELECT DISTINCT openid FROM wxmp_console_replies WHERE app_id = ? AND status = ?${which} LIMIT 1000`, [this.appId, PENDING_STORED, ...(openids ?? [])]),
    ])
    return [...new Set([...bot, ...operators].map((r) => r.openid))]
  }

  /** The account the user wrote to (ToUserName of their latest message): names their pending-answer queue when there is no AppID. */
  async accountIdOf(openid: string): Promise<string | undefined> {
    const [row] = await this.db.all<{ raw_xml: string }>('SELECT raw_xml FROM wxmp_messages WHERE app_id = ? AND openid = ? ORDER BY id DESC LIMIT 1', [this.appId, openid])
    if (row === undefined) return undefined
    try {
      return parseMessage(row.raw_xml).ToUserName
    } catch {
      return undefined
    }
  }

  /** One user's rows before `beforeId` whose outcome was written after `after` (a pending answer delivered by a later message). */
  async updatedBefore(openid: string, beforeId: number, after: number): Promise<MessageRecord[]> {
    const rows = await this.db.all(`SELECT ${COLUMNS} FROM wxmp_messages WHERE app_id = ? AND openid = ? AND id < ? AND completed_at > ? ORDER BY id DESC LIMIT 20`, [this.appId, openid, beforeId, after])
    return rows.map(toRecord).reverse()
  }

  private withExpiry(reply: OperatorReply): OperatorReply {
    return reply.via === 'next-message' ? { ...reply, expiresAt: reply.sentAt + this.pendingTtlMs } : reply
  }

  /** Operator answers to one follower, oldest first (the latest `limit`). */
  async replies(openid: string, options: { limit?: number; since?: number } = {}): Promise<OperatorReply[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 100), 500)
    const rows = await this.db.all(
      `SELECT id, openid, operator, msg_type, content, media_id, sent_at, status, errcode, error FROM wxmp_console_replies WHERE app_id = ? AND openid = ?${options.since === undefined ? '' : ' AND sent_at >= ?'} ORDER BY id DESC LIMIT ?`,
      options.since === undefined ? [this.appId, openid, limit] : [this.appId, openid, options.since, limit],
    )
    return rows.map((r) => this.withExpiry(toReply(r))).reverse()
  }
}

function toReply(r: Record<string, unknown>): OperatorReply {
  const stored = r.status as string
  const pending = stored.startsWith('next-message:')
  return {
    via: pending ? 'next-message' : 'customer-service',
    status: pending ? stored.slice('next-message:'.length) : stored,
    id: Number(r.id),
    openid: r.openid as string,
    operator: r.operator as string,
    msgType: r.msg_type as 'text' | 'image',
    content: r.content as string | null,
    mediaId: r.media_id as string | null,
    sentAt: Number(r.sent_at),
    errcode: r.errcode === null ? null : Number(r.errcode),
    error: r.error as string | null,
  }
}

/** The message log's row shape (the same mapping as MessageLog's, kept local to the console). */
export function toRecord(row: Record<string, unknown>): MessageRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  return {
    id: Number(row.id),
    appId: row.app_id as string,
    msgKey: row.msg_key as string,
    openid: row.openid as string,
    msgType: row.msg_type as string,
    event: (row.event as string | null) ?? null,
    msgId: (row.msg_id as string | null) ?? null,
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
