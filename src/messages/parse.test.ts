import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseMessage } from './parse.js'
import { SAMPLE_KINDS, sampleXml } from '../testing/samples.js'
import { isWxmpError } from '../errors.js'
import type { WechatMessage } from './types.js'

test('every sample type and event parses, known and typed', () => {
  for (const kind of SAMPLE_KINDS) {
    const msg = parseMessage(sampleXml(kind))
    assert.equal('unknown' in msg, false, kind)
    if (kind.startsWith('event:')) assert.equal((msg as { Event: string }).Event, kind.slice(6))
    else assert.equal(msg.MsgType, kind)
    assert.equal(typeof msg.CreateTime, 'number')
  }
})

test('official text message: CreateTime a number, MsgId a string beyond 2^53, Content verbatim', () => {
  const msg = parseMessage(
    '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[ 0123 ]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>',
  )
  assert.equal(msg.MsgType, 'text')
  if (msg.MsgType !== 'text' || 'unknown' in msg) return
  assert.equal(msg.CreateTime, 1409735668)
  assert.equal(msg.MsgId, '6054768590064713728')
  assert.equal(msg.Content, ' 0123 ')
})

test('location message coordinates are numbers', () => {
  const msg = parseMessage(sampleXml('location')) as Extract<WechatMessage, { MsgType: 'location' }>
  assert.equal(msg.Location_X, 23.134521)
  assert.equal(msg.Scale, 20)
})

test('nested event info is structured and single items become arrays', () => {
  const pics = parseMessage(sampleXml('event:pic_sysphoto')) as Record<string, any>
  assert.deepEqual(pics.SendPicsInfo, { Count: 1, PicList: [{ PicMd5Sum: '1b5f7c23b5bf75682a53e7b6d163e185' }] })
  const scan = parseMessage(sampleXml('event:scancode_waitmsg')) as Record<string, any>
  assert.deepEqual(scan.ScanCodeInfo, { ScanType: 'qrcode', ScanResult: '1' })
  const loc = parseMessage(sampleXml('event:location_select')) as Record<string, any>
  assert.deepEqual(loc.SendLocationInfo, { Location_X: 23, Location_Y: 113, Scale: 15, Label: ' 广州市海珠区客村艺苑路 106号', Poiname: '' })
  const sent = parseMessage(sampleXml('event:subscribe_msg_sent_event')) as Record<string, any>
  assert.deepEqual(sent.SubscribeMsgSentEvent.List, [{ TemplateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', MsgID: '1700827132819554304', ErrorCode: 0, ErrorStatus: 'success' }])
  const popup = parseMessage(sampleXml('event:subscribe_msg_popup_event')) as Record<string, any>
  assert.equal(popup.SubscribeMsgPopupEvent.List.length, 2)
  const pub = parseMessage(sampleXml('event:PUBLISHJOBFINISH', { PublishEventInfo: { publish_id: 9007199254740993n, publish_status: 2, fail_idx: [1, 2] } })) as Record<string, any>
  assert.deepEqual(pub.PublishEventInfo, { publish_id: '9007199254740993', publish_status: 2, fail_idx: [1, 2] })
})

test('MASSSENDJOBFINISH keeps MsgID as a string and lists results', () => {
  const msg = parseMessage(sampleXml('event:MASSSENDJOBFINISH')) as Record<string, any>
  assert.equal(msg.MsgID, '1000001625')
  assert.equal(msg.CopyrightCheckResult.ResultList[0].AuditState, 2)
  assert.deepEqual(msg.ArticleUrlResult.ResultList, [{ ArticleIdx: 1, ArticleUrl: 'Url' }])
})

test('the change event is accepted with the popup wrapper the official sample once used', () => {
  const xml = sampleXml('event:subscribe_msg_change_event', { SubscribeMsgChangeEvent: undefined, SubscribeMsgPopupEvent: { List: { TemplateId: 'T', SubscribeStatusString: 'reject' } } })
  const msg = parseMessage(xml) as Record<string, any>
  assert.deepEqual(msg.SubscribeMsgChangeEvent.List, [{ TemplateId: 'T', SubscribeStatusString: 'reject' }])
})

test('unknown message types and events pass through with raw fields', () => {
  const card = parseMessage('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>card_future_event</Event><CardId>p1</CardId></xml>') as Record<string, any>
  assert.equal(card.unknown, true)
  assert.equal(card.Event, 'card_future_event')
  assert.equal(card.CardId, 'p1')
  const file = parseMessage('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>file</MsgType><Title>x</Title></xml>') as Record<string, any>
  assert.equal(file.unknown, true)
  assert.equal(file.Title, 'x')
})

test('event names match case-insensitively and are canonicalised', () => {
  const msg = parseMessage('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>scan</Event><EventKey>1</EventKey></xml>') as Record<string, any>
  assert.equal(msg.Event, 'SCAN')
})

test('missing header or type fields, and non-numeric numbers, are WX_ERR_MESSAGE_INVALID', () => {
  const cases = [
    '<xml><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><Content>x</Content></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>north</Location_X><Location_Y>1</Location_Y></xml>',
    '<xml><ToUserName><a>nested</a></ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>',
    '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><Content>y</Content></xml>',
  ]
  for (const xml of cases) assert.throws(() => parseMessage(xml), (err) => isWxmpError(err, 'WX_ERR_MESSAGE_INVALID'), xml)
})
