import { WxmpError } from '../errors.js'
import { buildXml, cdata, stripIllegalXmlChars, type XmlElements } from '../xml/build.js'
import type { Reply } from './types.js'

/** Who the reply goes to and from: the inbound FromUserName and ToUserName, swapped. */
export interface ReplyAddress {
  /** The user's OpenID (inbound FromUserName). */
  toUser: string
  /** The account's 原始ID (inbound ToUserName). */
  fromUser: string
  /** Unix seconds. */
  createTime: number
  /** MsgType of the message being answered; news to an ordinary message allows 1 article. */
  inReplyTo?: string
}

/**
 * Documented limits (protocol.md §4). Text length is not a documented hard limit (community
 * reports put it near 2048 bytes), so the core only warns above `textBytesWarning`.
 */
export const REPLY_LIMITS = {
  textBytesWarning: 2048,
  newsArticlesForMessages: 1,
  newsArticles: 8,
} as const

/** Message types for which a news reply may carry only one article (protocol.md §4.2). */
const SINGLE_ARTICLE_REPLIES = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'])

/**
 * Serialises a reply to the exact XML WeChat expects, after checking the documented limits.
 * `success` is not XML: callers send the literal body `success`. Throws WX_ERR_REPLY_INVALID
 * with the broken rule, so the core can log it and still answer WeChat validly.
 */
export function serializeReply(reply: Reply, address: ReplyAddress): string {
  if (reply.type === 'text' && typeof address.toUser === 'string' && typeof address.fromUser === 'string') {
    // the reply nearly every message gets, built directly: the same bytes as buildXml below
    const content = cdata(stripIllegalXmlChars(requireText(reply.content, 'text reply content')))
    const time = Math.floor(address.createTime)
    return (
      `<xml><ToUserName>${cdata(address.toUser)}</ToUserName><FromUserName>${cdata(address.fromUser)}</FromUserName>` +
      `<CreateTime>${Number.isFinite(time) ? String(time) : cdata(String(time))}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${content}</Content></xml>`
    )
  }
  const head = {
    ToUserName: address.toUser,
    FromUserName: address.fromUser,
    CreateTime: Math.floor(address.createTime),
    MsgType: reply.type,
  }
  return buildXml({ ...head, ...replyBody(reply, address) })
}

function replyBody(reply: Reply, address: ReplyAddress): XmlElements {
  switch (reply.type) {
    case 'text': {
      return { Content: stripIllegalXmlChars(requireText(reply.content, 'text reply content')) }
    }
    case 'image':
      return { Image: { MediaId: requireText(reply.mediaId, 'image reply mediaId') } }
    case 'voice':
      return { Voice: { MediaId: requireText(reply.mediaId, 'voice reply mediaId') } }
    case 'video':
      return { Video: { MediaId: requireText(reply.mediaId, 'video reply mediaId'), Title: reply.title, Description: reply.description } }
    case 'music':
      return {
        Music: {
          Title: reply.title,
          Description: reply.description,
          MusicUrl: reply.musicUrl,
          HQMusicUrl: reply.hqMusicUrl,
          ThumbMediaId: requireText(reply.thumbMediaId, 'music reply thumbMediaId'),
        },
      }
    case 'news': {
      const articles = reply.articles
      if (!Array.isArray(articles) || articles.length === 0) invalid('news reply needs at least one article')
      const max = address.inReplyTo !== undefined && SINGLE_ARTICLE_REPLIES.has(address.inReplyTo) ? REPLY_LIMITS.newsArticlesForMessages : REPLY_LIMITS.newsArticles
      if (articles.length > max) {
        invalid(`news reply has ${articles.length} articles; WeChat allows ${max} when answering ${address.inReplyTo ? `a ${address.inReplyTo} message` : 'this message'}`)
      }
      return {
        ArticleCount: articles.length,
        Articles: {
          item: articles.map((a, i) => ({ Title: requireText(a.title, `news article ${i + 1} title`), Description: a.description, PicUrl: a.picUrl, Url: a.url })),
        },
      }
    }
    case 'transfer_customer_service':
      return reply.kfAccount === undefined ? {} : { TransInfo: { KfAccount: requireText(reply.kfAccount, 'kfAccount') } }
    case 'success':
      invalid('a "success" reply has no XML; send the literal body success')
    default:
      invalid(`unknown reply type ${JSON.stringify((reply as { type?: unknown }).type)}`)
  }
}

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string') invalid(`${what} must be a string, got ${value === null ? 'null' : typeof value}`)
  if (stripIllegalXmlChars(value).trim() === '') invalid(`${what} is empty (an empty reply must be "success", not XML with empty content)`)
  return value
}

function invalid(message: string): never {
  throw new WxmpError('WX_ERR_REPLY_INVALID', message)
}
