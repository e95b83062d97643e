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
  /** A mini-program card a user sent in a mini program's customer-service chat. */
  miniprogrampage: { ...ORDINARY, Title: optional(string), AppId: optional(string), PagePath: optional(string), ThumbUrl: optional(string), ThumbMediaId: optional(string) },
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

/**
 * Card (卡券) and member-card events: the card and the user's code. The newer rows below keep
 * their fields optional: a missing field must never turn a real event into a 400.
 */
const card = { CardId: optional(string), UserCardCode: optional(string) } as const
/** Product-scan (扫一扫商品) events: the barcode standard and its value. */
const product = { KeyStandard: optional(string), KeyStr: optional(string), ExtInfo: optional(string) } as const
/** Hardware-device events. */
const device = { DeviceType: optional(string), DeviceID: optional(string), OpenID: optional(string) } as const
const beacon = object({ Uuid: optional(string), Major: optional(string), Minor: optional(string), Distance: optional(number) })

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
  // cards and member cards (卡券, 会员卡)
  card_pass_check: { CardId: optional(string), RefuseReason: optional(string) },
  card_not_pass_check: { CardId: optional(string), RefuseReason: optional(string) },
  user_get_card: {
    ...card,
    IsGiveByFriend: optional(number),
    FriendUserName: optional(string),
    OldUserCardCode: optional(string),
    OuterId: optional(string),
    OuterStr: optional(string),
    IsRestoreMemberCard: optional(number),
    IsRecommendByFriend: optional(number),
    UnionId: optional(string),
  },
  user_gifting_card: { ...card, IsReturnBack: optional(number), FriendUserName: optional(string), IsChatRoom: optional(number) },
  user_del_card: card,
  user_consume_card: { ...card, ConsumeSource: optional(string), LocationName: optional(string), StaffOpenId: optional(string), VerifyCode: optional(string), RemarkAmount: optional(string), OuterStr: optional(string) },
  user_pay_from_pay_cell: { ...card, TransId: optional(string), LocationId: optional(string), Fee: optional(string), OriginalFee: optional(string) },
  user_view_card: { ...card, OuterStr: optional(string) },
  user_enter_session_from_card: card,
  update_member_card: { ...card, ModifyBonus: optional(number), ModifyBalance: optional(number) },
  card_sku_remind: { CardId: optional(string), Detail: optional(string) },
  card_pay_order: { OrderId: optional(string), Status: optional(string), CreateOrderTime: optional(number), PayFinishTime: optional(number), Desc: optional(string), FreeCoinCount: optional(string), PayCoinCount: optional(string), RefundFreeCoinCount: optional(string), RefundPayCoinCount: optional(string), OrderType: optional(string), Memo: optional(string), ReceiptInfo: optional(string) },
  submit_membercard_user_info: card,
  // invoices (电子发票)
  user_authorize_invoice: { SuccOrderId: optional(string), FailOrderId: optional(string), AppId: optional(string), Source: optional(string) },
  update_invoice_status: { Status: optional(string), CardId: optional(string), Code: optional(string) },
  submit_invoice_title: {
    title: optional(string),
    phone: optional(string),
    tax_no: optional(string),
    addr: optional(string),
    bank_type: optional(string),
    bank_no: optional(string),
    attach: optional(string),
    title_type: optional(string),
  },
  // Wi-Fi, shake (摇一摇周边), stores (门店)
  WifiConnected: { ConnectTime: optional(number), ExpireTime: optional(number), VendorId: optional(string), ShopId: optional(string), PlaceId: optional(string), DeviceNo: optional(string) },
  ShakearoundUserShake: { ChosenBeacon: optional(beacon), AroundBeacons: optional(list(beacon, 'AroundBeacon')) },
  poi_check_notify: { UniqId: optional(string), PoiId: optional(string), Result: optional(string), Msg: optional(string) },
  // product scans (扫一扫)
  user_scan_product: { ...product, Country: optional(string), Province: optional(string), City: optional(string), Sex: optional(number), Scene: optional(number) },
  user_scan_product_enter_session: product,
  user_scan_product_async: { ...product, RegionCode: optional(string) },
  user_scan_product_verify_action: { KeyStandard: optional(string), KeyStr: optional(string), Result: optional(string), ReasonMsg: optional(string) },
  subscribe_scan_product: { ...optionalKey },
  // mini programs, shops and devices
  user_enter_tempsession: { SessionFrom: optional(string) },
  weapp_audit_success: { SuccTime: optional(number) },
  merchant_order: { OrderId: optional(string), OrderStatus: optional(number), ProductId: optional(string), SkuInfo: optional(string) },
  device_text: { ...device, SessionID: optional(string), Content: optional(string) },
  device_bind: { ...device, SessionID: optional(string), Content: optional(string) },
  device_unbind: { ...device, SessionID: optional(string), Content: optional(string) },
  device_subscribe_status: { ...device, OpType: optional(number) },
  device_unsubscribe_status: { ...device, OpType: optional(number) },
} as const satisfies Record<string, FieldMap>

export type MessageTypeName = keyof typeof MESSAGE_TABLE
export type EventName = keyof typeof EVENT_TABLE

/** Case-insensitive lookup of event names: the canonical spelling for a name WeChat varies. */
export const EVENT_NAMES_BY_LOWER_CASE: ReadonlyMap<string, EventName> = new Map(
  (Object.keys(EVENT_TABLE) as EventName[]).map((name) => [name.toLowerCase(), name]),
)
