import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Bot } from '../bot.js'
import { readReply, signedRequest } from '../testing/signed-request.js'
import { SAMPLE_KINDS, sampleXml } from '../testing/samples.js'
import { parseXml, textOf } from '../xml/parse.js'
import { scanEnvelope } from './envelope.js'
import { sha1Sorted } from './signature.js'
import type { Logger } from '../logger.js'

const token = 'spamtest'
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx2c2769f8efd9abc2'
const oldKey = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'
const codes: string[] = []
const lines: Array<Record<string, unknown>> = []
const logger: Logger = {
  debug() {},
  info() {},
  warn: (o: object) => {
    codes.push(String((o as { code?: string }).code))
    lines.push(o as Record<string, unknown>)
  },
  error() {},
  child: () => logger,
}

function safeBot(extra: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const bot = new Bot({ token, encodingAESKey, appId, logger, ...extra })
  bot.on('text', (ctx) => ctx.reply(`${ctx.request.encrypted ? 'enc' : 'plain'}:${ctx.message.Content}`))
  bot.on('event', (ctx) => ctx.reply(`event ${ctx.event}`))
  return bot
}

describe('safe and compatible mode', () => {
  for (const mode of ['safe', 'compat'] as const) {
    test(`${mode} mode: every message and event type is verified, decrypted, routed and answered encrypted`, async () => {
      const bot = safeBot()
      for (const kind of SAMPLE_KINDS) {
        const req = signedRequest({ token, encodingAESKey, appId, mode, xml: sampleXml(kind, { Content: '你好 ]]> 😀' }) })
        const res = await bot.handle(req)
        assert.equal(res.status, 200, kind)
        const read = readReply(res, { token, encodingAESKey, appId })
        if (kind === 'text') {
          assert.equal(read.encrypted, true)
          assert.equal(read.reply?.Content, 'enc:你好 ]]> 😀')
        } else if (kind.startsWith('event:')) {
          assert.equal(read.reply?.Content, `event ${kind.slice(6)}`)
        } else assert.equal(read.noReply, true)
      }
    })
  }

  test('compatible mode trusts the decrypted copy, not the unauthenticated plaintext fields', async () => {
    const bot = safeBot()
    const req = signedRequest({ token, encodingAESKey, appId, mode: 'compat', xml: sampleXml('text', { Content: 'real' }) })
    const tampered = { ...req, body: req.body.replace('<![CDATA[real]]>', '<![CDATA[forged]]>') }
    assert.equal(readReply(await bot.handle(tampered), { token, encodingAESKey, appId }).reply?.Content, 'enc:real')
  })

  test('plaintext keeps working unless encryption is required', async () => {
    const plain = signedRequest({ token, xml: sampleXml('text', { Content: 'p' }) })
    assert.equal(readReply(await safeBot().handle(plain), { token }).reply?.Content, 'plain:p')
    const strict = safeBot({ requireEncryption: true })
    assert.equal((await strict.handle(signedRequest({ token, xml: sampleXml('text') }))).status, 403)
  })

  test('each failure before msg_signature has its own code and status; every one after it is WX_ERR_DECRYPT_FAILED', async () => {
    const cases: Array<[string, () => ReturnType<typeof signedRequest>, Bot, number, string]> = []
    const enc = () => signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
    cases.push(['no key configured', enc, new Bot({ token, logger }), 400, 'WX_ERR_NO_AES_KEY'])
    cases.push(['msg_signature missing', () => {
      const r = enc()
      delete (r.query as Record<string, string | undefined>).msg_signature
      return r
    }, safeBot(), 401, 'WX_ERR_MSG_SIGNATURE_MISSING'])
    cases.push(['msg_signature wrong', () => {
      const r = enc()
      return { ...r, query: { ...r.query, msg_signature: sha1Sorted(['forged']) } }
    }, safeBot(), 401, 'WX_ERR_MSG_SIGNATURE_INVALID'])
    cases.push(['ciphertext for another AppID', () => signedRequest({ token, encodingAESKey, appId: 'wxb11529c136998cb6', mode: 'safe', xml: sampleXml('text') }), safeBot(), 400, 'WX_ERR_DECRYPT_FAILED'])
    cases.push(['wrong key', () => signedRequest({ token, encodingAESKey: oldKey, appId, mode: 'safe', xml: sampleXml('text') }), safeBot(), 400, 'WX_ERR_DECRYPT_FAILED'])
    cases.push(['unknown encrypt_type', () => {
      const r = enc()
      return { ...r, query: { ...r.query, encrypt_type: 'rsa' } }
    }, safeBot(), 400, 'WX_ERR_ENCRYPT_TYPE_UNKNOWN'])
    cases.push(['no Encrypt element', () => {
      const r = enc()
      return { ...r, body: '<xml><ToUserName>gh</ToUserName></xml>' }
    }, safeBot(), 400, 'WX_ERR_ENCRYPT_MISSING'])
    for (const [name, make, bot, status, code] of cases) {
      codes.length = 0
      const res = await bot.handle(make())
      assert.equal(res.status, status, name)
      assert.equal(res.body, `${code}\n`, name)
    }
  })

  test('no decryption oracle: padding, length, UTF-8, AppID, base64 and XML failures inside a signed ciphertext get one answer; the log line says which', async () => {
    const key = Buffer.from(`${encodingAESKey}=`, 'base64')
    const { createCipheriv } = await import('node:crypto')
    const seal = (plain: Buffer) => createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false).update(plain).toString('base64')
    const layout = (msgLen: number, xml: string, tail: string, pad?: number) => {
      const plain = Buffer.concat([Buffer.alloc(16, 3), Buffer.alloc(4), Buffer.from(xml + tail)])
      plain.writeUInt32BE(msgLen, 16)
      const n = 32 - (plain.length % 32)
      return Buffer.concat([plain, Buffer.alloc(n, pad ?? n)])
    }
    const good = sampleXml('text')
    const compact = '<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Content><![CDATA[private-words]]></Content></xml>'
    const encrypts: Array<[string, string]> = [
      ['WX_ERR_DECRYPT_PADDING', seal(layout(Buffer.byteLength(good), good, appId, 0))],
      ['WX_ERR_DECRYPT_BUFFER', seal(layout(1 << 30, good, appId))],
      ['WX_ERR_DECRYPT_BUFFER', seal(layout(0, good, appId))],
      ['WX_ERR_APPID_MISMATCH', seal(layout(Buffer.byteLength(good), good, 'wx0000000000000000'))],
      ['WX_ERR_APPID_MISMATCH', seal(layout(0, compact, appId))],
      ['WX_ERR_DECRYPT_BASE64', 'not*base64'],
      ['WX_ERR_XML_MALFORMED', seal(layout(10, '<xml><ToUs', appId))],
      ['WX_ERR_MESSAGE_INVALID', seal(layout(13, '<xml></xml>\n\n', appId))],
    ]
    const answers = new Set<string>()
    for (const [reason, encrypt] of encrypts) {
      const r = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
      const query = { ...r.query, msg_signature: sha1Sorted([token, r.query.timestamp!, r.query.nonce!, encrypt]) }
      lines.length = 0
      const res = await safeBot().handle({ ...r, query, body: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>` })
      answers.add(`${res.status} ${JSON.stringify(res.headers)} ${res.body}`)
      assert.equal(lines[0]?.code, 'WX_ERR_DECRYPT_FAILED', reason)
      assert.equal(lines[0]?.reason, reason, reason)
      assert.ok(!JSON.stringify(lines).includes('<xml>') && !JSON.stringify(lines).includes('private-words'), `${reason}: no decrypted content in the line: ${JSON.stringify(lines)}`)
    }
    assert.deepEqual([...answers], [`400 ${JSON.stringify({ 'content-type': 'text/plain; charset=utf-8' })} WX_ERR_DECRYPT_FAILED\n`])
  })

  test('a body altered after signing fails msg_signature', async () => {
    const r = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
    const other = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text', { Content: 'x' }) })
    const nonce = '42'
    const query = { ...r.query, nonce, signature: sha1Sorted([token, r.query.timestamp!, nonce]) }
    const res = await safeBot().handle({ ...r, query, body: other.body })
    assert.equal(res.status, 401)
    assert.equal(res.body, 'WX_ERR_MSG_SIGNATURE_INVALID\n')
  })

  test('key rotation: a message under the previous EncodingAESKey still decrypts, with a warning', async () => {
    const bot = safeBot({ encodingAESKey: oldKey, previousEncodingAESKey: encodingAESKey })
    codes.length = 0
    const req = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text', { Content: 'old key' }) })
    const read = readReply(await bot.handle(req), { token, encodingAESKey: oldKey, appId })
    assert.equal(read.reply?.Content, 'enc:old key')
  })

  test('deterministic encryption with injected randomness and clock', async () => {
    const fixed = (n: number) => Buffer.alloc(n, 7)
    const make = () => {
      const bot = new Bot({ token, encodingAESKey, appId, logger, randomBytes: fixed, now: () => 1_409_735_669_000, timestampToleranceSec: 0 })
      bot.on('text', (ctx) => ctx.reply('same'))
      return bot
    }
    const xml = sampleXml('text', {}, { msgId: '1' })
    const one = await make().handle(signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml, timestamp: '1409735669', nonce: '1' }))
    const two = await make().handle(signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml, timestamp: '1409735669', nonce: '1' }))
    assert.equal(one.body, two.body)
  })
})

/** The Encrypt text as the XML parser reads it, or the error it throws. */
function parsedEncrypt(body: string): string | undefined | Error {
  try {
    return textOf(parseXml(body), 'Encrypt')
  } catch (err) {
    return err as Error
  }
}

describe('scanEnvelope: the Encrypt text without building a tree', () => {
  const enc = 'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQ=='

  test('the bodies WeChat and WeCom post are read by the scanner, exactly as the parser reads them', () => {
    const bodies = [
      `<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
      `<xml>\n    <ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>\n    <Encrypt><![CDATA[${enc}]]></Encrypt>\n</xml>\n`,
      `<xml>\t<Encrypt><![CDATA[${enc}]]></Encrypt>\t</xml>`,
      `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`,
      `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[a < b & c]]></Content><MsgId>1234567890123456</MsgId><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`,
      `<xml><Encrypt>${enc}</Encrypt></xml>`,
    ]
    for (const body of bodies) {
      assert.equal(scanEnvelope(body), enc, body)
      assert.equal(parsedEncrypt(body), enc, body)
    }
    const safe = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text') })
    assert.equal(scanEnvelope(safe.body), parsedEncrypt(safe.body))
    assert.notEqual(scanEnvelope(safe.body), undefined)
  })

  test('anything outside the plain shape is left to the parser', () => {
    const inner = `<Encrypt><![CDATA[${enc}]]></Encrypt>`
    const declined = [
      `<?xml version="1.0" encoding="UTF-8"?><xml>${inner}</xml>`, // a prolog
      ` <xml>${inner}</xml>`, // leading whitespace
      `\uFEFF<xml>${inner}</xml>`, // a byte order mark
      `<xml>\r\n${inner}\r\n</xml>`, // CR: the parser rewrites line ends
      `<xml><Encrypt><![CDATA[${enc}\r]]></Encrypt></xml>`,
      `<xml><Encrypt>${enc}\r\n</Encrypt></xml>`,
      `<xml><ToUserName><![CDATA[你好]]></ToUserName>${inner}</xml>`, // not ASCII
      `<xml><Encrypt>&#104;${enc.slice(1)}</Encrypt></xml>`, // an entity reference
      `<xml><!-- c -->${inner}</xml>`, // a comment
      `<xml a="1">${inner}</xml>`, // an attribute
      `<xml><Encrypt x="1"><![CDATA[${enc}]]></Encrypt></xml>`,
      `<xml><Encrypt x>${enc}</Encrypt></xml>`,
      `<xml><ToUserName/>${inner}</xml>`, // self-closing
      `<xml><A><B>x</B></A>${inner}</xml>`, // nesting
      `<xml><Encrypt>h<![CDATA[${enc.slice(1)}]]></Encrypt></xml>`, // text and CDATA mixed
      `<xml>${inner}${inner}</xml>`, // Encrypt twice
      '<xml><ToUserName><![CDATA[gh]]></ToUserName></xml>', // no Encrypt
      `<xml><Encrypt><![CDATA[${enc}]]></Encrypted></xml>`, // mismatched close tag
      `<xml><Encrypt><![CDATA[${enc}]]></Encrypt ></xml>`,
      `<xml><Encrypt><![CDATA[${enc}]]>x</Encrypt></xml>`,
      `<xml><Encrypt><![CDATA[${enc}]]>x/Encrypt></xml>`,
      `<xml><Encrypt>${enc}</Encrypt <A>x</A></xml>`, // a close tag not ended by '>'
      `<xml><Encrypt><![CDATA[${enc}</Encrypt></xml>`, // unclosed CDATA
      `<xml><A>x]]>y</A>${inner}</xml>`, // "]]>" in text
      `<xml>${inner}</xml>x`, // text after the root
      `<xml>${inner}</xml><xml></xml>`, // a second root
      `<xml>${inner}`, // truncated
      `<xml>x${inner}</xml>`, // text in the root
      `<root>${inner}</root>`, // another root name
      `<xml><1A>x</1A>${inner}</xml>`, // not a name
    ]
    for (const body of declined) assert.equal(scanEnvelope(body), undefined, body)
  })

  test('declined bodies still get the parser: an entity in Encrypt decrypts, a repeated Encrypt is missing', async () => {
    const r = signedRequest({ token, encodingAESKey, appId, mode: 'safe', xml: sampleXml('text', { Content: 'entity' }) })
    const encrypt = /<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/.exec(r.body)![1]!
    const withEntity = `<xml><Encrypt>&#${encrypt.charCodeAt(0)};${encrypt.slice(1)}</Encrypt></xml>`
    assert.equal(scanEnvelope(withEntity), undefined)
    const read = readReply(await safeBot().handle({ ...r, body: withEntity }), { token, encodingAESKey, appId })
    assert.equal(read.reply?.Content, 'enc:entity')
    const twice = `<xml><Encrypt>${encrypt}</Encrypt><Encrypt>${encrypt}</Encrypt></xml>`
    const res = await safeBot().handle({ ...r, body: twice })
    assert.equal(res.body, 'WX_ERR_ENCRYPT_MISSING\n')
  })

  // near-valid bodies: each piece is usually in the plain shape, sometimes one of the ways out
  const pick = <T>(common: T, ...rare: T[]) => fc.oneof({ arbitrary: fc.constant(common), weight: 3 * rare.length }, ...rare.map((r) => ({ arbitrary: fc.constant(r), weight: 1 })))
  const mostly = <T>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 12 }, { arbitrary: unusual, weight: 1 })
  const anyName = mostly(fc.constantFrom('Encrypt', 'ToUserName', 'AgentID', '_x1', 'xml', '__proto__', 'constructor'), fc.constantFrom('encrypt', 'Encrypt2', '1a', 'a-b', 'a.b', ''))
  const anyChar = mostly(
    fc.constantFrom('a', 'Z', '0', '+', '/', '=', ' ', '\t', '\n', '>', '[', '!'),
    fc.constantFrom('\r', '<', '&', ']', 'é', '你', '\u0000', '\u0007', '\uFFFE', '\uD800', '&amp;', '&#65;', '&#0;', ']]>', '<![CDATA[', '<a>', '</a>', '/>'),
  )
  const anyText = fc.array(anyChar, { maxLength: 8 }).map((parts) => parts.join(''))
  const anyContent = mostly(
    fc.oneof(anyText, anyText.map((t) => `<![CDATA[${t}]]>`)),
    fc.tuple(anyText, anyText).map(([a, b]) => `${a}<![CDATA[${b}]]>`),
  )
  const anyChild = fc
    .tuple(anyName, anyContent, mostly(fc.constant(undefined), anyName), mostly(fc.constant(false), fc.constant(true)))
    .map(([name, content, closeName, selfClosing]) => (selfClosing ? `<${name}/>` : `<${name}>${content}</${closeName ?? name}>`))
  const anySpace = mostly(fc.constantFrom('', ' ', '\n', '\t', '\n    '), fc.constantFrom('\r\n', 'x', '<!--c-->', '&#32;'))

  test('on generated bodies, the scanner declines or agrees with the parser', () => {
    const body = fc
      .tuple(
        pick('<xml>', '', ' <xml>', '<?xml version="1.0"?><xml>', '<xml a="1">', '<root>', '\uFEFF<xml>', '<xml >'),
        fc.array(fc.tuple(anySpace, anyChild), { maxLength: 5 }),
        anySpace,
        pick('</xml>', '</xml>\n', '</xml> x', '</xml><xml></xml>', '', '</root>', '</xml >', '</xml>\r\n'),
      )
      .map(([open, children, space, close]) => `${open}${children.map(([s, c]) => s + c).join('')}${space}${close}`)
    fc.assert(
      fc.property(body, (b) => {
        const scanned = scanEnvelope(b)
        if (scanned !== undefined) assert.equal(scanned, parsedEncrypt(b))
      }),
      { numRuns: 3000 },
    )
  })

  test('on generated bodies in the plain shape, the scanner always answers, and agrees with the parser', () => {
    const name = fc.constantFrom('ToUserName', 'AgentID', 'A', '_', 'x9_Z', 'xml', '__proto__', 'constructor', 'Encrypted', 'encrypt')
    const chars = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 12 }).map((a) => a.join(''))
    const text = chars(['a', '+', '/', '=', ' ', '\t', '\n', '>', '[', '!', '"', "'", '~'])
    const cdata = chars(['a', '+', '/', '=', ' ', '\t', '\n', '<', '&', '[', ']', '!', '~'])
    const content = fc.oneof(text, cdata.map((t) => `<![CDATA[${t}]]>`))
    const space = fc.constantFrom('', ' ', '\n', '\t', '\n    ')
    const child = fc.tuple(space, name, content).map(([s, n, c]) => `${s}<${n}>${c}</${n}>`)
    const body = fc
      .tuple(fc.array(child, { maxLength: 4 }), fc.nat(4), space, content, space, fc.constantFrom('', '\n', ' \t\n'))
      .map(([children, at, s1, encrypt, s2, trailing]) => {
        children.splice(Math.min(at, children.length), 0, `${s1}<Encrypt>${encrypt}</Encrypt>`)
        return `<xml>${children.join('')}${s2}</xml>${trailing}`
      })
    fc.assert(
      fc.property(body, (b) => {
        const scanned = scanEnvelope(b)
        assert.notEqual(scanned, undefined, b)
        assert.equal(scanned, parsedEncrypt(b))
      }),
      { numRuns: 2000 },
    )
  })
})
