/** The API's shapes as the page reads them (see src/console/message-view.ts and the routes). */
export interface ReplyView {
  via: string
  status?: string
  error?: string
  msgType?: string
  fields: Record<string, string>
  articles?: Array<Record<string, string>>
}

export interface MessageView {
  id: number
  openid: string
  at: number
  msgType: string
  event?: string
  msgId?: string
  fields: Record<string, string>
  deliveries: number
  encrypted: boolean
  reply?: ReplyView
  latencyMs?: number
  completed: boolean
}

export interface OperatorReply {
  id: number
  openid: string
  operator: string
  msgType: 'text' | 'image'
  content: string | null
  mediaId: string | null
  sentAt: number
  status: string
  errcode: number | null
  error: string | null
}

export interface Pause {
  openid: string
  operator: string
  pausedAt: number
  until: number
}

export interface ConversationSummary {
  openid: string
  messages: number
  last: MessageView
  lastUserMessageAt: number | null
  subscribed: boolean | null
  paused: boolean
}

export interface WindowInfo {
  lastUserMessageAt: number | null
  closesAt: number | null
  sendsLeft: number
  pause: Pause | null
}
