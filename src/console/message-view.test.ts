import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MessageRecord } from '../records/message-log.js'
import { sampleXml } from '../testing/samples.js'
import { toMessageView } from './message-view.js'

function row(rawXml: string, extra: Partial<MessageRecord> = {}): MessageRecord {
  return { id: 1, appId: '', msgKey: 'k', openid: 'o1', msgType: 'text', event: null, msgId: null, createTime: 1, rawXml, encrypted: false, receivedAt: 5, deliveries: 1, replyVia: null, replyStatus: null, replyXml: null, latencyMs: null, error: null, completedAt: null, ...extra }
}

test('a message keeps its fields as text, markup and all; the reply says how it left', () => {
  const xss = '<script>alert(1)</script>]]>'
  const view = toMessageView(
    row(sampleXml('text', { Content: xss }), {
      replyVia: 'customer-service',
      replyStatus: 'out-of-window',
      replyXml: '<xml><MsgType><![CDATA[news]]></MsgType><Articles><item><Title><![CDATA[t1]]></Title><Url><![CDATA[https://a]]></Url></item></Articles></xml>',
      latencyMs: 6000,
      completedAt: 9,
    }),
  )
  assert.equal(view.fields.Content, xss)
  assert.deepEqual(view.reply, { via: 'customer-service', status: 'out-of-window', fields: {}, msgType: 'news', articles: [{ Title: 't1', Url: 'https://a' }] })
  assert.equal(view.completed, true)
})

test('events carry their key and nested scan results; an unreadable row does not throw', () => {
  const scan = toMessageView(row(sampleXml('event:scancode_push', { EventKey: 'K' }), { msgType: 'event', event: 'scancode_push' }))
  assert.equal(scan.fields.EventKey, 'K')
  assert.ok('ScanResult' in scan.fields)
  assert.match(toMessageView(row('not xml')).fields.unreadable ?? '', /not xml/)
})
