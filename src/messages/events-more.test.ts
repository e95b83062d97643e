import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'
import { parseMessage } from './parse.js'
import { EVENT_TABLE } from './table.js'

const token = 'eventstoken'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

test('card, invoice, Wi-Fi, shake, store, product-scan, mini-program and device events are in the table', () => {
  for (const name of ['card_pass_check', 'user_get_card', 'user_consume_card', 'update_member_card', 'submit_membercard_user_info', 'user_authorize_invoice', 'submit_invoice_title', 'WifiConnected', 'ShakearoundUserShake', 'poi_check_notify', 'user_scan_product', 'subscribe_scan_product', 'user_enter_tempsession', 'merchant_order', 'device_text']) {
    assert.ok(name in EVENT_TABLE, name)
  }
})

test('typed routes for the new events: bot.on compiles with their fields and runs', async () => {
  const bot = new Bot({ token, logger: quiet })
  bot.on('event:user_get_card', (ctx) => ctx.reply(`card ${ctx.message.CardId} code ${ctx.message.UserCardCode ?? ''}`))
  bot.on('event:ShakearoundUserShake', (ctx) => ctx.reply(`beacons ${ctx.message.AroundBeacons?.length ?? 0}, nearest ${ctx.message.ChosenBeacon?.Distance ?? -1}`))
  bot.on('event:user_enter_tempsession', (ctx) => ctx.reply(`from ${ctx.message.SessionFrom ?? ''}`))
  bot.on('miniprogrampage', (ctx) => ctx.reply(`${ctx.message.AppId} ${ctx.message.PagePath}`))
  const say = async (xml: string) => readReply(await bot.handle(signedRequest({ token, xml })), { token }).reply?.Content
  assert.equal(await say(sampleXml('event:user_get_card')), 'card pFS7Fjg8kV1IdDz01r4SQwMkuCKc code 12312312')
  assert.equal(await say(sampleXml('event:ShakearoundUserShake')), 'beacons 2, nearest 0.057')
  assert.equal(await say(sampleXml('event:user_enter_tempsession')), 'from sessionFrom')
  assert.equal(await say(sampleXml('miniprogrampage')), 'wxa1b2c3d4e5f60718 pages/index/index')
})

test('WeChat\'s own spelling varies: wificonnected is canonicalised to WifiConnected with typed numbers', () => {
  const xml = sampleXml('event:WifiConnected').replace('<Event><![CDATA[WifiConnected]]></Event>', '<Event><![CDATA[wificonnected]]></Event>')
  const msg = parseMessage(xml) as Record<string, unknown>
  assert.equal(msg.Event, 'WifiConnected')
  assert.equal(msg.ConnectTime, 1445410592)
  assert.equal('unknown' in msg, false)
})

test('a single AroundBeacon is still a list; optional fields may be absent', () => {
  const one = parseMessage(sampleXml('event:ShakearoundUserShake', { AroundBeacons: { AroundBeacon: { Uuid: 'u', Major: '1', Minor: '2', Distance: 3 } } })) as Record<string, any>
  assert.deepEqual(one.AroundBeacons, [{ Uuid: 'u', Major: '1', Minor: '2', Distance: 3 }])
  const bare = parseMessage('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>user_del_card</Event><CardId>p1</CardId></xml>') as Record<string, unknown>
  assert.deepEqual([bare.Event, bare.CardId, 'unknown' in bare], ['user_del_card', 'p1', false])
})

test('events still not in the table pass through raw', () => {
  const msg = parseMessage('<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>some_future_event</Event><Foo>bar</Foo></xml>') as Record<string, unknown>
  assert.deepEqual([msg.unknown, msg.Event, msg.Foo], [true, 'some_future_event', 'bar'])
})
