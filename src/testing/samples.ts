/**
 * Example inbound documents for every message and event type in messages/table.ts, in the
 * shapes WeChat sends (protocol.md §2–§3). The simulator sends them; tests parse them.
 */
import { buildXml, type XmlElements } from '../xml/build.js'
import type { EventName, MessageTypeName } from '../messages/table.js'
import { MORE_SAMPLES } from './samples-more.js'

export type SampleKind = MessageTypeName | `event:${EventName}`

export interface SampleOptions {
  /** The user's OpenID (FromUserName). */
  openid?: string
  /** The account's 原始ID (ToUserName). */
  account?: string
  /** Unix seconds. */
  createTime?: number
  /** MsgId for ordinary messages; digits, may exceed 2^53. */
  msgId?: string
}

type Body = XmlElements
const pics: Body = { Count: 1, PicList: { item: [{ PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }] } }
const scan: Body = { ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '1' } }
const sendLocation: Body = { Location_X: '23', Location_Y: '113', Scale: '15', Label: ' 广州市海珠区客村艺苑路 106号', Poiname: '' }

/** The type-specific fields of each sample; `MsgId` and the header are added by sampleXml. */
export const SAMPLE_BODIES: Record<SampleKind, Body> = {
  text: { Content: '你好' },
  image: { PicUrl: 'http://mmbiz.qpic.cn/mmbiz/sample/0', MediaId: 'image_media_id' },
  voice: { MediaId: 'voice_media_id', Format: 'amr', Recognition: '', MediaId16K: 'voice_media_id_16k' },
  video: { MediaId: 'video_media_id', ThumbMediaId: 'thumb_media_id' },
  shortvideo: { MediaId: 'shortvideo_media_id', ThumbMediaId: 'thumb_media_id' },
  location: { Location_X: 23.134521, Location_Y: 113.358803, Scale: 20, Label: '位置信息' },
  link: { Title: '公众平台官网链接', Description: '公众平台官网链接', Url: 'https://mp.weixin.qq.com' },
  'event:subscribe': { EventKey: '' },
  'event:unsubscribe': { EventKey: '' },
  'event:SCAN': { EventKey: '123123', Ticket: 'TICKET' },
  'event:LOCATION': { Latitude: 23.137466, Longitude: 113.352425, Precision: 119.38504 },
  'event:CLICK': { EventKey: 'V1001_TODAY_MUSIC' },
  'event:VIEW': { EventKey: 'https://www.qq.com', MenuId: '208379533' },
  'event:view_miniprogram': { EventKey: 'pages/index/index', MenuId: '208379533' },
  'event:scancode_push': { EventKey: '6', ...scan },
  'event:scancode_waitmsg': { EventKey: '6', ...scan },
  'event:pic_sysphoto': { EventKey: '6', SendPicsInfo: pics },
  'event:pic_photo_or_album': { EventKey: '6', SendPicsInfo: pics },
  'event:pic_weixin': { EventKey: '6', SendPicsInfo: pics },
  'event:location_select': { EventKey: '6', SendLocationInfo: sendLocation },
  'event:TEMPLATESENDJOBFINISH': { MsgID: 200163836n, Status: 'success' },
  'event:MASSSENDJOBFINISH': {
    MsgID: 1000001625n,
    Status: 'err(30003)',
    TotalCount: 0,
    FilterCount: 0,
    SentCount: 0,
    ErrorCount: 0,
    CopyrightCheckResult: {
      Count: 1,
      ResultList: { item: [{ ArticleIdx: 1, UserDeclareState: 0, AuditState: 2, OriginalArticleUrl: 'Url_1', OriginalArticleType: 1, CanReprint: 1, NeedReplaceContent: 1, NeedShowReprintSource: 1 }] },
      CheckState: 2,
    },
    ArticleUrlResult: { Count: 1, ResultList: { item: [{ ArticleIdx: 1, ArticleUrl: 'Url' }] } },
  },
  'event:PUBLISHJOBFINISH': {
    PublishEventInfo: {
      publish_id: 2247503051n,
      publish_status: 0,
      article_id: 'b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4',
      article_detail: { count: 1, item: [{ idx: 1, article_url: 'ARTICLE_URL' }] },
    },
  },
  'event:kf_create_session': { KfAccount: 'test1@test' },
  'event:kf_close_session': { KfAccount: 'test1@test' },
  'event:kf_switch_session': { FromKfAccount: 'test1@test', ToKfAccount: 'test2@test' },
  'event:subscribe_msg_popup_event': {
    SubscribeMsgPopupEvent: {
      List: [
        { TemplateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', SubscribeStatusString: 'accept', PopupScene: 2 },
        { TemplateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', SubscribeStatusString: 'reject', PopupScene: 2 },
      ],
    },
  },
  'event:subscribe_msg_change_event': { SubscribeMsgChangeEvent: { List: [{ TemplateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', SubscribeStatusString: 'reject' }] } },
  'event:subscribe_msg_sent_event': {
    SubscribeMsgSentEvent: { List: [{ TemplateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', MsgID: 1700827132819554304n, ErrorCode: 0, ErrorStatus: 'success' }] },
  },
  'event:user_authorization_revoke': { OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU', AppID: 'wx13974bf780d3dc89', RevokeInfo: '1' },
  'event:user_info_modified': { OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU', AppID: 'wx13974bf780d3dc89' },
  'event:qualification_verify_success': { ExpiredTime: 1442401156 },
  'event:naming_verify_success': { ExpiredTime: 1442401156 },
  'event:annual_renew': { ExpiredTime: 1442401156 },
  'event:verify_expired': { ExpiredTime: 1442401156 },
  'event:qualification_verify_fail': { FailTime: 1442401122, FailReason: 'by time' },
  'event:naming_verify_fail': { FailTime: 1442401122, FailReason: 'by time' },
  ...MORE_SAMPLES,
}

export const SAMPLE_KINDS = Object.keys(SAMPLE_BODIES) as SampleKind[]

let msgIdCounter = 0n
/** A fresh 64-bit-range MsgId, as a string. */
export function nextMsgId(): string {
  msgIdCounter += 1n
  return (6054768590064713728n + BigInt(Date.now()) * 1000n + msgIdCounter).toString()
}

/**
 * The XML of a sample of `kind`, with `fields` overriding or adding type-specific elements.
 * @example sampleXml('text', { Content: 'hi' }, { openid: 'o123' })
 */
export function sampleXml(kind: SampleKind, fields: Body = {}, options: SampleOptions = {}): string {
  const isEvent = kind.startsWith('event:')
  const head: Body = {
    ToUserName: options.account ?? 'gh_wxmp_sample',
    FromUserName: options.openid ?? 'oWxmpSampleUser000000000000',
    CreateTime: options.createTime ?? Math.floor(Date.now() / 1000),
    MsgType: isEvent ? 'event' : kind,
  }
  if (isEvent) head.Event = kind.slice('event:'.length)
  const body: Body = { ...SAMPLE_BODIES[kind], ...fields }
  if (!isEvent) body.MsgId = BigInt(options.msgId ?? nextMsgId())
  return buildXml({ ...head, ...body })
}
