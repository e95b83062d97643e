import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseXml } from './parse.js'
import { isWxmpError } from '../errors.js'

test('CDATA and text are kept verbatim, including leading spaces and split CDATA', () => {
  const doc = parseXml('<xml><Label><![CDATA[ 广州 ]]></Label><C><![CDATA[a]]]]><![CDATA[>b]]></C><N>0123</N></xml>')
  assert.deepEqual(doc, { Label: ' 广州 ', C: 'a]]>b', N: '0123' })
})

test('predefined and numeric entities decode; whitespace between elements is ignored', () => {
  const doc = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n <A>a &amp; b &lt; &#x4e2d;&#25991;</A>\n</xml>\n')
  assert.deepEqual(doc, { A: 'a & b < 中文' })
})

test('repeated siblings become arrays and nesting is kept', () => {
  const doc = parseXml('<xml><P><item><a>1</a></item><item><a>2</a></item></P><Q><item><a>3</a></item></Q></xml>')
  assert.deepEqual(doc, { P: { item: [{ a: '1' }, { a: '2' }] }, Q: { item: { a: '3' } } })
})

test('empty elements are empty strings', () => {
  assert.deepEqual(parseXml('<xml><E/><F></F><G><![CDATA[]]></G></xml>'), { E: '', F: '', G: '' })
})

test('a DOCTYPE (XXE, billion laughs) is refused before any entity is expanded', () => {
  const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>'
  const xxe = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>'
  for (const body of [laughs, xxe]) {
    assert.throws(() => parseXml(body), (err) => isWxmpError(err, 'WX_ERR_XML_DOCTYPE'))
  }
})

test('undeclared entities, mismatched tags, truncation, two roots and text outside the root are malformed', () => {
  for (const body of ['<xml><A>&foo;</A></xml>', '<xml><A>1</B></xml>', '<xml><A>1</A>', '<xml/><xml/>', 'hello', '', '<xml>x</xml>trailing', '<xml><A><![CDATA[x]]</A></xml>']) {
    assert.throws(() => parseXml(body), (err) => isWxmpError(err, 'WX_ERR_XML_MALFORMED'), body)
  }
})

test('nesting beyond the limit is refused', () => {
  const deep = '<xml>' + '<a>'.repeat(20) + '</a>'.repeat(20) + '</xml>'
  assert.throws(() => parseXml(deep), (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP'))
  assert.doesNotThrow(() => parseXml(deep, { maxDepth: 30 }))
})

test('elements named __proto__ or constructor are ordinary fields, never prototypes', () => {
  const doc = parseXml('<xml><__proto__><polluted>yes</polluted></__proto__><constructor>c</constructor><toString>t</toString></xml>')
  assert.deepEqual(Object.keys(doc), ['__proto__', 'constructor', 'toString'])
  assert.equal((doc as Record<string, any>).polluted, undefined)
  assert.deepEqual(Object.getOwnPropertyDescriptor(doc, '__proto__')?.value, { polluted: 'yes' })
  assert.equal(Object.getPrototypeOf(doc), Object.prototype)
  assert.equal(doc.constructor, 'c')
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
})
