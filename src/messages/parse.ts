import { WxmpError } from '../errors.js'
import { parseXml, type XmlObject } from '../xml/parse.js'
import { normalise } from './schema.js'
import { EVENT_NAMES_BY_LOWER_CASE, EVENT_TABLE, HEADER, MESSAGE_TABLE, type EventName, type MessageTypeName } from './table.js'
import type { WechatMessage } from './types.js'

const hasOwn = (table: object, name: string) => Object.prototype.hasOwnProperty.call(table, name)

/**
 * Turns the XML of one inbound document into a typed message. Known types are normalised by
 * their table row; unknown types and events pass through with their raw fields and
 * `unknown: true`, never throwing. Missing header fields throw WX_ERR_MESSAGE_INVALID.
 */
export function parseMessage(xml: string): WechatMessage {
  return messageFromXml(parseXml(xml))
}

export function messageFromXml(doc: XmlObject): WechatMessage {
  const header = normalise(doc, HEADER)
  const msgType = header.MsgType as string
  if (msgType === 'event') {
    const raw = typeof doc.Event === 'string' ? doc.Event : undefined
    if (raw === undefined) throw new WxmpError('WX_ERR_MESSAGE_INVALID', 'required field <Event> is missing on MsgType event', { details: { field: 'Event' } })
    const name: EventName | undefined = hasOwn(EVENT_TABLE, raw) ? (raw as EventName) : EVENT_NAMES_BY_LOWER_CASE.get(raw.toLowerCase())
    if (name === undefined) return { ...header, Event: raw, unknown: true } as WechatMessage
    const fields = name === 'subscribe_msg_change_event' ? changeEventWrapperFix(header) : header
    return { ...normalise(fields as XmlObject, EVENT_TABLE[name]), Event: name } as WechatMessage
  }
  if (hasOwn(MESSAGE_TABLE, msgType)) return normalise(header as XmlObject, MESSAGE_TABLE[msgType as MessageTypeName]) as WechatMessage
  return { ...header, unknown: true } as WechatMessage
}

/** The official change-event sample once used the popup wrapper by mistake: accept either. */
function changeEventWrapperFix(fields: Record<string, unknown>): Record<string, unknown> {
  if (fields.SubscribeMsgChangeEvent !== undefined || fields.SubscribeMsgPopupEvent === undefined) return fields
  const { SubscribeMsgPopupEvent, ...rest } = fields
  return { ...rest, SubscribeMsgChangeEvent: SubscribeMsgPopupEvent }
}
