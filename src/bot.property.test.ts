import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Bot } from './bot.js'
import { readReply, signedRequest } from './testing/signed-request.js'
import { SAMPLE_KINDS, sampleXml } from './testing/samples.js'
import type { InboundRequest } from './pipeline/request.js'
import { sha1Sorted } from './pipeline/signature.js'

const TOKEN = 'propertyToken'
const APP_ID = 'wx2c2769f8efd9abc2'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

/** A bot whose handlers echo whatever arrived, so arbitrary input flows into the reply XML. */
function echoBot(): Bot {
  const bot = new Bot({ token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY, logger: quiet, timestampToleranceSec: 0 })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  bot.on('event', (ctx) => ctx.reply(`event ${ctx.event ?? ''} ${JSON.stringify(ctx.message).slice(0, 200)}`))
  bot.use((ctx) => ctx.reply({ type: 'news', articles: [{ title: String(ctx.msgType), description: ctx.openid, url: ctx.openid }] }))
  return bot
}

const anyText = fc.string({ unit: 'binary', maxLength: 120 })
const kinds = fc.constantFrom(...SAMPLE_KINDS)
const mode = fc.constantFrom('plain' as const, 'compat' as const, 'safe' as const)

/** Messages WeChat could send, with arbitrary text in the fields a user controls. */
let unique = 0
const validRequests = fc.tuple(kinds, anyText, anyText, mode).map(([kind, content, openid, m]) => {
  // distinct senders and job ids: two generated messages must not be one message's retries
  const fields = kind === 'text' ? { Content: content } : kind.endsWith('JOBFINISH') ? { MsgID: BigInt(++unique) } : {}
  return signedRequest({ token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY, mode: m, xml: sampleXml(kind, fields, { openid: `${openid.replace(/\s/g, '')}-${++unique}` }) })
})

/** Anything at all: arbitrary methods, queries (sometimes correctly signed) and bodies (sometimes mangled samples). */
const hostileRequests: fc.Arbitrary<InboundRequest> = fc.oneof(
  validRequests.map((r): InboundRequest => r),
  fc
    .tuple(
      fc.constantFrom('POST', 'POST', 'POST', 'GET', 'HEAD', 'PUT', 'post', ''),
      fc.oneof(
        fc.dictionary(fc.constantFrom('signature', 'timestamp', 'nonce', 'openid', 'encrypt_type', 'msg_signature', 'echostr'), anyText),
        validRequests.map((r) => r.query),
        fc.tuple(validRequests, fc.constantFrom('encrypt_type', 'msg_signature', 'nonce'), anyText).map(([r, key, value]) => ({ ...r.query, [key]: value })),
      ),
      fc.oneof(
        anyText,
        fc.uint8Array({ maxLength: 400 }),
        validRequests.map((r) => r.body),
        fc.tuple(validRequests, fc.nat(), anyText).map(([r, at, junk]) => r.body.slice(0, at % (r.body.length + 1)) + junk + r.body.slice(at % (r.body.length + 1))),
        fc.constant(undefined),
      ),
    )
    .map(([method, query, body]): InboundRequest => ({ method, query, ...(body === undefined ? {} : { body: body instanceof Uint8Array ? Buffer.from(body) : body }) })),
  fc.constant<InboundRequest>({ method: 'POST', query: {} }),
)

/** What a bad ciphertext may be refused as: by the crypto, or by what it decrypts to. */
const CIPHERTEXT_REFUSALS = new Set(['WX_ERR_DECRYPT_BASE64', 'WX_ERR_DECRYPT_FAILED', 'WX_ERR_DECRYPT_PADDING', 'WX_ERR_DECRYPT_BUFFER', 'WX_ERR_APPID_MISMATCH', 'WX_ERR_XML_MALFORMED', 'WX_ERR_MESSAGE_INVALID', 'WX_ERR_ENCRYPT_MISSING', 'WX_ERR_MSG_SIGNATURE_INVALID'])

describe('bot.handle properties', () => {
  test('any request gets an answer: never a throw, never a 5xx, a 200 is always readable by WeChat', async () => {
    const bot = echoBot()
    let answered = 0
    await fc.assert(
      fc.asyncProperty(hostileRequests, async (request) => {
        const response = await bot.handle(request)
        assert.ok(response.status === 200 || (response.status >= 400 && response.status < 500), `status ${response.status}: ${response.body}`)
        if (response.status === 200 && request.method.toUpperCase() === 'POST') {
          readReply(response, { token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY })
          answered++
        }
      }),
      { numRuns: 1500 },
    )
    await bot.drain(1000)
    assert.ok(answered > 100, `enough hostile requests got through to a reply to exercise it (${answered})`)
  })

  test('every well-formed message in every mode is answered 200 with a reply that decrypts and parses', async () => {
    const bot = echoBot()
    await fc.assert(
      fc.asyncProperty(validRequests, async (request) => {
        const response = await bot.handle(request)
        assert.equal(response.status, 200, response.body)
        const reply = readReply(response, { token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY })
        // an empty or whitespace echo is no reply ("success"), never empty XML
        if (!reply.noReply) assert.equal(reply.encrypted, request.query.encrypt_type === 'aes')
        else assert.equal(response.body, 'success')
      }),
      { numRuns: 800 },
    )
    await bot.drain(1000)
  })

  test('arbitrary and bit-flipped ciphertexts with a valid msg_signature never crash or get a 5xx', async () => {
    const bot = echoBot()
    let refused = 0
    const ciphertexts = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 600 }).map((bytes) => Buffer.from(bytes).toString('base64')),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(validRequests, fc.nat(), fc.nat({ max: 7 })).map(([r, at, bit]) => {
        // a real ciphertext with one bit flipped: padding, length or AppID checks must catch it
        const encrypt = /<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/.exec(r.body)?.[1] ?? ''
        const bytes = Buffer.from(encrypt, 'base64')
        if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << bit
        return bytes.toString('base64')
      }),
    )
    await fc.assert(
      fc.asyncProperty(ciphertexts, async (encrypt) => {
        const timestamp = '1700000000'
        const nonce = String(++unique) // a fresh signed query each time: refusals must come from the ciphertext
        const query = { signature: sha1Sorted([TOKEN, timestamp, nonce]), timestamp, nonce, encrypt_type: 'aes', msg_signature: sha1Sorted([TOKEN, timestamp, nonce, encrypt]) }
        const body = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt.replaceAll(']]>', '')}]]></Encrypt></xml>`
        const response = await bot.handle({ method: 'POST', query, body })
        assert.ok(response.status < 500, `status ${response.status}: ${response.body}`)
        // a flip inside a long Content can leave a readable message: then the reply must be valid
        if (response.status === 200) readReply(response, { token: TOKEN, appId: APP_ID, encodingAESKey: AES_KEY })
        else {
          assert.ok(CIPHERTEXT_REFUSALS.has(response.body.trim()), `refused for the wrong reason: ${response.body.trim()}`)
          refused++
        }
      }),
      { numRuns: 1000 },
    )
    assert.ok(refused > 900, `most garbage is refused (${refused} of 1000)`)
  })
})
