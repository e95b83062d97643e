import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WxmpError } from '../errors.js'
import { parseMessage } from '../messages/parse.js'
import { SAMPLE_KINDS, sampleXml } from '../testing/samples.js'
import { buildXml, stripIllegalXmlChars } from './build.js'
import { parseXml } from './parse.js'

/** What an XML parser hands back for text: illegal characters gone, CR and CRLF read as LF (XML 1.0 §2.11). */
const asParsed = (text: string) => stripIllegalXmlChars(text).replace(/\r\n?/g, '\n')

const XML_CODES = new Set(['WX_ERR_XML_MALFORMED', 'WX_ERR_XML_DOCTYPE', 'WX_ERR_XML_TOO_DEEP'])
const anyText = fc.string({ unit: 'binary', maxLength: 200 })
const elementName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((n) => !/^xml/i.test(n))

/** Arbitrary strings, and real documents with a splice of arbitrary text somewhere inside. */
const documents = fc.oneof(
  anyText,
  fc.tuple(fc.constantFrom(...SAMPLE_KINDS), fc.nat(), anyText).map(([kind, at, junk]) => {
    const xml = sampleXml(kind)
    const cut = at % (xml.length + 1)
    return xml.slice(0, cut) + junk + xml.slice(cut)
  }),
  fc.tuple(fc.constantFrom(...SAMPLE_KINDS), fc.nat()).map(([kind, at]) => {
    const xml = sampleXml(kind)
    return xml.slice(0, at % (xml.length + 1)) // truncated
  }),
)

function expectXmlError(err: unknown): void {
  assert.ok(err instanceof WxmpError, `non-WxmpError: ${String(err)}`)
  assert.ok(XML_CODES.has(err.code) || err.code === 'WX_ERR_MESSAGE_INVALID', err.code)
  assert.ok(err.status >= 400 && err.status < 500)
}

describe('XML parser properties', () => {
  test('arbitrary and mangled documents either parse or fail with an XML error code, never anything else', () => {
    fc.assert(
      fc.property(documents, (xml) => {
        try {
          const doc = parseXml(xml)
          assert.equal(typeof doc, 'object')
        } catch (err) {
          expectXmlError(err)
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('parseMessage on anything returns a message with the header fields, or a 4xx WxmpError', () => {
    fc.assert(
      fc.property(documents, (xml) => {
        try {
          const message = parseMessage(xml)
          assert.equal(typeof message.MsgType, 'string')
          assert.equal(typeof message.FromUserName, 'string')
        } catch (err) {
          expectXmlError(err)
        }
      }),
      { numRuns: 2000 },
    )
  })

  test('any text built into a document comes back as XML reads it (no illegal characters, CR as LF), "]]>" included', () => {
    fc.assert(
      fc.property(fc.dictionary(elementName, fc.oneof(anyText, fc.constant(']]>'), fc.constant('a]]>b]]]]>'))), (elements) => {
        const doc = parseXml(buildXml(elements))
        for (const [name, value] of Object.entries(elements)) assert.equal(doc[name], asParsed(value))
      }),
      { numRuns: 1000 },
    )
  })

  test('nesting deeper than the limit is refused by code, at any depth past it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 3000 }), (depth) => {
        const xml = '<xml>' + '<a>'.repeat(depth) + '</a>'.repeat(depth) + '</xml>'
        assert.throws(() => parseXml(xml), (err) => err instanceof WxmpError && err.code === 'WX_ERR_XML_TOO_DEEP')
      }),
      { numRuns: 50 },
    )
  })

  test('any DOCTYPE is refused, whatever it declares', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'abcENTITY<>!"% '), maxLength: 60 }), (decl) => {
        const xml = `<?xml version="1.0"?><!DOCTYPE xml [${decl}]><xml><a>1</a></xml>`
        assert.throws(() => parseXml(xml), (err) => err instanceof WxmpError && (err.code === 'WX_ERR_XML_DOCTYPE' || err.code === 'WX_ERR_XML_MALFORMED'))
      }),
      { numRuns: 300 },
    )
  })
})
