/**
 * Every inbound message and event shape of the protocol (§2–§3), posted to the real server in
 * plaintext, compatible and safe mode, and what the handler saw: official field names, numbers
 * where WeChat sends numbers, 64-bit ids as exact strings, repeated children as arrays, values
 * never trimmed. Also fixtures from other SDKs' test suites (WxJava, wechatpy).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { delivery, field, msgId, openid, openReply, post, wechatXml, type Account, type Mode } from './wechat-side.js'
import { startWebhook, type WebhookServer } from './server.js'

const account: Account = { token: 'spamtest', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wx2c2769f8efd9abc2' }

interface Shape {
  /** The fields after the header, as WeChat writes them (`{id}` becomes a fresh MsgId). */
  xml: string
  /** What the handler must see besides the header (`{id}` is that MsgId). */
  expected: Record<string, unknown>
  shortcuts?: { eventKey?: string; scene?: string }
}

const SHAPES: Record<string, Shape> = {
  text: {
    xml: '<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[ this is a test 😀 ]]></Content>\n<MsgId>{id}</MsgId>\n<MsgDataId>xxxx</MsgDataId>\n<Idx>xxxx</Idx>',
    expected: { MsgType: 'text', Content: ' this is a test 😀 ', MsgId: '{id}', MsgDataId: 'xxxx', Idx: 'xxxx' },
  },
  'text from a msgmenu tap': {
    xml: '<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[满意]]></Content><MsgId>{id}</MsgId><bizmsgmenuid>101</bizmsgmenuid>',
    expected: { MsgType: 'text', Content: '满意', MsgId: '{id}', bizmsgmenuid: '101' },
  },
  image: {
    xml: '<MsgType><![CDATA[image]]></MsgType>\n<PicUrl><![CDATA[http://mmbiz.qpic.cn/abc]]></PicUrl>\n<MediaId><![CDATA[media_id]]></MediaId>\n<MsgId>{id}</MsgId>',
    expected: { MsgType: 'image', PicUrl: 'http://mmbiz.qpic.cn/abc', MediaId: 'media_id', MsgId: '{id}' },
  },
  voice: {
    xml: '<MsgType><![CDATA[voice]]></MsgType>\n<MediaId><![CDATA[media_id]]></MediaId>\n<Format><![CDATA[amr]]></Format>\n<MsgId>{id}</MsgId>\n<Recognition><![CDATA[]]></Recognition>\n<MediaId16K><![CDATA[media_id_16k]]></MediaId16K>',
    expected: { MsgType: 'voice', MediaId: 'media_id', Format: 'amr', MsgId: '{id}', Recognition: '', MediaId16K: 'media_id_16k' },
  },
  video: {
    xml: '<MsgType><![CDATA[video]]></MsgType>\n<MediaId><![CDATA[media_id]]></MediaId>\n<ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>\n<MsgId>{id}</MsgId>',
    expected: { MsgType: 'video', MediaId: 'media_id', ThumbMediaId: 'thumb_media_id', MsgId: '{id}' },
  },
  shortvideo: {
    xml: '<MsgType><![CDATA[shortvideo]]></MsgType>\n<MediaId><![CDATA[media_id]]></MediaId>\n<ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>\n<MsgId>{id}</MsgId>',
    expected: { MsgType: 'shortvideo', MediaId: 'media_id', ThumbMediaId: 'thumb_media_id', MsgId: '{id}' },
  },
  location: {
    xml: '<MsgType><![CDATA[location]]></MsgType>\n<Location_X>23.134521</Location_X>\n<Location_Y>113.358803</Location_Y>\n<Scale>20</Scale>\n<Label><![CDATA[位置信息]]></Label>\n<MsgId>{id}</MsgId>',
    expected: { MsgType: 'location', Location_X: 23.134521, Location_Y: 113.358803, Scale: 20, Label: '位置信息', MsgId: '{id}' },
  },
  link: {
    xml: '<MsgType><![CDATA[link]]></MsgType>\n<Title><![CDATA[公众平台官网链接]]></Title>\n<Description><![CDATA[公众平台官网链接]]></Description>\n<Url><![CDATA[url]]></Url>\n<MsgId>{id}</MsgId>',
    expected: { MsgType: 'link', Title: '公众平台官网链接', Description: '公众平台官网链接', Url: 'url', MsgId: '{id}' },
  },
  subscribe: {
    xml: '<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[subscribe]]></Event>\n<EventKey><![CDATA[]]></EventKey>',
    expected: { MsgType: 'event', Event: 'subscribe', EventKey: '' },
    shortcuts: { eventKey: '' },
  },
  'subscribe through a parametric QR code': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>',
    expected: { MsgType: 'event', Event: 'subscribe', EventKey: 'qrscene_123123', Ticket: 'TICKET' },
    shortcuts: { eventKey: 'qrscene_123123', scene: '123123' },
  },
  unsubscribe: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event><EventKey><![CDATA[]]></EventKey>',
    expected: { MsgType: 'event', Event: 'unsubscribe', EventKey: '' },
  },
  SCAN: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>',
    expected: { MsgType: 'event', Event: 'SCAN', EventKey: 'SCENE_VALUE', Ticket: 'TICKET' },
    shortcuts: { eventKey: 'SCENE_VALUE', scene: 'SCENE_VALUE' },
  },
  LOCATION: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>',
    expected: { MsgType: 'event', Event: 'LOCATION', Latitude: 23.137466, Longitude: 113.352425, Precision: 119.38504 },
  },
  CLICK: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[EVENTKEY]]></EventKey>',
    expected: { MsgType: 'event', Event: 'CLICK', EventKey: 'EVENTKEY' },
    shortcuts: { eventKey: 'EVENTKEY' },
  },
  VIEW: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId>',
    expected: { MsgType: 'event', Event: 'VIEW', EventKey: 'www.qq.com', MenuId: 'MENUID' },
  },
  view_miniprogram: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[view_miniprogram]]></Event><EventKey><![CDATA[pages/index/index]]></EventKey><MenuId>MENUID</MenuId>',
    expected: { MsgType: 'event', Event: 'view_miniprogram', EventKey: 'pages/index/index', MenuId: 'MENUID' },
  },
  scancode_waitmsg: {
    xml: '<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[scancode_waitmsg]]></Event>\n<EventKey><![CDATA[6]]></EventKey>\n<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>\n<ScanResult><![CDATA[2]]></ScanResult>\n</ScanCodeInfo>',
    expected: { MsgType: 'event', Event: 'scancode_waitmsg', EventKey: '6', ScanCodeInfo: { ScanType: 'qrcode', ScanResult: '2' } },
  },
  'pic_sysphoto (one picture: still an array)': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_sysphoto]]></Event>\n<EventKey><![CDATA[6]]></EventKey>\n<SendPicsInfo><Count>1</Count>\n<PicList><item><PicMd5Sum><![CDATA[1b5f7c23b5bf75682a53e7b6d163e185]]></PicMd5Sum></item></PicList>\n</SendPicsInfo>',
    expected: { MsgType: 'event', Event: 'pic_sysphoto', EventKey: '6', SendPicsInfo: { Count: 1, PicList: [{ PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }] } },
  },
  'pic_weixin (two pictures)': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[pic_weixin]]></Event><EventKey><![CDATA[6]]></EventKey><SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[a1]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[b2]]></PicMd5Sum></item></PicList></SendPicsInfo>',
    expected: { MsgType: 'event', Event: 'pic_weixin', EventKey: '6', SendPicsInfo: { Count: 2, PicList: [{ PicMd5Sum: 'a1' }, { PicMd5Sum: 'b2' }] } },
  },
  'location_select (a leading space in Label is kept)': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[location_select]]></Event>\n<EventKey><![CDATA[6]]></EventKey>\n<SendLocationInfo><Location_X><![CDATA[23]]></Location_X>\n<Location_Y><![CDATA[113]]></Location_Y>\n<Scale><![CDATA[15]]></Scale>\n<Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label>\n<Poiname><![CDATA[]]></Poiname>\n</SendLocationInfo>',
    expected: { MsgType: 'event', Event: 'location_select', EventKey: '6', SendLocationInfo: { Location_X: 23, Location_Y: 113, Scale: 15, Label: ' 广州市海珠区客村艺苑路 106号', Poiname: '' } },
  },
  TEMPLATESENDJOBFINISH: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>{id}</MsgID><Status><![CDATA[failed: system failed]]></Status>',
    expected: { MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '{id}', Status: 'failed: system failed' },
  },
  MASSSENDJOBFINISH: {
    xml: `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>{id}</MsgID>
<Status><![CDATA[err(30003)]]></Status>
<TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount>
<CopyrightCheckResult><Count>2</Count><ResultList>
  <item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState>
  <OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType>
  <CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item>
</ResultList><CheckState>2</CheckState></CopyrightCheckResult>
<ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[Url]]></ArticleUrl></item></ResultList></ArticleUrlResult>`,
    expected: {
      MsgType: 'event',
      Event: 'MASSSENDJOBFINISH',
      MsgID: '{id}',
      Status: 'err(30003)',
      TotalCount: 0,
      FilterCount: 0,
      SentCount: 0,
      ErrorCount: 0,
      CopyrightCheckResult: {
        Count: 2,
        ResultList: [{ ArticleIdx: 1, UserDeclareState: 0, AuditState: 2, OriginalArticleUrl: 'Url_1', OriginalArticleType: 1, CanReprint: 1, NeedReplaceContent: 1, NeedShowReprintSource: 1 }],
        CheckState: 2,
      },
      ArticleUrlResult: { Count: 1, ResultList: [{ ArticleIdx: 1, ArticleUrl: 'Url' }] },
    },
  },
  PUBLISHJOBFINISH: {
    xml: `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>
<PublishEventInfo>
  <publish_id>{id}</publish_id>
  <publish_status>0</publish_status>
  <article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4]]></article_id>
  <article_detail><count>1</count><item><idx>1</idx><article_url><![CDATA[ARTICLE_URL]]></article_url></item></article_detail>
</PublishEventInfo>`,
    expected: {
      MsgType: 'event',
      Event: 'PUBLISHJOBFINISH',
      PublishEventInfo: { publish_id: '{id}', publish_status: 0, article_id: 'b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4', article_detail: { count: 1, item: [{ idx: 1, article_url: 'ARTICLE_URL' }] } },
    },
  },
  'PUBLISHJOBFINISH (failed)': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>{id}</publish_id><publish_status>2</publish_status><fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo>',
    expected: { MsgType: 'event', Event: 'PUBLISHJOBFINISH', PublishEventInfo: { publish_id: '{id}', publish_status: 2, fail_idx: [1, 2] } },
  },
  kf_switch_session: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_switch_session]]></Event><FromKfAccount><![CDATA[test1@test]]></FromKfAccount><ToKfAccount><![CDATA[test2@test]]></ToKfAccount>',
    expected: { MsgType: 'event', Event: 'kf_switch_session', FromKfAccount: 'test1@test', ToKfAccount: 'test2@test' },
  },
  subscribe_msg_popup_event: {
    xml: `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>
<SubscribeMsgPopupEvent>
  <List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
        <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
  <List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>
        <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>
</SubscribeMsgPopupEvent>`,
    expected: {
      MsgType: 'event',
      Event: 'subscribe_msg_popup_event',
      SubscribeMsgPopupEvent: {
        List: [
          { TemplateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', SubscribeStatusString: 'accept', PopupScene: 2 },
          { TemplateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', SubscribeStatusString: 'reject', PopupScene: 2 },
        ],
      },
    },
  },
  'subscribe_msg_change_event (one List: still an array)': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_change_event]]></Event><SubscribeMsgChangeEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent>',
    expected: { MsgType: 'event', Event: 'subscribe_msg_change_event', SubscribeMsgChangeEvent: { List: [{ TemplateId: 'T1', SubscribeStatusString: 'reject' }] } },
  },
  subscribe_msg_sent_event: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List><TemplateId><![CDATA[T]]></TemplateId><MsgID>{id}</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>',
    expected: { MsgType: 'event', Event: 'subscribe_msg_sent_event', SubscribeMsgSentEvent: { List: [{ TemplateId: 'T', MsgID: '{id}', ErrorCode: 0, ErrorStatus: 'success' }] } },
  },
  user_authorization_revoke: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[user_authorization_revoke]]></Event><OpenID><![CDATA[owAqB1nqaOYYWl0Ng484G2z5NIwU]]></OpenID><AppID><![CDATA[wx13974bf780d3dc89]]></AppID><RevokeInfo><![CDATA[1]]></RevokeInfo>',
    expected: { MsgType: 'event', Event: 'user_authorization_revoke', OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU', AppID: 'wx13974bf780d3dc89', RevokeInfo: '1' },
  },
  naming_verify_fail: {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[naming_verify_fail]]></Event><FailTime>1442401061</FailTime><FailReason><![CDATA[by time]]></FailReason>',
    expected: { MsgType: 'event', Event: 'naming_verify_fail', FailTime: 1442401061, FailReason: 'by time' },
  },
  'an event not in the protocol passes through with its raw fields': {
    xml: '<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[some_future_event]]></Event><Foo><![CDATA[bar]]></Foo>',
    expected: { MsgType: 'event', Event: 'some_future_event', Foo: 'bar', unknown: true },
  },
}

