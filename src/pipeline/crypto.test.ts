import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createCipheriv } from 'node:crypto'
import { WxmpError } from '../errors.js'
import type { WxErrorCode } from '../errors.js'
import { MessageCrypto, decodeAesKey, decryptMessage, encryptMessage, pooledRandomBytes } from './crypto.js'
import type { MessageCryptoOptions } from './crypto.js'

const SAMPLE_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const OTHER_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'
const fixedRandom = (ascii: string) => () => Buffer.from(ascii, 'latin1')

function throwsCode(fn: () => unknown, code: WxErrorCode, message?: RegExp): WxmpError {
  let caught: unknown
  assert.throws(fn, (err: unknown) => {
    caught = err
    return err instanceof WxmpError && err.code === code && (message === undefined || message.test(err.message))
  })
  return caught as WxmpError
}

/** Encrypts raw bytes as-is (no padding added), to forge malformed plaintexts. */
function encryptRaw(key: Buffer, padded: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64')
}

describe('vector A: official Python sample, decryption', () => {
  const encrypt =
    'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE='
  const xml =
    '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>'
  const crypto = new MessageCrypto({ token: 'spamtest', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2' })

  test('the sample key with its non-zero discarded bits decodes to the documented AES key', () => {
    assert.equal(decodeAesKey(SAMPLE_KEY).toString('hex'), '69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051')
  })

  test('msg_signature verifies, and a different one does not', () => {
    assert.equal(crypto.signature('1409735669', '1320562132', encrypt), '5d197aaffba7e9b25a30732f161a50dee96bd5fa')
    assert.ok(crypto.verifySignature('5d197aaffba7e9b25a30732f161a50dee96bd5fa', '1409735669', '1320562132', encrypt))
    assert.ok(!crypto.verifySignature('5d197aaffba7e9b25a30732f161a50dee96bd5fb', '1409735669', '1320562132', encrypt))
    assert.ok(!crypto.verifySignature(undefined, '1409735669', '1320562132', encrypt))
    assert.ok(!crypto.verifySignature('5d197aaffba7e9b25a30732f161a50dee96bd5fa', '1409735669', '1320562133', encrypt))
  })

  test('decrypts to the inner XML with pad 2, the known random, msg_len 280 and the AppID', () => {
    assert.equal(Buffer.from(encrypt, 'base64').length, 320)
    const parts = decryptMessage(decodeAesKey(SAMPLE_KEY), encrypt, 'wx2c2769f8efd9abc2')
    assert.equal(parts.padLength, 2)
    assert.equal(parts.random.toString('latin1'), '89465c840c5f116f')
    assert.equal(Buffer.byteLength(parts.xml), 280)
    assert.equal(parts.appId, 'wx2c2769f8efd9abc2')
    assert.equal(parts.xml, xml)
    assert.deepEqual(crypto.decrypt(encrypt), { xml, appId: 'wx2c2769f8efd9abc2', key: 'current' })
  })

  test('re-encrypting with the known random reproduces the Encrypt text byte for byte', () => {
    assert.equal(encryptMessage(decodeAesKey(SAMPLE_KEY), xml, 'wx2c2769f8efd9abc2', Buffer.from('89465c840c5f116f')), encrypt)
  })
})

describe('vector B: official Java sample, deterministic encryption', () => {
  const crypto = new MessageCrypto({
    token: 'pamtest',
    encodingAESKey: SAMPLE_KEY,
    appId: 'wxb11529c136998cb6',
    randomBytes: fixedRandom('aaaabbbbccccdddd'),
  })

  test('CJK text: msg_len counts UTF-8 bytes', () => {
    const encrypt = crypto.encrypt('我是中文abcd123')
    assert.equal(encrypt, 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==')
    assert.equal(crypto.signature('1409304348', 'xxxxxx', encrypt), '82c962d39941aa48552f90ef55aa323dc620cc10')
    assert.equal(crypto.decrypt(encrypt).xml, '我是中文abcd123')
  })

  test('video reply with CJK in ToUserName (pad 7)', () => {
    const reply =
      '<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>'
    const expected =
      'jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb'
    const encrypt = crypto.encrypt(reply)
    assert.equal(encrypt, expected)
    assert.equal(crypto.signature('1409304348', 'xxxxxx', encrypt), 'ea88b765074e41eb8c7a75b449db34fa2fd560d5')
    assert.equal(decryptMessage(decodeAesKey(SAMPLE_KEY), encrypt).padLength, 7)
    assert.equal(crypto.decrypt(encrypt).xml, reply)
  })
})

describe('vector D: wechatpy (WeCom build of the same algorithm)', () => {
  const crypto = new MessageCrypto({
    token: '123456',
    encodingAESKey: OTHER_KEY,
    appId: 'wx49f0ab532d5d035a',
    randomBytes: fixedRandom('1234567890123456'),
  })

  test('encrypted reply document is byte-exact', () => {
    const reply = [
      '<xml>',
      '<MsgType><![CDATA[text]]></MsgType>',
      '<Content><![CDATA[test]]></Content>',
      '<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>',
      '<ToUserName><![CDATA[messense]]></ToUserName>',
      '<AgentID>1</AgentID>',
      '<CreateTime>1411525903</CreateTime>',
      '</xml>',
    ].join('\n')
    const expected = [
      '<xml>',
      '<Encrypt><![CDATA[9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3]]></Encrypt>',
      '<MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature>',
      '<TimeStamp>1411525903</TimeStamp>',
      '<Nonce><![CDATA[461056294]]></Nonce>',
      '</xml>',
    ].join('\n')
    assert.equal(crypto.encryptReply(reply, { timestamp: '1411525903', nonce: '461056294' }), expected)
  })

  test('an inbound message with its msg_signature verifies and decrypts (pad 1)', () => {
    const encrypt =
      'RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0='
    assert.ok(crypto.verifySignature('74d92dfeb87ba7c714f89d98870ae5eb62dff26d', '1411525903', '461056294', encrypt))
    const result = crypto.decrypt(encrypt)
    assert.equal(result.appId, 'wx49f0ab532d5d035a')
    assert.equal(result.key, 'current')
    assert.match(result.xml, /<Content><!\[CDATA\[test\]\]><\/Content>/)
    assert.match(result.xml, /<FromUserName><!\[CDATA\[messense\]\]><\/FromUserName>/)
    assert.match(result.xml, /<MsgId>4363689963896700987<\/MsgId>/)
    assert.equal(decryptMessage(decodeAesKey(OTHER_KEY), encrypt).padLength, 1)
  })

  test('an explicit appId argument overrides the configured one', () => {
    const encrypt = crypto.encrypt('<xml/>', 'wxother0000000000')
    assert.equal(decryptMessage(decodeAesKey(OTHER_KEY), encrypt).appId, 'wxother0000000000')
  })

  test('encryptReply refuses a TimeStamp or Nonce that would break the document', () => {
    throwsCode(() => crypto.encryptReply('<xml/>', { timestamp: '14115a', nonce: '1' }), 'WX_ERR_REPLY_INVALID', /TimeStamp/)
    throwsCode(() => crypto.encryptReply('<xml/>', { timestamp: '1', nonce: 'a]]>b' }), 'WX_ERR_REPLY_INVALID', /Nonce/)
    throwsCode(() => crypto.encryptReply('<xml/>', { timestamp: '1', nonce: 'a b' }), 'WX_ERR_REPLY_INVALID', /Nonce/)
    throwsCode(() => crypto.encryptReply('<xml/>', { timestamp: '1', nonce: '' }), 'WX_ERR_REPLY_INVALID', /Nonce/)
  })
})

describe('vector E: edge cases with the official key', () => {
  const crypto = new MessageCrypto({
    token: 'spamtest',
    encodingAESKey: SAMPLE_KEY,
    appId: 'wx2c2769f8efd9abc2',
    randomBytes: fixedRandom('aaaabbbbccccdddd'),
  })

  test('E1: a 239-byte reply with CJK content (pad 11)', () => {
    const reply =
      '<xml><ToUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></ToUserName><FromUserName><![CDATA[gh_10f6c3c3ac5a]]></FromUserName><CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>'
    assert.equal(Buffer.byteLength(reply), 239)
    const encrypt = crypto.encrypt(reply)
    assert.equal(
      encrypt,
      'jn1L23DB+6ELqJ+6bruv21YlImyg655L0pzu4wzr1EI/1ELf0N6D8IOi7XSAJxDhr8sw1Qg+DBsbNkk8HefZUetqFqcfOZs7NxWF4zu+rM9d03x8bvQI0v8ZnIMczIMASBrl6g6vTtXXVt3KbKBSLcr6mAMqoMfDkCD8ug2YUbwK3jAu+dNYjGjQYCVt6xgbpZlM4z5Dae4s1NCgn/GTKVZVVLFlJBxRDYLuQQcl5wE76dW+U7Kc9IgfvXzwg1TvJuCl3iWzfWfX1N3fty9I39qrxdhHCklSG7u5k06yuzbDuX0Avu5kPlw4heRdKElUpcdOYXKzSxPcuemfNsEc02WixO1kEIYADrQL5YCAL1ZE7rN7rQX3EVKsXzzT6zLg',
    )
    assert.equal(crypto.signature('1409735669', '1320562132', encrypt), '7644f55a123e5aee2a9bf2535b6ca5bf076f2aef')
    assert.equal(decryptMessage(decodeAesKey(SAMPLE_KEY), encrypt).padLength, 11)
    assert.equal(crypto.decrypt(encrypt).xml, reply)
  })

  test('E2: an aligned plaintext gets a whole extra block of pad 32', () => {
    const encrypt = crypto.encrypt('abcdefghijklmnopqrstuvwxyz')
    assert.equal(
      encrypt,
      'jn1L23DB+6ELqJ+6bruv24kfnRA9CJ8qXRQfcTjuspbcu/BSVDHix6RSI3nK3z+fGdCL9owzHI6UnBdGZ5nrCm8utmGl8Gmi3p1p/CL7wsT2QmrOzEDE4ghZF0S/FxgD',
    )
    assert.equal(Buffer.from(encrypt, 'base64').length, 96)
    assert.equal(crypto.signature('1409735669', '1320562132', encrypt), '1a5c5f55a3d6dd93736b682c9bd7b1e26be18b28')
    const parts = decryptMessage(decodeAesKey(SAMPLE_KEY), encrypt)
    assert.equal(parts.padLength, 32)
    assert.equal(parts.xml, 'abcdefghijklmnopqrstuvwxyz')
  })
})

describe('decodeAesKey names the mistake', () => {
  test('42 and 44 characters report the length got', () => {
    const short = throwsCode(() => decodeAesKey(SAMPLE_KEY.slice(0, 42)), 'WX_ERR_AES_KEY_INVALID', /must be 43 characters, got 42.*cut off/)
    assert.deepEqual(short.details, { length: 42, expectedLength: 43 })
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY}A`), 'WX_ERR_AES_KEY_INVALID', /got 44/)
  })

  test("a trailing '=' is named", () => {
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY}=`), 'WX_ERR_AES_KEY_INVALID', /got 44: remove the trailing '='/)
  })

  test('a trailing newline or surrounding spaces are named', () => {
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY}\n`), 'WX_ERR_AES_KEY_INVALID', /got 44: .*whitespace or a newline/)
    throwsCode(() => decodeAesKey(` ${SAMPLE_KEY} `), 'WX_ERR_AES_KEY_INVALID', /got 45: .*whitespace/)
  })

  test('a pasted AppSecret (32 hex characters) is recognised', () => {
    throwsCode(() => decodeAesKey('0123456789abcdef0123456789ABCDEF'), 'WX_ERR_AES_KEY_INVALID', /looks like the AppSecret/)
  })

  test('characters outside [A-Za-z0-9] are refused with their position, even base64 ones', () => {
    const err = throwsCode(() => decodeAesKey(`${SAMPLE_KEY.slice(0, 10)}+${SAMPLE_KEY.slice(11)}`), 'WX_ERR_AES_KEY_INVALID', /"\+" at position 11/)
    assert.equal(err.details?.position, 11)
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY.slice(0, 42)}/`), 'WX_ERR_AES_KEY_INVALID', /"\/" at position 43/)
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY.slice(0, 20)}\n${SAMPLE_KEY.slice(21)}`), 'WX_ERR_AES_KEY_INVALID', /"\\n" at position 21/)
    throwsCode(() => decodeAesKey(`${SAMPLE_KEY.slice(0, 42)}é`), 'WX_ERR_AES_KEY_INVALID', /position 43/)
  })

  test('a missing key is reported as missing, and no error message contains the key', () => {
    throwsCode(() => decodeAesKey(''), 'WX_ERR_AES_KEY_INVALID', /missing/)
    throwsCode(() => decodeAesKey(undefined as unknown as string), 'WX_ERR_AES_KEY_INVALID', /missing \(got undefined\)/)
    for (const bad of [`${SAMPLE_KEY}=`, SAMPLE_KEY.slice(0, 42), `${SAMPLE_KEY}\n`]) {
      const err = throwsCode(() => decodeAesKey(bad), 'WX_ERR_AES_KEY_INVALID')
      assert.ok(!err.message.includes(SAMPLE_KEY.slice(0, 20)))
      assert.ok(!JSON.stringify(err.details).includes(SAMPLE_KEY.slice(0, 20)))
    }
  })

  test('MessageCrypto checks both keys, the Token and the AppID at construction', () => {
    throwsCode(() => new MessageCrypto({ token: 't', encodingAESKey: `${SAMPLE_KEY}=` }), 'WX_ERR_AES_KEY_INVALID', /^EncodingAESKey/)
    throwsCode(
      () => new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, previousEncodingAESKey: 'x' }),
      'WX_ERR_AES_KEY_INVALID',
      /^previousEncodingAESKey must be 43 characters, got 1/,
    )
    throwsCode(() => new MessageCrypto({ token: '', encodingAESKey: SAMPLE_KEY }), 'WX_ERR_CONFIG', /Token/)
    throwsCode(() => new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: '' }), 'WX_ERR_CONFIG', /appId/)
  })

  test('the low-level functions refuse a key that is not 32 bytes', () => {
    throwsCode(() => encryptMessage(Buffer.alloc(16), 'x', 'wx', Buffer.alloc(16)), 'WX_ERR_AES_KEY_INVALID', /32-byte/)
    throwsCode(() => decryptMessage(Buffer.alloc(31), 'AAAA'), 'WX_ERR_AES_KEY_INVALID', /32-byte/)
  })
})

describe('encrypt configuration errors', () => {
  test('encrypting without any AppID is a configuration error', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY })
    throwsCode(() => crypto.encrypt('<xml/>'), 'WX_ERR_CONFIG', /AppID/)
    assert.equal(crypto.decrypt(crypto.encrypt('<xml/>', 'wx1')).appId, 'wx1')
  })

  test('an injected randomBytes that returns the wrong size is refused', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx1', randomBytes: () => Buffer.alloc(8) })
    throwsCode(() => crypto.encrypt('<xml/>'), 'WX_ERR_CONFIG', /16-byte Buffer, got 8 bytes/)
  })
})

describe('decrypting hostile or broken input', () => {
  const key = decodeAesKey(SAMPLE_KEY)
  const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2' })
  const good = crypto.encrypt('<xml><Content><![CDATA[hi]]></Content></xml>')

  test('empty, non-base64, URL-decoded and URL-encoded Encrypt values are WX_ERR_DECRYPT_BASE64', () => {
    throwsCode(() => crypto.decrypt(''), 'WX_ERR_DECRYPT_BASE64', /empty/)
    throwsCode(() => crypto.decrypt(good.replace(/.$/, '!')), 'WX_ERR_DECRYPT_BASE64', /"!"/)
    throwsCode(() => crypto.decrypt(`${good.slice(0, 10)} ${good.slice(11)}`), 'WX_ERR_DECRYPT_BASE64', /URL-decoded/)
    throwsCode(() => crypto.decrypt(`${good.slice(0, 10)}%2B${good.slice(11)}`), 'WX_ERR_DECRYPT_BASE64', /URL-encoded/)
    throwsCode(() => crypto.decrypt(`${good.slice(0, 10)}\n${good.slice(10)}`), 'WX_ERR_DECRYPT_BASE64', /line break/)
    // at fixed positions: a random ciphertext may hold no '+' or '/' to replace
    throwsCode(() => crypto.decrypt(`${good.slice(0, 10)}-${good.slice(11)}`), 'WX_ERR_DECRYPT_BASE64', /URL-safe/)
    throwsCode(() => crypto.decrypt(`${good.slice(0, 10)}_${good.slice(11)}`), 'WX_ERR_DECRYPT_BASE64', /URL-safe/)
  })

  test('base64 that does not decode to whole AES blocks is WX_ERR_DECRYPT_BASE64', () => {
    throwsCode(() => crypto.decrypt(good.slice(0, -1)), 'WX_ERR_DECRYPT_BASE64', /canonical/)
    throwsCode(() => crypto.decrypt('A=AA'), 'WX_ERR_DECRYPT_BASE64', /canonical/)
    throwsCode(() => crypto.decrypt(good.slice(0, -4)), 'WX_ERR_DECRYPT_BASE64', /not a positive multiple of the 16-byte/)
    throwsCode(() => crypto.decrypt('===='), 'WX_ERR_DECRYPT_BASE64')
  })

  test('a pad byte of 0 or above 32 is WX_ERR_DECRYPT_PADDING', () => {
    for (const padByte of [0, 33, 255]) {
      const plain = Buffer.alloc(64, 0x41)
      plain[63] = padByte
      const err = throwsCode(() => crypto.decrypt(encryptRaw(key, plain)), 'WX_ERR_DECRYPT_PADDING', /wrong EncodingAESKey\?/)
      assert.equal(err.details?.padByte, padByte)
    }
  })

  test('pad bytes that are not all equal to n are refused (official samples would accept this)', () => {
    const plain = Buffer.alloc(64, 0x41)
    plain.writeUInt32BE(0, 16)
    plain.fill(5, 59)
    plain[60] = 4
    throwsCode(() => crypto.decrypt(encryptRaw(key, plain)), 'WX_ERR_DECRYPT_PADDING', /corrupt/)
  })

  test('a plaintext shorter than the 20-byte header is WX_ERR_DECRYPT_BUFFER', () => {
    const plain = Buffer.alloc(32, 0x41)
    plain.fill(16, 16)
    throwsCode(() => crypto.decrypt(encryptRaw(key, plain)), 'WX_ERR_DECRYPT_BUFFER', /shorter than the 20-byte/)
  })

  test('a msg_len that runs past the end is WX_ERR_DECRYPT_BUFFER', () => {
    const plain = Buffer.alloc(64, 0x41)
    plain.writeUInt32BE(0xffffffff, 16)
    plain.fill(2, 62)
    const err = throwsCode(() => crypto.decrypt(encryptRaw(key, plain)), 'WX_ERR_DECRYPT_BUFFER', /runs past the end/)
    assert.deepEqual(err.details, { plainBytes: 62, msgLen: 0xffffffff })
  })

  test('a message that is not UTF-8, or an AppID that is not printable ASCII, is WX_ERR_DECRYPT_BUFFER', () => {
    const invalidUtf8 = Buffer.alloc(64, 0x41)
    invalidUtf8.writeUInt32BE(4, 16)
    invalidUtf8.set([0xff, 0xfe, 0xc0, 0x80], 20)
    invalidUtf8.fill(2, 62)
    throwsCode(() => crypto.decrypt(encryptRaw(key, invalidUtf8)), 'WX_ERR_DECRYPT_BUFFER', /not valid UTF-8/)
    const binaryAppId = Buffer.alloc(64, 0x41)
    binaryAppId.writeUInt32BE(4, 16)
    binaryAppId[30] = 0x00
    binaryAppId.fill(2, 62)
    throwsCode(() => crypto.decrypt(encryptRaw(key, binaryAppId)), 'WX_ERR_DECRYPT_BUFFER', /not an AppID/)
  })

  test('a message for another account is WX_ERR_APPID_MISMATCH, naming both AppIDs', () => {
    const other = encryptMessage(key, '<xml/>', 'wx0000000000000001', Buffer.alloc(16))
    const err = throwsCode(
      () => crypto.decrypt(other),
      'WX_ERR_APPID_MISMATCH',
      /AppID in ciphertext is wx0000000000000001, the configured AppID is wx2c2769f8efd9abc2: is WECHAT_APPID/,
    )
    assert.deepEqual(err.details, { appId: 'wx0000000000000001', expectedAppId: 'wx2c2769f8efd9abc2' })
    throwsCode(() => crypto.decrypt(encryptMessage(key, '<xml/>', '', Buffer.alloc(16))), 'WX_ERR_APPID_MISMATCH', /\(empty\)/)
  })

  test('without a configured AppID any AppID is returned, including an empty one', () => {
    const open = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY })
    assert.equal(open.decrypt(encryptMessage(key, '<xml/>', 'wx0000000000000001', Buffer.alloc(16))).appId, 'wx0000000000000001')
    assert.equal(open.decrypt(encryptMessage(key, '<xml/>', '', Buffer.alloc(16))).appId, '')
  })

  test('a message encrypted with another key fails with a decrypt error hinting at the key', () => {
    const otherKey = decodeAesKey(OTHER_KEY)
    for (let i = 0; i < 20; i++) {
      const xml = `<xml><Content><![CDATA[message ${i}]]></Content></xml>`
      const encrypt = encryptMessage(otherKey, xml, 'wx2c2769f8efd9abc2', Buffer.alloc(16, i))
      assert.throws(
        () => crypto.decrypt(encrypt),
        (err: unknown) =>
          err instanceof WxmpError &&
          ['WX_ERR_DECRYPT_PADDING', 'WX_ERR_DECRYPT_BUFFER', 'WX_ERR_APPID_MISMATCH'].includes(err.code) &&
          /EncodingAESKey/.test(err.message),
      )
    }
  })
})

/** What encryptMessage must give, computed with a fresh Node cipher every time. */
function referenceEncrypt(key: Buffer, xml: string, appId: string, random: Buffer): string {
  const body = Buffer.concat([random, Buffer.alloc(4), Buffer.from(xml), Buffer.from(appId)])
  body.writeUInt32BE(Buffer.byteLength(xml), 16)
  const pad = 32 - (body.length % 32)
  return encryptRaw(key, Buffer.concat([body, Buffer.alloc(pad, pad)]))
}

describe('one kept cipher per key and direction', () => {
  test('randomBytes null or pooledRandomBytes means the pool, like leaving it out', () => {
    for (const randomBytes of [undefined, null, pooledRandomBytes]) {
      const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2', randomBytes } as unknown as MessageCryptoOptions)
      assert.equal(crypto.decrypt(crypto.encrypt('<xml>pool</xml>')).xml, '<xml>pool</xml>')
    }
  })


  const appId = 'wx2c2769f8efd9abc2'
  const key = decodeAesKey(SAMPLE_KEY)
  const otherKey = decodeAesKey(OTHER_KEY)
  const texts = ['', 'a', '你好', 'x'.repeat(11), 'y'.repeat(12), 'z'.repeat(44), '<xml><Content><![CDATA[😀]]></Content></xml>', '长'.repeat(300)]

  test('a long mix of encryptions, decryptions and failures matches a fresh cipher byte for byte', () => {
    let last: Buffer = Buffer.alloc(16)
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId, randomBytes: (n) => (last = pooledRandomBytes(n)) })
    const badPadding = encryptRaw(key, Buffer.alloc(64, 0x41))
    for (let i = 0; i < 64; i++) {
      const xml = `${texts[i % texts.length]}#${i}`
      const encrypt = crypto.encrypt(xml)
      assert.equal(encrypt, referenceEncrypt(key, xml, appId, last), `encrypt #${i}`)
      const random = Buffer.alloc(16, i)
      const inbound = crypto.decrypt(referenceEncrypt(key, xml, appId, random))
      assert.deepEqual(inbound, { xml, appId, key: 'current' }, `decrypt #${i}`)
      assert.deepEqual(decryptMessage(key, encrypt, appId).random, last)
      if (i % 5 === 0) throwsCode(() => crypto.decrypt(badPadding), 'WX_ERR_DECRYPT_PADDING')
      if (i % 7 === 0) throwsCode(() => crypto.decrypt(referenceEncrypt(otherKey, xml, appId, random)), checkCode(otherKey, xml, appId, random))
    }
  })

  test('a one-block ciphertext after other messages is unpadded from the right block', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId })
    crypto.decrypt(crypto.encrypt('<xml>warm up the kept cipher</xml>'))
    const block = Buffer.alloc(16, 16) // a whole block of pad: nothing is left
    throwsCode(() => crypto.decrypt(encryptRaw(key, block)), 'WX_ERR_DECRYPT_BUFFER', /is 0 bytes, shorter than the 20-byte/)
    block[15] = 17
    throwsCode(() => crypto.decrypt(encryptRaw(key, block)), 'WX_ERR_DECRYPT_PADDING', /pad byte is 17/)
    block[15] = 0
    throwsCode(() => crypto.decrypt(encryptRaw(key, block)), 'WX_ERR_DECRYPT_PADDING', /pad byte is 0/)
    assert.equal(crypto.decrypt(crypto.encrypt('<xml>after</xml>')).xml, '<xml>after</xml>')
  })

  test('a tampered last block is refused, and the next message still decrypts', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId })
    const xml = '<xml>tampered</xml>'
    const pad = 32 - ((20 + xml.length + appId.length) % 32)
    assert.equal(pad, 7)
    const good = referenceEncrypt(key, xml, appId, Buffer.alloc(16, 3))
    const bytes = Buffer.from(good, 'base64')
    // a flip in the last ciphertext block garbles the whole last plaintext block (pad included)
    bytes[bytes.length - 1]! ^= 0x01
    throwsCode(() => crypto.decrypt(bytes.toString('base64')), 'WX_ERR_DECRYPT_PADDING')
    // a flip in the block before it flips the same bit of the pad byte: 7 becomes 6
    const before = Buffer.from(good, 'base64')
    before[before.length - 17]! ^= 0x01
    throwsCode(() => crypto.decrypt(before.toString('base64')), 'WX_ERR_DECRYPT_PADDING', /corrupt \(not all of the last 6 bytes equal 6\)/)
    // and 7 ^ 0x30 = 55: a pad byte above 32
    before[before.length - 17]! ^= 0x01 ^ 0x30
    throwsCode(() => crypto.decrypt(before.toString('base64')), 'WX_ERR_DECRYPT_PADDING', /pad byte is 55, expected 1\.\.32/)
    assert.equal(crypto.decrypt(good).xml, xml)
  })

  test('the low-level functions switch keys and notice a key Buffer changed in place', () => {
    const mutable = Buffer.from(key)
    const random = Buffer.alloc(16, 9)
    for (let i = 0; i < 6; i++) {
      const useOther = i % 2 === 1
      mutable.set(useOther ? otherKey : key)
      const encrypt = encryptMessage(mutable, `<xml>${i}</xml>`, appId, random)
      assert.equal(encrypt, referenceEncrypt(useOther ? otherKey : key, `<xml>${i}</xml>`, appId, random), `encrypt #${i}`)
      assert.equal(decryptMessage(mutable, encrypt, appId).xml, `<xml>${i}</xml>`)
      assert.throws(() => decryptMessage(useOther ? key : otherKey, encrypt, appId), WxmpError)
    }
  })

  test('during a key rotation, messages under either key decrypt in any order', () => {
    const rotating = new MessageCrypto({ token: 't', encodingAESKey: OTHER_KEY, previousEncodingAESKey: SAMPLE_KEY, appId })
    for (let i = 0; i < 12; i++) {
      const old = i % 3 !== 0
      const xml = `<xml>${texts[i % texts.length]}</xml>`
      const encrypt = referenceEncrypt(old ? key : otherKey, xml, appId, Buffer.alloc(16, i))
      assert.deepEqual(rotating.decrypt(encrypt), { xml, appId, key: old ? 'previous' : 'current' }, `#${i}`)
    }
  })
})

