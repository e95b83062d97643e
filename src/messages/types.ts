/** Types of inbound documents, all derived from messages/table.ts. */
import type { InferFields } from './schema.js'
import type { EVENT_TABLE, EventName, HEADER, MESSAGE_TABLE, MessageTypeName } from './table.js'
import type { XmlValue } from '../xml/parse.js'

type Header = InferFields<typeof HEADER>

/** An ordinary message of type T (`text`, `image`, …) with its official field names. */
export type MessageOf<T extends MessageTypeName> = Omit<Header, 'MsgType'> & { MsgType: T } & InferFields<(typeof MESSAGE_TABLE)[T]>

/** An event E (`subscribe`, `CLICK`, …) with its official field names. */
export type EventOf<E extends EventName> = Omit<Header, 'MsgType'> & { MsgType: 'event'; Event: E } & InferFields<(typeof EVENT_TABLE)[E]>

export type TextMessage = MessageOf<'text'>
export type ImageMessage = MessageOf<'image'>
export type VoiceMessage = MessageOf<'voice'>
export type VideoMessage = MessageOf<'video'>
export type ShortVideoMessage = MessageOf<'shortvideo'>
export type LocationMessage = MessageOf<'location'>
export type LinkMessage = MessageOf<'link'>
export type SubscribeEvent = EventOf<'subscribe'>
export type ScanEvent = EventOf<'SCAN'>
export type ClickEvent = EventOf<'CLICK'>

export type OrdinaryMessage = { [T in MessageTypeName]: MessageOf<T> }[MessageTypeName]
export type KnownEvent = { [E in EventName]: EventOf<E> }[EventName]

/** An event whose name is not in the table (card, device, future events): raw fields kept. */
export type UnknownEvent = Omit<Header, 'MsgType'> & { MsgType: 'event'; Event: string; EventKey?: string; unknown: true; [field: string]: unknown }
/** A message type not in the table: raw fields kept. */
export type UnknownMessage = Header & { unknown: true; [field: string]: unknown }

export type WechatEvent = KnownEvent | UnknownEvent
/** Everything that can arrive at the webhook: a discriminated union on MsgType (and Event). */
export type WechatMessage = OrdinaryMessage | WechatEvent | UnknownMessage

export type { XmlValue }
