import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildXml, cdata } from './build.js'
import { parseXml } from './parse.js'

test('"]]>", "<", "&", emoji and newlines round-trip exactly through CDATA', () => {
  const tricky = 'a]]>b <c> & d 😀\n第二行 ]]]]> ]]'
  const doc = parseXml(buildXml({ Content: tricky }))
  assert.equal(doc.Content, tricky)
})

test('characters XML forbids are removed instead of breaking the document', () => {
  assert.equal(cdata('a\u0000b\u0008c\u001Fd\uD800e'), '<![CDATA[abcde]]>')
  assert.equal(parseXml(buildXml({ C: 'x\u0001y\tz\r\n' })).C, 'xy\tz\n')
})

test('numbers are bare, undefined is skipped, arrays repeat, objects nest', () => {
  assert.equal(
    buildXml({ N: 12, U: undefined, Articles: { item: [{ Title: 't1' }, { Title: 't2' }] } }),
    '<xml><N>12</N><Articles><item><Title><![CDATA[t1]]></Title></item><item><Title><![CDATA[t2]]></Title></item></Articles></xml>',
  )
})

test('an element name that could inject markup is refused', () => {
  assert.throws(() => buildXml({ 'a><b': 'x' }), TypeError)
})