/** The error a fresh, stateless decryption gives for this message under SAMPLE_KEY. */
function checkCode(encryptedWith: Buffer, xml: string, appId: string, random: Buffer): WxErrorCode {
  const fresh = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId })
  try {
    fresh.decrypt(referenceEncrypt(encryptedWith, xml, appId, random))
  } catch (err) {
    return (err as WxmpError).code
  }
  throw new Error('expected the message to fail under SAMPLE_KEY')
}

describe('key rotation', () => {
  const appId = 'wx2c2769f8efd9abc2'
  const before = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId })
  const after = new MessageCrypto({ token: 't', encodingAESKey: OTHER_KEY, previousEncodingAESKey: SAMPLE_KEY, appId })

  test('a message still encrypted with the old key decrypts through previousEncodingAESKey', () => {
    const result = after.decrypt(before.encrypt('<xml>old</xml>'))
    assert.deepEqual(result, { xml: '<xml>old</xml>', appId, key: 'previous' })
  })

  test('a message with the new key reports key: current, and replies use the new key', () => {
    assert.equal(after.decrypt(after.encrypt('<xml>new</xml>')).key, 'current')
    assert.throws(() => before.decrypt(after.encrypt('<xml>new</xml>')), WxmpError)
  })

  test("when both keys fail, the current key's error is thrown and says the previous key failed too", () => {
    const third = new MessageCrypto({ token: 't', encodingAESKey: 'A'.repeat(43), appId })
    const encrypt = third.encrypt('<xml>third</xml>')
    let currentCode: string | undefined
    try {
      new MessageCrypto({ token: 't', encodingAESKey: OTHER_KEY, appId }).decrypt(encrypt)
    } catch (err) {
      currentCode = (err as WxmpError).code
    }
    assert.ok(currentCode !== undefined)
    const err = throwsCode(() => after.decrypt(encrypt), currentCode as WxErrorCode, /previousEncodingAESKey failed too/)
    assert.equal(typeof err.details?.previousKeyError, 'string')
  })

  test('base64 errors do not depend on the key and are not retried', () => {
    throwsCode(() => after.decrypt('not base64!'), 'WX_ERR_DECRYPT_BASE64', /^Encrypt is not base64/)
  })
})

