import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WxmpError } from '../errors.js'
import { stripIllegalXmlChars } from '../xml/build.js'
import { parseXml, textOf, type XmlObject } from '../xml/parse.js'
import { serializeReply } from './serialize.js'
import type { Reply } from './types.js'

/** What an XML parser hands back for text: illegal characters gone, CR and CRLF read as LF (XML 1.0 §2.11). */
const asParsed = (value: string) => stripIllegalXmlChars(value).replace(/\r\n?/g, '\n')

const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.constantFrom(']]>', 'a]]>b', '<xml>', '&amp;', '\u0000\u0008', '\uD800', ' ', ''))
const optionalText = fc.option(text, { nil: undefined })

const replies: fc.Arbitrary<Reply> = fc.oneof(
  fc.record({ type: fc.constant('text' as const), content: text }),
  fc.record({ type: fc.constant('image' as const), mediaId: text }),
  fc.record({ type: fc.constant('voice' as const), mediaId: text }),
  fc.record({ type: fc.constant('video' as const), mediaId: text, title: optionalText, description: optionalText }, { requiredKeys: ['type', 'mediaId'] }),
  fc.record({ type: fc.constant('music' as const), thumbMediaId: text, title: optionalText, musicUrl: optionalText }, { requiredKeys: ['type', 'thumbMediaId'] }),
  fc.record({ type: fc.constant('news' as const), articles: fc.array(fc.record({ title: text, description: optionalText, url: optionalText }, { requiredKeys: ['title'] }), { maxLength: 10 }) }),
  fc.record({ type: fc.constant('transfer_customer_service' as const), kfAccount: optionalText }, { requiredKeys: ['type'] }),
  fc.constant({ type: 'success' as const }),
) as fc.Arbitrary<Reply>

const address = fc.record({
  toUser: text,
  fromUser: text,
  createTime: fc.integer({ min: 0, max: 4_000_000_000 }),
  inReplyTo: fc.option(fc.constantFrom('text', 'event', 'image', 'unknown'), { nil: undefined }),
})

describe('reply serialization properties', () => {
  test('any reply to any address is either refused with WX_ERR_REPLY_INVALID or is well-formed XML WeChat can read', () => {
    let serialized = 0
    fc.assert(
      fc.property(replies, address, (reply, to) => {
        let xml: string
        try {
          xml = serializeReply(reply, to)
        } catch (err) {
          assert.ok(err instanceof WxmpError && err.code === 'WX_ERR_REPLY_INVALID', String(err))
          return
        }
        serialized++
        const doc = parseXml(xml) // strict parser: throws on anything malformed
        assert.equal(doc.ToUserName, asParsed(to.toUser))
        assert.equal(doc.FromUserName, asParsed(to.fromUser))
        assert.equal(doc.CreateTime, String(to.createTime))
        assert.equal(doc.MsgType, reply.type)
        if (reply.type === 'text') assert.equal(doc.Content, asParsed(reply.content))
        if (reply.type === 'news') {
          const items = (doc.Articles as XmlObject).item
          const list = Array.isArray(items) ? items : [items]
          assert.equal(list.length, reply.articles.length)
          assert.equal(textOf(doc, 'ArticleCount'), String(reply.articles.length))
        }
      }),
      { numRuns: 3000 },
    )
    assert.ok(serialized > 500, `enough replies were valid to exercise the XML (${serialized})`)
  })

  test('a reply that refuses is refused for a reason it states', () => {
    fc.assert(
      fc.property(replies, address, (reply, to) => {
        try {
          serializeReply(reply, to)
        } catch (err) {
          assert.ok((err as Error).message.length > 10)
        }
      }),
      { numRuns: 500 },
    )
  })
})
