/**
 * Reply values. The type is always explicit (`{ type: 'image', mediaId }`): wxmp never guesses
 * a reply's kind from its shape. A plain string given to `ctx.reply` is a text reply.
 */
export interface TextReply {
  type: 'text'
  content: string
}
export interface ImageReply {
  type: 'image'
  mediaId: string
}
export interface VoiceReply {
  type: 'voice'
  mediaId: string
}
export interface VideoReply {
  type: 'video'
  mediaId: string
  title?: string
  description?: string
  /** Needed only when the reply goes out late through the customer-service API. */
  thumbMediaId?: string
}
export interface MusicReply {
  type: 'music'
  thumbMediaId: string
  title?: string
  description?: string
  musicUrl?: string
  hqMusicUrl?: string
}
export interface NewsArticle {
  title: string
  description?: string
  picUrl?: string
  url?: string
}
export interface NewsReply {
  type: 'news'
  articles: NewsArticle[]
}
export interface TransferReply {
  type: 'transfer_customer_service'
  /** Pin the conversation to one agent (`test1@test`); otherwise any agent. */
  kfAccount?: string
}
/** Acknowledge without replying: the body is `success`. */
export interface NoReply {
  type: 'success'
}

export type Reply = TextReply | ImageReply | VoiceReply | VideoReply | MusicReply | NewsReply | TransferReply | NoReply
export type ReplyType = Reply['type']
