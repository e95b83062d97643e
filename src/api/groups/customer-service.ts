/**
 * Customer-service messages (客服消息, protocol.md §7): free-form messages to a user inside
 * the window opened by their last interaction (48 h after a message; 45015 outside it), and
 * the typing indicator. Also the path the bot uses for replies that missed the 5 s deadline.
 */
import { WxmpError } from '../../errors.js'
import type { Reply } from '../../reply/types.js'
import type { ApiCaller } from '../caller.js'
import { compact, invalidInput, requireOpenid, requireString } from './input.js'

export interface SendOptions {
  /** Send as this agent (`test1@kftest`). */
  kfAccount?: string
}

export interface CsVideo {
  mediaId: string
  thumbMediaId?: string
  title?: string
  description?: string
}
export interface CsMusic {
  thumbMediaId: string
  title?: string
  description?: string
  musicUrl?: string
  hqMusicUrl?: string
}
export interface CsArticle {
  title: string
  description?: string
  url?: string
  picUrl?: string
}
export interface CsMsgMenu {
  headContent?: string
  list: Array<{ id: string; content: string }>
  tailContent?: string
}
export interface CsMiniProgramPage {
  title: string
  appid: string
  pagepath: string
  thumbMediaId: string
}

const PATH = '/cgi-bin/message/custom/send'

/**
 * @example
 * await api.customerService.sendText(openid, 'Your order shipped')
 * await api.customerService.typing(openid, true)
 */
export class CustomerServiceApi {
  constructor(private readonly api: ApiCaller) {}

  async sendText(openid: string, content: string, options?: SendOptions): Promise<void> {
    return this.send(openid, 'text', { content: requireString('text content', content) }, options)
  }

  async sendImage(openid: string, mediaId: string, options?: SendOptions): Promise<void> {
    return this.send(openid, 'image', { media_id: requireString('mediaId', mediaId) }, options)
  }

  async sendVoice(openid: string, mediaId: string, options?: SendOptions): Promise<void> {
    return this.send(openid, 'voice', { media_id: requireString('mediaId', mediaId) }, options)
  }

  async sendVideo(openid: string, video: CsVideo, options?: SendOptions): Promise<void> {
    return this.send(
      openid,
      'video',
      compact({ media_id: requireString('video.mediaId', video?.mediaId), thumb_media_id: video.thumbMediaId, title: video.title, description: video.description }),
      options,
    )
  }

  async sendMusic(openid: string, music: CsMusic, options?: SendOptions): Promise<void> {
    return this.send(
      openid,
      'music',
      compact({
        title: music?.title,
        description: music?.description,
        musicurl: music?.musicUrl,
        hqmusicurl: music?.hqMusicUrl,
        thumb_media_id: requireString('music.thumbMediaId', music?.thumbMediaId),
      }),
      options,
    )
  }

  /** One article (WeChat answers 45008 to more). */
  async sendNews(openid: string, article: CsArticle | CsArticle[], options?: SendOptions): Promise<void> {
    const articles = Array.isArray(article) ? article : [article]
    if (articles.length !== 1) invalidInput(`a customer-service news message carries exactly one article, got ${articles.length} (WeChat answers 45008)`)
    const a = articles[0]!
    return this.send(openid, 'news', { articles: [compact({ title: requireString('article.title', a.title), description: a.description, url: a.url, picurl: a.picUrl })] }, options)
  }

  /** A published article (`article_id` from freepublish), the successor of `mpnews`. */
  async sendMpNewsArticle(openid: string, articleId: string, options?: SendOptions): Promise<void> {
    return this.send(openid, 'mpnewsarticle', { article_id: requireString('articleId', articleId) }, options)
  }

  /** A menu of choices; a tap comes back as a text message with `bizmsgmenuid` = the item id. */
  async sendMsgMenu(openid: string, menu: CsMsgMenu, options?: SendOptions): Promise<void> {
    if (!Array.isArray(menu?.list) || menu.list.length === 0) invalidInput('msgmenu needs a non-empty list of { id, content }')
    const list = menu.list.map((item, i) => ({ id: requireString(`msgmenu.list[${i}].id`, item?.id), content: requireString(`msgmenu.list[${i}].content`, item?.content) }))
    return this.send(openid, 'msgmenu', compact({ head_content: menu.headContent, list, tail_content: menu.tailContent }), options)
  }

  /** A mini program card (the mini program must be linked to the account). */
  async sendMiniProgramPage(openid: string, page: CsMiniProgramPage, options?: SendOptions): Promise<void> {
    return this.send(
      openid,
      'miniprogrampage',
      {
        title: requireString('miniprogrampage.title', page?.title),
        appid: requireString('miniprogrampage.appid', page?.appid),
        pagepath: requireString('miniprogrampage.pagepath', page?.pagepath),
        thumb_media_id: requireString('miniprogrampage.thumbMediaId', page?.thumbMediaId),
      },
      options,
    )
  }

  /** Shows (`true`) or hides "typing…" for 15 s; 45081 if it is already on. */
  async typing(openid: string, on: boolean): Promise<void> {
    await this.api.call('/cgi-bin/message/custom/typing', { touser: requireOpenid(openid), command: on ? 'Typing' : 'CancelTyping' })
  }

  /**
   * Sends a webhook Reply value as a customer-service message (late replies, `ctx.send`).
   * `success` sends nothing; a transfer to an agent cannot be sent this way.
   */
  async sendReply(openid: string, reply: Reply): Promise<void> {
    switch (reply.type) {
      case 'success':
        return
      case 'text':
        return this.sendText(openid, reply.content)
      case 'image':
        return this.sendImage(openid, reply.mediaId)
      case 'voice':
        return this.sendVoice(openid, reply.mediaId)
      case 'video':
        return this.sendVideo(openid, compact({ mediaId: reply.mediaId, thumbMediaId: reply.thumbMediaId, title: reply.title, description: reply.description }))
      case 'music':
        return this.sendMusic(openid, compact({ thumbMediaId: reply.thumbMediaId, title: reply.title, description: reply.description, musicUrl: reply.musicUrl, hqMusicUrl: reply.hqMusicUrl }))
      case 'news':
        return this.sendNews(openid, reply.articles ?? [])
      case 'transfer_customer_service':
        throw new WxmpError('WX_ERR_API_INPUT', 'a transfer_customer_service reply only works as the passive reply to a message: reply within the deadline, it cannot be sent through the customer-service API')
      default:
        invalidInput(`unknown reply type ${JSON.stringify((reply as { type?: unknown }).type)}`)
    }
  }

  private async send(openid: string, msgtype: string, payload: Record<string, unknown>, options?: SendOptions): Promise<void> {
    const body: Record<string, unknown> = { touser: requireOpenid(openid), msgtype, [msgtype]: payload }
    if (options?.kfAccount !== undefined) body.customservice = { kf_account: requireString('kfAccount', options.kfAccount) }
    await this.api.call(PATH, body)
  }
}
