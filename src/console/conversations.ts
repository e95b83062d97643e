/**
 * The inbox's reads: conversations (one per follower, newest first), a conversation's
 * messages, and the operators' own answers (kept in wxmp_console_replies, since they did not
 * come through the webhook). Queries of the console's own, on the records database.
 */
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
  /** sent, out-of-window, no-permission, quota, failed */
  status: string
  errcode: number | null
  error: string | null
}

export class Conversations {
  constructor(
    private readonly db: SqlDatabase,
    private readonly appId: string,
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

  async maxId(): Promise<number> {
    const [row] = await this.db.all<{ id: number | null }>('SELECT MAX(id) AS id FROM wxmp_messages WHERE app_id = ?', [this.appId])
    return Number(row?.id ?? 0)
  }

  /** When the user last sent a message (not an event), or null. */
  async lastUserMessageAt(openid: string): Promise<number | null> {
    const [row] = await this.db.all<{ at: number | null }>("SELECT MAX(received_at) AS at FROM wxmp_messages WHERE app_id = ? AND openid = ? AND msg_type <> 'event'", [this.appId, openid])
    return row?.at === null || row?.at === undefined ? null : Number(row.at)
  }

  async recordReply(reply: Omit<OperatorReply, 'id'>): Promise<OperatorReply> {
    const [row] = await this.db.all<{ id: number }>(
      'INSERT INTO wxmp_console_replies (app_id, openid, operator, msg_type, content, media_id, sent_at, status, errcode, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      [this.appId, reply.openid, reply.operator, reply.msgType, reply.content, reply.mediaId, reply.sentAt, reply.status, reply.errcode, reply.error],
    )
    return { ...reply, id: Number(row!.id) }
  }

  /** Operator answers to one follower, oldest first (the latest `limit`). */
  async replies(openid: string, options: { limit?: number; since?: number } = {}): Promise<OperatorReply[]> {
    const limit = Math.min(Math.max(1, options.limit ?? 100), 500)
    const rows = await this.db.all(
      `SELECT id, openid, operator, msg_type, content, media_id, sent_at, status, errcode, error FROM wxmp_console_replies WHERE app_id = ? AND openid = ?${options.since === undefined ? '' : ' AND sent_at >= ?'} ORDER BY id DESC LIMIT ?`,
      options.since === undefined ? [this.appId, openid, limit] : [this.appId, openid, options.since, limit],
    )
    return rows.map(toReply).reverse()
  }
}

function toReply(r: Record<string, unknown>): OperatorReply {
  return {
    id: Number(r.id),
    openid: r.openid as string,
    operator: r.operator as string,
    msgType: r.msg_type as 'text' | 'image',
    content: r.content as string | null,
    mediaId: r.media_id as string | null,
    sentAt: Number(r.sent_at),
    status: r.status as string,
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
