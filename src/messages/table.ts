/**
 * THE table of inbound message and event types (protocol.md §2–§3). It drives the parser
 * (which fields are numbers, ids, arrays, required) and the typed filters:
 * `bot.on('event:CLICK', ctx => ctx.message.EventKey)` is typed from the row `CLICK` below.
 */
import { id, list, number, object, optional, string, type FieldMap } from './schema.js'

/** Fields every document has. */
export const HEADER = {
  ToUserName: string,
  FromUserName: string,
  CreateTime: number,
  MsgType: string,
} as const satisfies FieldMap

/** Fields of ordinary (non-event) messages. MsgId is absent in some old or hand-made traffic. */
const ORDINARY = {
  MsgId: optional(id),
  MsgDataId: optional(string),
  Idx: optional(string),
} as const satisfies FieldMap

const media = { MediaId: string, ThumbMediaId: optional(string) } as const

export const MESSAGE_TABLE = {
  text: { ...ORDINARY, Content: string, bizmsgmenuid: optional(string) },
  image: { ...ORDINARY, PicUrl: optional(string), MediaId: string },
  voice: { ...ORDINARY, MediaId: string, Format: optional(string), MediaId16K: optional(string), Recognition: optional(string) },
  video: { ...ORDINARY, ...media },
  shortvideo: { ...ORDINARY, ...media },
  location: { ...ORDINARY, Location_X: number, Location_Y: number, Scale: optional(number), Label: optional(string) },
  link: { ...ORDINARY, Title: optional(string), Description: optional(string), Url: string },
} as const satisfies Record<string, FieldMap>

const key = { EventKey: string } as const
const optionalKey = { EventKey: optional(string) } as const
const scanCode = { ...key, ScanCodeInfo: object({ ScanType: string, ScanResult: string }) } as const
const sendPics = {
  ...key,
  SendPicsInfo: object({ Count: number, PicList: list(object({ PicMd5Sum: string }), 'item') }),
} as const
const subscribeList = <F extends FieldMap>(fields: F) => object({ List: list(object(fields)) })
const popupList = subscribeList({ TemplateId: string, SubscribeStatusString: string, PopupScene: optional(number) })
const copyrightItem = object({
  ArticleIdx: number,
  UserDeclareState: optional(number),
  AuditState: optional(number),
  OriginalArticleUrl: optional(string),
  OriginalArticleType: optional(number),
  CanReprint: optional(number),
  NeedReplaceContent: optional(number),
  NeedShowReprintSource: optional(number),
})

export const EVENT_TABLE = {
  subscribe: { ...optionalKey, Ticket: optional(string) },
  unsubscribe: { ...optionalKey },
  SCAN: { ...key, Ticket: optional(string) },
  LOCATION: { Latitude: number, Longitude: number, Precision: optional(number) },
  CLICK: { ...key },
  VIEW: { ...key, MenuId: optional(string) },
  view_miniprogram: { ...key, MenuId: optional(string) },
  scancode_push: scanCode,
  scancode_waitmsg: scanCode,
  pic_sysphoto: sendPics,
  pic_photo_or_album: sendPics,
  pic_weixin: sendPics,
  location_select: {
    ...key,
    SendLocationInfo: object({
      Location_X: number,
      Location_Y: number,
      Scale: optional(number),
      Label: optional(string),
      Poiname: optional(string),
    }),
  },
  TEMPLATESENDJOBFINISH: { MsgID: id, Status: string },
  MASSSENDJOBFINISH: {
    MsgID: id,
    Status: string,
    TotalCount: optional(number),
    FilterCount: optional(number),
    SentCount: optional(number),
    ErrorCount: optional(number),
    CopyrightCheckResult: optional(object({ Count: optional(number), ResultList: optional(list(copyrightItem, 'item')), CheckState: optional(number) })),
    ArticleUrlResult: optional(object({ Count: optional(number), ResultList: optional(list(object({ ArticleIdx: number, ArticleUrl: string }), 'item')) })),
  },
  PUBLISHJOBFINISH: {
    PublishEventInfo: object({
      publish_id: id,
      publish_status: number,
      article_id: optional(string),
      article_detail: optional(object({ count: optional(number), item: list(object({ idx: number, article_url: string })) })),
      fail_idx: optional(list(number)),
    }),
  },
  kf_create_session: { KfAccount: string },
  kf_close_session: { KfAccount: string },
  kf_switch_session: { FromKfAccount: string, ToKfAccount: string },
  subscribe_msg_popup_event: { SubscribeMsgPopupEvent: popupList },
  subscribe_msg_change_event: { SubscribeMsgChangeEvent: subscribeList({ TemplateId: string, SubscribeStatusString: string }) },
  subscribe_msg_sent_event: {
    SubscribeMsgSentEvent: subscribeList({ TemplateId: string, MsgID: id, ErrorCode: number, ErrorStatus: optional(string) }),
  },
  user_authorization_revoke: { OpenID: optional(string), AppID: optional(string), RevokeInfo: optional(string) },
  user_info_modified: { OpenID: optional(string), AppID: optional(string) },
  qualification_verify_success: { ExpiredTime: optional(number) },
  naming_verify_success: { ExpiredTime: optional(number) },
  annual_renew: { ExpiredTime: optional(number) },
  verify_expired: { ExpiredTime: optional(number) },
  qualification_verify_fail: { FailTime: optional(number), FailReason: optional(string) },
  naming_verify_fail: { FailTime: optional(number), FailReason: optional(string) },
} as const satisfies Record<string, FieldMap>

export type MessageTypeName = keyof typeof MESSAGE_TABLE
export type EventName = keyof typeof EVENT_TABLE

/** Case-insensitive lookup of event names: the canonical spelling for a name WeChat varies. */
export const EVENT_NAMES_BY_LOWER_CASE: ReadonlyMap<string, EventName> = new Map(
  (Object.keys(EVENT_TABLE) as EventName[]).map((name) => [name.toLowerCase(), name]),
)
