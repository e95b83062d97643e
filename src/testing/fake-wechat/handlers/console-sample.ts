/**
 * What an account's operators set up in the MP console before developer mode: a follow reply,
 * a default reply, keyword rules with both match modes and both reply modes (text, image,
 * voice, video, news), and a console menu whose buttons send messages. The fake serves it from
 * get_current_autoreply_info and get_current_selfmenu_info, in the shapes of WeChat's
 * documentation and published SDK fixtures.
 *
 * Where the documentation is silent or contradicts itself the fake follows the published
 * samples, and says so:
 * - keyword rules are listed newest first (the documented sample's create_time descends);
 * - a video reply's `content` (and a video menu button's `value`) is a download URL, as in the
 *   samples, although the field table says "mediaID";
 * - images and voices come back as temporary media ids, new on every call and valid 3 days
 *   (documented); the fake mints them from the bytes below, so they can be downloaded;
 * - a news reply carries the permanent material's media id in `content` and the articles in
 *   `news_info.list` (documented for menus, seen in samples for keyword replies).
 */

/** A reply as the operator set it; media as bytes (the fake mints a temporary media id per call). */
export type ConsoleReply =
  | { type: 'text'; content: string }
  | { type: 'img' | 'voice'; file: { data: Buffer; filename: string; contentType: string } }
  | { type: 'video'; url: string }
  | { type: 'news'; mediaId: string; articles: ConsoleArticle[] }

export interface ConsoleArticle {
  title: string
  author: string
  digest: string
  show_cover: 0 | 1
  cover_url: string
  content_url: string
  source_url: string
}

export interface ConsoleKeywordRule {
  rule_name: string
  create_time: number
  reply_mode: 'reply_all' | 'random_one'
  keywords: Array<{ match_mode: 'contain' | 'equal'; content: string }>
  replies: ConsoleReply[]
}

/** A console menu button: a message it sends, a page it opens, or a sub-menu. */
export type ConsoleButton =
  | { name: string; sub_button: ConsoleButton[] }
  | ({ name: string } & ConsoleReply)
  | { name: string; type: 'view'; url: string }
  | { name: string; type: 'miniprogram'; url: string; appid: string; pagepath: string }

export interface ConsoleSettings {
  isAddFriendReplyOpen: 0 | 1
  isAutoreplyOpen: 0 | 1
  addFriend?: ConsoleReply
  messageDefault?: ConsoleReply
  keywordRules: ConsoleKeywordRule[]
  /** The menu published in the console; undefined = none. An API menu (menu/create) replaces it. */
  menu?: ConsoleButton[]
}

/** A 1×1 PNG and an AMR header: enough bytes to download, hash and re-upload. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')
const AMR = Buffer.concat([Buffer.from('#!AMR\n'), Buffer.alloc(32, 0x3c)])

const image = (name: string) => ({ type: 'img' as const, file: { data: Buffer.concat([PNG, Buffer.from(name)]), filename: `${name}.png`, contentType: 'image/png' } })
const voice = (name: string) => ({ type: 'voice' as const, file: { data: Buffer.concat([AMR, Buffer.from(name)]), filename: `${name}.amr`, contentType: 'audio/amr' } })
const article = (n: number, title: string, digest: string): ConsoleArticle => ({
  title,
  author: '小店运营',
  digest,
  show_cover: 1,
  cover_url: `http://mmbiz.qpic.cn/mmbiz_jpg/fakeCover${n}/0?wx_fmt=jpeg`,
  content_url: `http://mp.weixin.qq.com/s?__biz=MzFakeBiz==&mid=2650000${n}&idx=1&sn=fake${n}#rd`,
  source_url: '',
})

/** The sample account: a small shop's console settings. */
export function sampleConsoleSettings(): ConsoleSettings {
  return {
    isAddFriendReplyOpen: 1,
    isAutoreplyOpen: 1,
    addFriend: { type: 'text', content: '感谢关注{小店}！回复「营业时间」「价格」「新品」试试。' },
    messageDefault: { type: 'text', content: '您的消息已收到，客服会尽快回复（工作日 9:00–18:00）。' },
    keywordRules: [
      {
        rule_name: '视频介绍',
        create_time: 1_760_000_600,
        reply_mode: 'random_one',
        keywords: [{ match_mode: 'equal', content: '视频' }],
        replies: [{ type: 'video', url: 'http://61.151.163.140/vweixinp.tc.qq.com/1007_fakevideo.f10.mp4?vkey=FAKE&sha=0&save=1' }],
      },
      {
        rule_name: '新品',
        create_time: 1_760_000_500,
        reply_mode: 'reply_all',
        keywords: [{ match_mode: 'equal', content: '新品' }],
        replies: [{ type: 'news', mediaId: 'KQb_w_Tiz-nSdVLoTV35Psmty8hGBulGhEdbb9SKs-o', articles: [article(1, '秋季新品上市', '十款新品抢先看'), article(2, '新品试用活动', '报名领取试用装')] }],
      },
      {
        rule_name: '客服',
        create_time: 1_760_000_400,
        reply_mode: 'random_one',
        keywords: [
          { match_mode: 'contain', content: '人工' },
          { match_mode: 'contain', content: '客服' },
        ],
        replies: [
          { type: 'text', content: '客服小美为您服务，请描述您的问题。' },
          { type: 'text', content: '客服小王为您服务，请描述您的问题。' },
        ],
      },
      {
        rule_name: '价格',
        create_time: 1_760_000_300,
        reply_mode: 'reply_all',
        keywords: [
          { match_mode: 'contain', content: '价格' },
          { match_mode: 'contain', content: '多少钱' },
        ],
        replies: [{ type: 'text', content: '价格表如下图：' }, image('price-list')],
      },
      {
        rule_name: '听歌',
        create_time: 1_760_000_200,
        reply_mode: 'random_one',
        keywords: [{ match_mode: 'equal', content: '听歌' }],
        replies: [voice('song')],
      },
      {
        rule_name: '营业时间',
        create_time: 1_760_000_100,
        reply_mode: 'random_one',
        keywords: [
          { match_mode: 'equal', content: '营业时间' },
          { match_mode: 'contain', content: '几点开门' },
        ],
        replies: [{ type: 'text', content: '营业时间：每天 9:00–21:00' }],
      },
    ],
    menu: [
      {
        name: '关于我们',
        sub_button: [
          { name: '公司简介', type: 'text', content: '小店成立于 2015 年，专注手工好物。' },
          { name: '官网', type: 'view', url: 'https://www.example.com/' },
          { name: '联系我们', ...image('contact-card') },
        ],
      },
      { name: '最新活动', type: 'news', mediaId: 'KQb_w_Tiz-nSdVLoTV35Ps_activity0000000000', articles: [article(3, '双十一预告', '全场八折起'), article(4, '会员日', '积分翻倍')] },
      {
        name: '服务',
        sub_button: [
          { name: '视频介绍', type: 'video', url: 'http://61.151.163.140/vweixinp.tc.qq.com/1007_fakemenuvideo.f10.mp4?vkey=FAKE&sha=0&save=1' },
          { name: '小程序商城', type: 'miniprogram', url: 'https://www.example.com/shop', appid: 'wx286b93c14bbf93aa', pagepath: 'pages/index/index' },
          { name: '在线客服', type: 'text', content: '在对话框直接发送您的问题即可，客服工作时间 9:00–18:00。' },
        ],
      },
    ],
  }
}
