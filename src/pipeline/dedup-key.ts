import type { WechatMessage } from '../messages/types.js'

/**
 * The key that identifies one message across WeChat's retries: sender + MsgId for ordinary
 * messages (MsgIds of different users have been seen to collide, and a collision must never
 * hand one user another's reply); sender + MsgID (or the publish_id, or the notices' MsgIDs) +
 * Event for job/sent events; otherwise sender + CreateTime + type, plus Event and EventKey
 * because several events can share one second.
 */
export function dedupKey(message: WechatMessage): string {
  const m = message as Record<string, unknown>
  if (typeof m.MsgId === 'string' && m.MsgId !== '') return `m:${message.FromUserName}:${m.MsgId}`
  if (typeof m.MsgID === 'string' && m.MsgID !== '') return `j:${message.FromUserName}:${m.MsgID}:${String(m.Event ?? '')}`
  const inner = innerJobId(m)
  if (inner !== undefined) return `j:${message.FromUserName}:${inner}:${String(m.Event ?? '')}`
  const parts = [message.FromUserName, String(message.CreateTime), message.MsgType]
  if (message.MsgType === 'event') parts.push(String(m.Event ?? ''), typeof m.EventKey === 'string' ? m.EventKey : '')
  return `e:${parts.join(':')}`
}

/**
 * The id a job or sent event carries inside rather than as MsgID: a publish job's publish_id, a
 * subscription notice's MsgIDs. Two such events for one sender can share a second (two articles
 * published together, two notices sent in a row), so sender + CreateTime would drop the second.
 */
function innerJobId(m: Record<string, unknown>): string | undefined {
  const publishId = (m.PublishEventInfo as { publish_id?: unknown } | undefined)?.publish_id
  if (typeof publishId === 'string' && publishId !== '') return publishId
  const sent = (m.SubscribeMsgSentEvent as { List?: unknown } | undefined)?.List
  if (!Array.isArray(sent)) return undefined
  const ids = sent.map((entry) => (entry as { MsgID?: unknown }).MsgID).filter((id): id is string => typeof id === 'string' && id !== '')
  return ids.length > 0 ? ids.join(',') : undefined
}