const MODES: Mode[] = ['plain', 'compat', 'safe']

describe('every message and event shape, in the three modes', () => {
  let server: WebhookServer
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: account.token, WECHAT_APPID: account.appId!, WECHAT_AES_KEY: account.encodingAESKey! })))
  after(() => server?.stop())

  for (const [name, shape] of Object.entries(SHAPES)) {
    test(name, async () => {
      for (const mode of MODES) {
        const id = msgId()
        const from = openid()
        const createTime = Math.floor(Date.now() / 1000)
        const xml = wechatXml(shape.xml.replaceAll('{id}', id), { from, createTime })
        const answer = await post(server.url, delivery(account, xml, mode))
        assert.equal(answer.status, 200, `${mode}: ${answer.body}`)
        const seen = server.seenFrom(from)
        assert.ok(seen !== undefined, `${mode}: the handler never ran`)
        const expected = JSON.parse(JSON.stringify({ ToUserName: 'gh_de0f036ce08f', FromUserName: from, CreateTime: createTime, ...shape.expected }).replaceAll('{id}', id))
        assert.deepEqual(seen.message, expected, mode)
        assert.equal(seen.openid, from)
        if (shape.expected.MsgId !== undefined) assert.equal(seen.msgId, id)
        if (shape.shortcuts?.eventKey !== undefined) assert.equal(seen.eventKey, shape.shortcuts.eventKey)
        assert.equal(seen.scene, shape.shortcuts?.scene)
        // an answer WeChat accepts: success, or a reply to this user from this account (encrypted in compat and safe mode)
        if (answer.body !== 'success') {
          const reply = openReply(account, answer)
          assert.equal(reply.encrypted, mode !== 'plain')
          assert.equal(field(reply.xml, 'ToUserName'), from)
          assert.equal(field(reply.xml, 'FromUserName'), 'gh_de0f036ce08f')
        }
      }
    })
  }

  test('WxJava fixture: a text whose id is spelled MsgID still has its MsgId', async () => {
    const from = openid()
    const answer = await post(server.url, delivery(account, `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName> <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgID>1234567890123456</MsgID></xml>`))
    assert.equal(answer.status, 200)
    const seen = server.seenFrom(from)!
    assert.equal(seen.message.MsgId, '1234567890123456')
    assert.equal(seen.msgId, '1234567890123456')
  })

  test('job-finish events with MsgId spelled the ordinary way are read, not refused', async () => {
    for (const [event, extra] of [
      ['TEMPLATESENDJOBFINISH', '<Status><![CDATA[success]]></Status>'],
      ['MASSSENDJOBFINISH', '<Status><![CDATA[send success]]></Status><TotalCount>1</TotalCount>'],
    ] as const) {
      const from = openid()
      const id = msgId()
      const answer = await post(server.url, delivery(account, wechatXml(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event><MsgId>${id}</MsgId>${extra}`, { from })))
      assert.equal(answer.status, 200, `${event}: ${answer.body}`)
      assert.equal(server.seenFrom(from)?.message.MsgID, id)
    }
  })

  test('two publish jobs finishing in the same second are two events (the second is not taken for a retry)', async () => {
    const createTime = Math.floor(Date.now() / 1000)
    const seenBefore = server.seen().length
    for (const id of [msgId(), msgId()]) {
      const xml = wechatXml(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo><publish_id>${id}</publish_id><publish_status>0</publish_status></PublishEventInfo>`, { from: 'mphelper', createTime })
      assert.equal((await post(server.url, delivery(account, xml))).status, 200)
    }
    assert.equal(server.seen().length - seenBefore, 2)
  })

  test('wechatpy fixtures: indented documents, a leading newline, beacons as an array', async () => {
    const from = openid()
    const xml = `
        <xml>
        <ToUserName><![CDATA[toUser]]></ToUserName>
        <FromUserName><![CDATA[${from}]]></FromUserName>
        <CreateTime>1433332012</CreateTime>
        <MsgType><![CDATA[event]]></MsgType>
        <Event><![CDATA[ShakearoundUserShake]]></Event>
        <ChosenBeacon>
            <Uuid><![CDATA[uuid]]></Uuid>
            <Major>major</Major>
            <Minor>minor</Minor>
            <Distance>0.057</Distance>
        </ChosenBeacon>
        <AroundBeacons>
            <AroundBeacon>
                <Uuid><![CDATA[uuid]]></Uuid>
                <Major>major</Major>
                <Minor>minor</Minor>
                <Distance>166.816</Distance>
            </AroundBeacon>
        </AroundBeacons>
        </xml>`
    assert.equal((await post(server.url, delivery(account, xml))).status, 200)
    const seen = server.seenFrom(from)!
    assert.deepEqual(seen.message.ChosenBeacon, { Uuid: 'uuid', Major: 'major', Minor: 'minor', Distance: 0.057 })
    assert.deepEqual(seen.message.AroundBeacons, [{ Uuid: 'uuid', Major: 'major', Minor: 'minor', Distance: 166.816 }])
  })
})
