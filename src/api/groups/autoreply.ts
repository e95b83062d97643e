/**
 * The MP console's own reply settings (自动回复): what `get_current_autoreply_info` returns,
 * and the console-made menu as `get_current_selfmenu_info` shows it (typed here; the call is
 * `api.menu.getCurrentSelfMenuInfo()`). Read-only: WeChat has no API to write them. Images,
 * voices and videos come back as temporary media (a new id on each call, valid 3 days); news
 * as permanent material. `wxmp rules import` turns both into rules and an API menu.
 */
import type { ApiCaller } from '../caller.js'

/** A reply in the console: text, or a media id (img, voice), a video link, or news material. */
export interface ConsoleReplyInfo {
  type: 'text' | 'img' | 'voice' | 'video' | 'news' | string
  /** Text for `text`; a media id for img/voice/news; for video the samples show a download URL. */
  content?: string
  news_info?: { list: ConsoleNewsArticle[] }
}

export interface ConsoleNewsArticle {
  title: string
  author?: string
  digest?: string
  show_cover?: number
  cover_url?: string
  content_url?: string
  source_url?: string
}

export interface ConsoleKeywordRuleInfo {
  rule_name: string
  create_time: number
  /** `reply_all`: every reply is sent; `random_one`: one at random. */
  reply_mode: 'reply_all' | 'random_one' | string
  keyword_list_info: Array<{ type: string; match_mode: 'contain' | 'equal' | string; content: string }>
  reply_list_info: ConsoleReplyInfo[]
}

export interface AutoReplyInfo {
  /** 关注后自动回复 on (1) or off (0). */
  is_add_friend_reply_open: number
  /** 消息自动回复 on (1) or off (0). */
  is_autoreply_open: number
  add_friend_autoreply_info?: ConsoleReplyInfo
  message_default_autoreply_info?: ConsoleReplyInfo
  keyword_autoreply_info?: { list: ConsoleKeywordRuleInfo[] }
}

/**
 * A button of the menu users see. Console buttons carry what they send: `text` (the text in
 * `value`), `img`/`voice` (a temporary media id in `value`), `video` (a link in `value`),
 * `news` (permanent material id in `value`, articles in `news_info`), `view` (`url`); API
 * buttons keep their API fields (`key`, `url`, `appid`, `pagepath`, `media_id`, `article_id`).
 */
export interface SelfMenuButton {
  type?: string
  name: string
  key?: string
  url?: string
  value?: string
  appid?: string
  pagepath?: string
  media_id?: string
  article_id?: string
  news_info?: { list: ConsoleNewsArticle[] }
  sub_button?: { list: SelfMenuButton[] } | SelfMenuButton[]
}

export interface SelfMenuInfo {
  is_menu_open: number
  selfmenu_info?: { button: SelfMenuButton[] }
}

/**
 * @example
 * const info = await api.autoReply.current()
 * for (const rule of info.keyword_autoreply_info?.list ?? []) console.log(rule.rule_name)
 */
export class AutoReplyApi {
  constructor(private readonly api: ApiCaller) {}

  /** The console's follow reply, default reply and keyword rules (get_current_autoreply_info). */
  async current(): Promise<AutoReplyInfo> {
    return this.api.call<AutoReplyInfo>('/cgi-bin/get_current_autoreply_info')
  }

  /** The menu users see, console buttons included (get_current_selfmenu_info), typed. */
  async currentMenu(): Promise<SelfMenuInfo> {
    return this.api.call<SelfMenuInfo>('/cgi-bin/get_current_selfmenu_info')
  }
}