describe('text round trips', () => {
  const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2' })

  test('emoji, CJK, combining marks and an empty message survive encrypt → decrypt', () => {
    for (const text of ['', '你好，世界', '👨‍👩‍👧‍👦🎉 emoji', 'e\u0301 combining', '<xml><![CDATA[]]]]><![CDATA[>]]></xml>', '\u0000 nul']) {
      assert.equal(crypto.decrypt(crypto.encrypt(text)).xml, text)
    }
  })

  test('the default random prefix differs between encryptions', () => {
    const a = decryptMessage(decodeAesKey(SAMPLE_KEY), crypto.encrypt('<xml/>'))
    const b = decryptMessage(decodeAesKey(SAMPLE_KEY), crypto.encrypt('<xml/>'))
    assert.notDeepEqual(a.random, b.random)
  })
})

describe('pooledRandomBytes', () => {
  test('draws distinct 16-byte values across several pool refills', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      const bytes = pooledRandomBytes(16)
      assert.equal(bytes.length, 16)
      seen.add(bytes.toString('hex'))
    }
    assert.equal(seen.size, 1000)
  })

  test('returns a copy that later draws do not overwrite, and serves sizes larger than the pool', () => {
    const first = pooledRandomBytes(16)
    const snapshot = Buffer.from(first)
    for (let i = 0; i < 600; i++) pooledRandomBytes(16)
    assert.deepEqual(first, snapshot)
    assert.equal(pooledRandomBytes(10_000).length, 10_000)
    assert.equal(pooledRandomBytes(0).length, 0)
  })
})

