import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseXml, parseXmlStrict, type ParseXmlOptions, type XmlObject } from './parse.js'
import { isWxmpError } from '../errors.js'

// Every behaviour holds for parseXml (fast path first) and for saxes alone.
const parsers: Array<[string, (xml: string, options?: ParseXmlOptions) => XmlObject]> = [
  ['parseXml', parseXml],
  ['parseXmlStrict', parseXmlStrict],
]

for (const [label, parse] of parsers) {
  describe(label, () => {
    test('CDATA and text are kept verbatim, including leading spaces and split CDATA', () => {
      const doc = parse('<xml><Label><![CDATA[ 广州 ]]></Label><C><![CDATA[a]]]]><![CDATA[>b]]></C><N>0123</N></xml>')
      assert.deepEqual(doc, { Label: ' 广州 ', C: 'a]]>b', N: '0123' })
    })

    test('predefined and numeric entities decode; whitespace between elements is ignored', () => {
      const doc = parse('<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n <A>a &amp; b &lt; &#x4e2d;&#25991;</A>\n</xml>\n')
      assert.deepEqual(doc, { A: 'a & b < 中文' })
    })

    test('repeated siblings become arrays and nesting is kept', () => {
      const doc = parse('<xml><P><item><a>1</a></item><item><a>2</a></item></P><Q><item><a>3</a></item></Q></xml>')
      assert.deepEqual(doc, { P: { item: [{ a: '1' }, { a: '2' }] }, Q: { item: { a: '3' } } })
    })

    test('empty elements are empty strings', () => {
      assert.deepEqual(parse('<xml><E/><F></F><G><![CDATA[]]></G></xml>'), { E: '', F: '', G: '' })
    })

    test('a DOCTYPE (XXE, billion laughs) is refused before any entity is expanded', () => {
      const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>'
      const xxe = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'
      for (const body of [laughs, xxe]) {
        assert.throws(() => parse(body), (err) => isWxmpError(err, 'WX_ERR_XML_DOCTYPE'))
      }
    })

    test('undeclared entities, mismatched tags, truncation, two roots and text outside the root are malformed', () => {
      for (const body of ['<xml><A>&foo;</A></xml>', '<xml><A>1</B></xml>', '<xml><A>1</A>', '<xml/><xml/>', 'hello', '', '<xml>x</xml>trailing', '<xml><A><![CDATA[x]]</A></xml>']) {
        assert.throws(() => parse(body), (err) => isWxmpError(err, 'WX_ERR_XML_MALFORMED'), body)
      }
    })

    test('nesting beyond the limit is refused', () => {
      const deep = '<xml>' + '<a>'.repeat(20) + '</a>'.repeat(20) + '</xml>'
      assert.throws(() => parse(deep), (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP'))
      assert.doesNotThrow(() => parse(deep, { maxDepth: 30 }))
    })

    test('elements named __proto__ or constructor are ordinary fields, never prototypes', () => {
      const doc = parse('<xml><__proto__><polluted>yes</polluted></__proto__><constructor>c</constructor><toString>t</toString></xml>')
      assert.deepEqual(Object.keys(doc), ['__proto__', 'constructor', 'toString'])
      assert.equal((doc as Record<string, any>).polluted, undefined)
      assert.deepEqual(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value, { polluted: 'yes' })
      assert.equal(Object.getPrototypeOf(doc), Object.prototype)
      assert.equal(doc.constructor, 'c')
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })

    test('CR and CRLF in text and CDATA read as LF (XML 1.0 §2.11); a CR written as &#13; stays', () => {
      const doc = parse('<xml>\r\n<A>a\r\nb\rc</A><B><![CDATA[d\r\ne\rf]]></B><C>g&#13;\r\nh</C>\r\n</xml>\r\n')
      assert.deepEqual(doc, { A: 'a\nb\nc', B: 'd\ne\nf', C: 'g\r\nh' })
    })

    test('a parent keeps only its children, a leaf keeps its text verbatim, whitespace included', () => {
      const doc = parse('<xml> <P> <a>1</a> text <a>2</a> </P><L> \t\n </L></xml>')
      assert.deepEqual(doc, { P: { a: ['1', '2'] }, L: ' \t\n ' })
    })
  })
}
