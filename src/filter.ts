/**
 * Filter queries for `bot.on(...)`, derived from the one message table: a message type
 * (`'text'`), `'message'` (any ordinary message), `'event'` (any event) or `'event:<Event>'`.
 * The same names narrow `ctx.message` at compile time and match at run time.
 */
import { EVENT_TABLE, MESSAGE_TABLE, type EventName, type MessageTypeName } from './messages/table.js'
import type { EventOf, MessageOf, OrdinaryMessage, WechatEvent, WechatMessage } from './messages/types.js'

export type FilterQuery = MessageTypeName | 'message' | 'event' | `event:${EventName}`

export type MessageFor<Q extends FilterQuery> = Q extends MessageTypeName
  ? MessageOf<Q>
  : Q extends 'message'
    ? OrdinaryMessage
    : Q extends 'event'
      ? WechatEvent
      : Q extends `event:${infer E extends EventName}`
        ? EventOf<E>
        : never

const KNOWN_QUERIES = new Set<string>([
  ...Object.keys(MESSAGE_TABLE),
  'message',
  'event',
  ...Object.keys(EVENT_TABLE).map((e) => `event:${e}`),
])

/** Builds the run-time predicate; an unknown query is an error at startup, not a silent no-op. */
export function matchFilter(queries: FilterQuery | readonly FilterQuery[]): (message: WechatMessage) => boolean {
  const list = (Array.isArray(queries) ? queries : [queries]) as string[]
  for (const q of list) {
    if (!KNOWN_QUERIES.has(q)) {
      throw new TypeError(`unknown filter ${JSON.stringify(q)}: use a MsgType (text, image, …), 'message', 'event' or 'event:<Event>'; for events not in the table use bot.event(name)`)
    }
  }
  const types = new Set(list.filter((q) => !q.startsWith('event')))
  const events = new Set(list.filter((q) => q.startsWith('event:')).map((q) => q.slice(6)))
  const anyEvent = list.includes('event')
  const anyMessage = types.has('message')
  return (m) => {
    if (m.MsgType === 'event') return anyEvent || events.has((m as { Event: string }).Event)
    if ('unknown' in m) return false
    return anyMessage || types.has(m.MsgType)
  }
}
