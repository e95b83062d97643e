/**
 * Samples of the card, invoice, Wi-Fi, shake, store, product-scan, mini-program and device
 * events and the miniprogrampage message, in WeChat's shapes; samples.ts spreads them in.
 */
import type { XmlElements } from '../xml/build.js'

const card = { CardId: 'pFS7Fjg8kV1IdDz01r4SQwMkuCKc', UserCardCode: '12312312' }
const beacon = { Uuid: 'uuid-fake-0001', Major: '10001', Minor: '12', Distance: 0.057 }

export const MORE_SAMPLES = {
  miniprogrampage: { Title: '小程序卡片', AppId: 'wxa1b2c3d4e5f60718', PagePath: 'pages/index/index', ThumbUrl: 'http://mmbiz.qpic.cn/thumb', ThumbMediaId: 'thumb_media_id' },
  'event:card_pass_check': { CardId: card.CardId, RefuseReason: '' },
  'event:card_not_pass_check': { CardId: card.CardId, RefuseReason: '非法代制' },
  'event:user_get_card': { ...card, IsGiveByFriend: 0, FriendUserName: '', OldUserCardCode: '', OuterId: 0, OuterStr: '12b', IsRestoreMemberCard: 0, IsRecommendByFriend: 0, UnionId: 'o6_bmasdasdsad6_2sgVt7hMZOPfL' },
  'event:user_gifting_card': { ...card, IsReturnBack: 0, FriendUserName: 'oFriend000000001', IsChatRoom: 0 },
  'event:user_del_card': card,
  'event:user_consume_card': { ...card, ConsumeSource: 'FROM_API', LocationName: '', StaffOpenId: 'oStaff0000000001', VerifyCode: '', RemarkAmount: '', OuterStr: 'xxxxx' },
  'event:user_pay_from_pay_cell': { ...card, TransId: '10022403432015000000000', LocationId: '291710954', Fee: '10000', OriginalFee: '10000' },
  'event:user_view_card': { ...card, OuterStr: '12b' },
  'event:user_enter_session_from_card': card,
  'event:update_member_card': { ...card, ModifyBonus: 3, ModifyBalance: 0 },
  'event:card_sku_remind': { CardId: card.CardId, Detail: 'the card\'s quantity is equal to 0' },
  'event:card_pay_order': { OrderId: '404091456', Status: 'ORDER_STATUS_FINANCE_SUCC', CreateOrderTime: 1472973722, PayFinishTime: 0, Desc: '', FreeCoinCount: '200', PayCoinCount: '0', RefundFreeCoinCount: '0', RefundPayCoinCount: '0', OrderType: 'ORDER_TYPE_SYS_ADD', Memo: '开通账户奖励', ReceiptInfo: '' },
  'event:submit_membercard_user_info': card,
  'event:user_authorize_invoice': { SuccOrderId: '1202', FailOrderId: '', AppId: 'wx6b31ff0c2b0b02c1', Source: 'web' },
  'event:update_invoice_status': { Status: 'INVOICE_REIMBURSE_INIT', CardId: card.CardId, Code: '000000' },
  'event:submit_invoice_title': { title: '样例公司抬头', phone: '', tax_no: '91440101MA5XXXXXXX', addr: '', bank_type: '', bank_no: '', attach: '', title_type: 'InvoiceUserTitleBusinessType' },
  'event:WifiConnected': { ConnectTime: 1445410592, ExpireTime: 0, VendorId: '3001224419', ShopId: 'PlaceId', PlaceId: '9203002', DeviceNo: 'DeviceNo' },
  'event:ShakearoundUserShake': { ChosenBeacon: beacon, AroundBeacons: { AroundBeacon: [beacon, { ...beacon, Minor: '13', Distance: 166.816 }] } },
  'event:poi_check_notify': { UniqId: '123adb', PoiId: '123123', Result: 'fail', Msg: '' },
  'event:user_scan_product': { KeyStandard: 'ean13', KeyStr: '6901481811083', Country: '中国', Province: '广东', City: '广州', Sex: 1, Scene: 2, ExtInfo: '123' },
  'event:user_scan_product_enter_session': { KeyStandard: 'ean13', KeyStr: '6901481811083', ExtInfo: '123' },
  'event:user_scan_product_async': { KeyStandard: 'ean13', KeyStr: '6901481811083', ExtInfo: '123', RegionCode: '440105' },
  'event:user_scan_product_verify_action': { KeyStandard: 'ean13', KeyStr: '6901481811083', Result: 'verify_ok', ReasonMsg: '' },
  'event:subscribe_scan_product': { EventKey: 'scanbarcode|keystandard|keystr' },
  'event:user_enter_tempsession': { SessionFrom: 'sessionFrom' },
  'event:weapp_audit_success': { SuccTime: 1488856741 },
  'event:merchant_order': { OrderId: '13921889655493847263', OrderStatus: 2, ProductId: 'pDF3iY_m2M7EQ5EKKKWd95kAxfNw', SkuInfo: '10001:1000012;10002:100021' },
  'event:device_text': { DeviceType: 'gh_device', DeviceID: 'dev1', OpenID: 'oDevUser00000001', SessionID: '9394', Content: 'aGVsbG8=' },
  'event:device_bind': { DeviceType: 'gh_device', DeviceID: 'dev1', OpenID: 'oDevUser00000001', SessionID: '9394', Content: '' },
  'event:device_unbind': { DeviceType: 'gh_device', DeviceID: 'dev1', OpenID: 'oDevUser00000001', SessionID: '9394', Content: '' },
  'event:device_subscribe_status': { DeviceType: 'gh_device', DeviceID: 'dev1', OpenID: 'oDevUser00000001', OpType: 1 },
  'event:device_unsubscribe_status': { DeviceType: 'gh_device', DeviceID: 'dev1', OpenID: 'oDevUser00000001', OpType: 0 },
} as const satisfies Record<string, XmlElements>
