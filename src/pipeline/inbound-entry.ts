import type { InboundRecord } from '../bot-options.js'
import type { WechatMessage } from '../messages/types.js'
import type { Opened } from './envelope.js'

/** The message-log entry of a message (a retry's entry counts a delivery on the first one's row). */
export function inboundEntry(appId: string | undefined, message: WechatMessage, opened: Opened, msgKey: string, receivedAt: number, account?: string): InboundRecord {
  const id = (message as { MsgId?: unknown }).MsgId
  return {
    appId: appId ?? opened.appId ?? '',
    msgKey,
    openid: message.FromUserName,
    msgType: message.MsgType,
    event: message.MsgType === 'event' ? (message as { Event: string }).Event : undefined,
    msgId: typeof id === 'string' ? id : undefined,
    createTime: message.CreateTime,
    rawXml: opened.xml,
    receivedAt,
    encrypted: opened.encrypted,
    ...(account === undefined ? {} : { account }),
  }
}