describe('AppID mismatch with a long AppID', () => {
  test('what stands where the AppID belongs is shown only when it looks like one (up to 64 characters)', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2' })
    const long = 'w'.repeat(500)
    const err = throwsCode(() => crypto.decrypt(encryptMessage(decodeAesKey(SAMPLE_KEY), '<xml/>', long, Buffer.alloc(16))), 'WX_ERR_APPID_MISMATCH', /not an AppID \(500 bytes, not shown\)/)
    assert.ok(!err.message.includes('w'.repeat(20)))
    assert.deepEqual(err.details, { appIdBytes: 500, expectedAppId: 'wx2c2769f8efd9abc2' })
  })

  test('a msg_len of 0 puts the decrypted message where the AppID belongs: it never reaches the error', () => {
    const crypto = new MessageCrypto({ token: 't', encodingAESKey: SAMPLE_KEY, appId: 'wx2c2769f8efd9abc2' })
    const xml = '<xml><Content><![CDATA[my-secret-text]]></Content></xml>'
    const plain = Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(4), Buffer.from(xml + 'wx2c2769f8efd9abc2')])
    const pad = 32 - (plain.length % 32)
    const err = throwsCode(() => crypto.decrypt(encryptRaw(decodeAesKey(SAMPLE_KEY), Buffer.concat([plain, Buffer.alloc(pad, pad)]))), 'WX_ERR_APPID_MISMATCH')
    assert.ok(!err.message.includes('secret') && !err.message.includes('<xml>'), err.message)
    assert.ok(!JSON.stringify(err.details).includes('secret'))
  })
})
