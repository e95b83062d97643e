import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { parseWechatJson } from './json.js'

describe('parseWechatJson', () => {
  test('a template msgid beyond 2^53 keeps every digit, as a string', () => {
    assert.deepEqual(parseWechatJson('{"errcode":0,"errmsg":"ok","msgid":3487542469355618313}'), { errcode: 0, errmsg: 'ok', msgid: '3487542469355618313' })
  })

  test('id fields are strings whatever their size, so msgid has one type', () => {
    assert.deepEqual(parseWechatJson('{"msgid":200228332,"menuid":208379533}'), { msgid: '200228332', menuid: '208379533' })
  })

  test('unsafe integers anywhere (nested, in arrays, negative) become exact strings; safe ones stay numbers', () => {
    assert.deepEqual(parseWechatJson('{"a":[9007199254740993,-9007199254740993,9007199254740991],"b":{"c":12345678901234567890}}'), {
      a: ['9007199254740993', '-9007199254740993', 9007199254740991],
      b: { c: '12345678901234567890' },
    })
  })

  test('digits inside strings are never touched, escaped quotes included', () => {
    const text = '{"errmsg":"rid: 6054768590064713728 \\"9007199254740993\\"","n":1}'
    assert.deepEqual(parseWechatJson(text), JSON.parse(text))
  })

  test('fractions and exponents are left to JSON.parse', () => {
    assert.deepEqual(parseWechatJson('{"x":12345678901234567.5,"y":1e400,"z":-0.0000000000000001}'), { x: 12345678901234567.5, y: Infinity, z: -1e-16 })
  })

  test('malformed JSON throws SyntaxError like JSON.parse', () => {
    for (const bad of ['', '{', '{"a":}', '{"a":12345678901234567890', 'not json', '{"a":"unterminated']) {
      assert.throws(() => parseWechatJson(bad), SyntaxError, bad)
    }
  })

  test('property: without long digit runs the result equals JSON.parse (ids aside)', () => {
    // 16+ digits may be an unsafe integer, which is meant to differ (the property below covers it)
    const safe = fc.jsonValue().filter((v) => !/"(msgid|msg_id|msg_data_id|menuid|publish_id)"|\d{16}/.test(JSON.stringify(v)))
    fc.assert(
      fc.property(safe, (value) => {
        const text = JSON.stringify(value)
        assert.deepEqual(parseWechatJson(text), JSON.parse(text))
      }),
    )
  })

  test('property: any integer literal comes back exact (number when safe, its digits when not)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.string(), (n, s) => {
        const text = `{"s":${JSON.stringify(s)},"n":${n},"list":[${n}]}`
        const parsed = parseWechatJson<{ s: string; n: unknown; list: unknown[] }>(text)
        const expected = Number.isSafeInteger(Number(n)) ? Number(n) : String(n)
        assert.equal(parsed.s, s)
        assert.equal(parsed.n, expected)
        assert.deepEqual(parsed.list, [expected])
      }),
    )
  })
})
