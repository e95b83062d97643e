import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { serializeReply } from './serialize.js'
import { buildXml, stripIllegalXmlChars } from '../xml/build.js'

/** What the generic element builder makes of a text reply: the fast path must match it byte for byte. */
function generic(content: string, toUser: string, fromUser: string, createTime: number): string {
  return buildXml({ ToUserName: toUser, FromUserName: fromUser, CreateTime: Math.floor(createTime), MsgType: 'text', Content: stripIllegalXmlChars(content) })
}

test('a text reply is the same XML as the generic builder makes, for any text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' }), fc.string(), fc.double({ noNaN: false }), (content, toUser, fromUser, createTime) => {
      let expected: string | Error
      try {
        expected = generic(content, toUser, fromUser, createTime)
        if (stripIllegalXmlChars(content).trim() === '') expected = new Error('empty')
      } catch (err) {
        expected = err as Error
      }
      let actual: string | Error
      try {
        actual = serializeReply({ type: 'text', content }, { toUser, fromUser, createTime })
      } catch (err) {
        actual = err as Error
      }
      if (expected instanceof Error) assert.ok(actual instanceof Error, `expected a refusal for ${JSON.stringify(content)}`)
      else assert.equal(actual, expected)
    }),
    { numRuns: 500 },
  )
})

test('a text reply with "]]>" and forbidden characters keeps the generic escaping', () => {
  const xml = serializeReply({ type: 'text', content: 'a]]>b\u0001c' }, { toUser: 'o]]>x', fromUser: 'gh_1', createTime: 1714037059.9 })
  assert.equal(xml, generic('a]]>b\u0001c', 'o]]>x', 'gh_1', 1714037059.9))
  assert.match(xml, /<Content><!\[CDATA\[a]]]]><!\[CDATA\[>bc]]><\/Content>/)
  assert.match(xml, /<CreateTime>1714037059<\/CreateTime>/)
})
