/**
 * What the inbox shows for one row of the message log: the message as the user sent it (text,
 * image, voice, location, link, event…) and the bot's reply with how it left. Everything here
 * is data for the page, which renders every string as text (never HTML): message text,
 * titles and URLs are attacker-controlled.
 */
import type { MessageRecord } from '../records/message-log.js'
import { parseMessage } from '../messages/parse.js'
import { parseXml, type XmlObject, type XmlValue } from '../xml/parse.js'

export interface MessageView {
  id: number
  openid: string
  /** When the server received it (ms). */
  at: number
  msgType: string
  event?: string
  msgId?: string
  /** Fields that matter for showing it; all strings. */
  fields: Record<string, string>
  /** For news items and other lists (reply only). */
  deliveries: number
  encrypted: boolean
  reply?: ReplyView
  /** Handler time in ms (until the outcome was recorded). */
  latencyMs?: number
  /** The outcome is recorded (false while a slow handler still runs). */
  completed: boolean
}

export interface ReplyView {
  /** passive, customer-service, pending (issue 13), none */
  via: string
  /** sent, out-of-window, no-permission, quota, failed, dropped */
  status?: string
  error?: string
  msgType?: string
  fields: Record<string, string>
  articles?: Array<Record<string, string>>
}

/** Fields shown per message type (official names); anything else stays in the raw XML. */
const SHOWN: Record<string, readonly string[]> = {
  text: ['Content', 'bizmsgmenuid'],
  image: ['PicUrl', 'MediaId'],
  voice: ['MediaId', 'Format', 'Recognition'],
  video: ['MediaId', 'ThumbMediaId'],
  shortvideo: ['MediaId', 'ThumbMediaId'],
  location: ['Location_X', 'Location_Y', 'Scale', 'Label'],
  link: ['Title', 'Description', 'Url'],
  event: ['EventKey', 'Ticket', 'Latitude', 'Longitude', 'Precision', 'MenuId', 'Status', 'KfAccount'],
}
const MAX_FIELD = 4000

export function toMessageView(row: MessageRecord): MessageView {
  const view: MessageView = {
    id: row.id,
    openid: row.openid,
    at: row.receivedAt,
    msgType: row.msgType,
    fields: messageFields(row),
    deliveries: row.deliveries,
    encrypted: row.encrypted,
    completed: row.completedAt !== null,
  }
  if (row.event !== null) view.event = row.event
  if (row.msgId !== null) view.msgId = row.msgId
  if (row.latencyMs !== null) view.latencyMs = row.latencyMs
  if (row.replyVia !== null) view.reply = replyView(row)
  return view
}

function messageFields(row: MessageRecord): Record<string, string> {
  let message: Record<string, unknown>
  try {
    message = parseMessage(row.rawXml) as unknown as Record<string, unknown>
  } catch {
    // stored rows were parsed once already; a row from another tool might not be
    return { unreadable: row.rawXml.slice(0, 500) }
  }
  const fields: Record<string, string> = {}
  for (const name of SHOWN[row.msgType] ?? []) put(fields, name, message[name])
  if (row.msgType === 'event') {
    const nested = (message.ScanCodeInfo ?? message.SendLocationInfo ?? message.SendPicsInfo) as Record<string, unknown> | undefined
    if (nested !== undefined && typeof nested === 'object') for (const [k, v] of Object.entries(nested)) if (typeof v !== 'object') put(fields, k, v)
  }
  return fields
}

function put(fields: Record<string, string>, name: string, value: unknown): void {
  if (value === undefined || value === null || typeof value === 'object') return
  const text = String(value)
  fields[name] = text.length > MAX_FIELD ? text.slice(0, MAX_FIELD) + '…' : text
}

function replyView(row: MessageRecord): ReplyView {
  const reply: ReplyView = { via: row.replyVia ?? 'none', fields: {} }
  if (row.replyStatus !== null) reply.status = row.replyStatus
  if (row.error !== null) reply.error = row.error.slice(0, 1000)
  if (row.replyXml === null) return reply
  let xml: XmlObject
  try {
    xml = parseXml(row.replyXml)
  } catch {
    reply.fields.unreadable = row.replyXml.slice(0, 500)
    return reply
  }
  const type = text(xml.MsgType)
  if (type !== undefined) reply.msgType = type
  put(reply.fields, 'Content', text(xml.Content))
  for (const box of ['Image', 'Voice', 'Video', 'Music'] as const) {
    const node = xml[box]
    if (node !== undefined && typeof node === 'object' && !Array.isArray(node)) for (const [k, v] of Object.entries(node)) put(reply.fields, k, text(v))
  }
  const items = (xml.Articles as XmlObject | undefined)?.item
  if (items !== undefined) {
    reply.articles = (Array.isArray(items) ? items : [items]).slice(0, 8).map((item) => {
      const article: Record<string, string> = {}
      if (typeof item === 'object' && !Array.isArray(item)) for (const k of ['Title', 'Description', 'Url', 'PicUrl']) put(article, k, text(item[k]))
      return article
    })
  }
  return reply
}

function text(value: XmlValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}
