import { WxmpError, isWxmpError } from '../errors.js'
import { parseMessage } from '../messages/parse.js'
import type { WechatMessage } from '../messages/types.js'
import { parseXml, textOf } from '../xml/parse.js'
import type { MessageCrypto } from './crypto.js'
import type { Query } from './request.js'

export interface Opened {
  /** The message XML to parse: the body itself, or the decrypted inner document. */
  xml: string
  encrypted: boolean
  /** AppID found inside the ciphertext (encrypted requests). */
  appId?: string
  /** Which key decrypted it, when a previous key is configured for rotation. */
  key?: 'current' | 'previous'
}

/**
 * The decrypt stage. Plaintext (`encrypt_type` absent or `raw`) passes through unless
 * encryption is required. `encrypt_type=aes` (compatible or safe mode): msg_signature is
 * checked over the Encrypt text, then the ciphertext is decrypted and the AppID checked; in
 * compatible mode the unauthenticated plaintext copy in the body is ignored.
 *
 * No decryption oracle: msg_signature needs only the Token, so whoever has it can sign
 * ciphertexts of their own and watch how they are refused. Every failure after msg_signature
 * (base64, padding, length field, UTF-8, AppID, and the XML inside, see `parseOpened`) is
 * answered alike, 400 WX_ERR_DECRYPT_FAILED; the precise code is `details.reason`, for the log.
 */
export function openEnvelope(query: Query, body: string, crypto: MessageCrypto | undefined, requireEncryption: boolean): Opened {
  const type = query.encrypt_type
  if (type === undefined || type === 'raw') {
    if (requireEncryption) {
      throw new WxmpError('WX_ERR_ENCRYPTION_REQUIRED', 'plaintext request rejected because encryption is required (requireEncryption / WECHAT_REQUIRE_ENCRYPTION): set 消息加解密方式 to 安全模式 in the console')
    }
    return { xml: body, encrypted: false }
  }
  if (type !== 'aes') throw new WxmpError('WX_ERR_ENCRYPT_TYPE_UNKNOWN', `encrypt_type=${JSON.stringify(type.slice(0, 20))}: WeChat only sends raw or aes`)
  if (crypto === undefined) {
    throw new WxmpError('WX_ERR_NO_AES_KEY', 'an encrypted (encrypt_type=aes) request arrived but no EncodingAESKey is configured: set WECHAT_AES_KEY (or encodingAESKey) to the key shown in the console')
  }
  const encrypt = scanEnvelope(body) ?? textOf(parseXml(body), 'Encrypt')
  if (encrypt === undefined || encrypt === '') throw new WxmpError('WX_ERR_ENCRYPT_MISSING', 'encrypt_type=aes but the body has no <Encrypt> element')
  const { msg_signature: msgSignature, timestamp = '', nonce = '' } = query
  if (msgSignature === undefined) throw new WxmpError('WX_ERR_MSG_SIGNATURE_MISSING', 'encrypt_type=aes but msg_signature is missing from the query')
  if (!crypto.verifySignature(msgSignature, timestamp, nonce, encrypt)) {
    throw new WxmpError('WX_ERR_MSG_SIGNATURE_INVALID', 'msg_signature does not match the Encrypt text: the body was altered, or WECHAT_TOKEN differs from the console Token')
  }
  try {
    const { xml, appId, key } = crypto.decrypt(encrypt)
    return { xml, encrypted: true, appId, key }
  } catch (err) {
    throw sealedFailure(err)
  }
}

/** The message inside an opened envelope; for an encrypted one, a failure looks like any other after msg_signature. */
export function parseOpened(opened: Opened): WechatMessage {
  if (!opened.encrypted) return parseMessage(opened.xml)
  try {
    return parseMessage(opened.xml)
  } catch (err) {
    throw sealedFailure(err)
  }
}

/** One outward code for every failure behind a valid msg_signature; the precise one stays in `details.reason`. */
function sealedFailure(err: unknown): unknown {
  if (!isWxmpError(err)) return err // a bug, not an answer: it surfaces as a 500 with its stack in the log
  return new WxmpError('WX_ERR_DECRYPT_FAILED', err.message, { cause: err, details: { ...err.details, reason: err.code } })
}

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
/** Anything but printable ASCII, tab and LF (CR included: XML rewrites line ends) declines. */
const NOT_PLAIN = /[^\t\n\x20-\x7e]/

/**
 * The Encrypt text of a body in the plain shape WeChat posts, found without building a tree;
 * `undefined` ("declined") for any other body, which then goes to the XML parser. When it
 * answers, the answer is what `textOf(parseXml(body), 'Encrypt')` gives (envelope.test.ts
 * checks this against the parser on generated bodies).
 *
 * Accepted: `<xml>` first; children `<Name>text</Name>` or `<Name><![CDATA[text]]></Name>`
 * (Name = [A-Za-z_][A-Za-z0-9_]*, text without '&' or "]]>"), with spaces, tabs or LFs
 * between them; `</xml>` and trailing whitespace; printable ASCII, tab and LF only; exactly
 * one Encrypt. Declined: everything else (a prolog, attributes, nesting, entities, comments,
 * mixed text and CDATA, self-closing tags, no or repeated Encrypt).
 */
export function scanEnvelope(body: string): string | undefined {
  if (!body.startsWith('<xml>') || NOT_PLAIN.test(body)) return undefined
  let encrypt: string | undefined
  let at = skipSpace(body, 5)
  while (!body.startsWith('</xml>', at)) {
    if (body.charCodeAt(at) !== LT) return undefined
    const nameEnd = nameEndAt(body, at + 1)
    if (nameEnd === -1 || body.charCodeAt(nameEnd) !== GT) return undefined
    let text: string
    let close: number
    if (body.startsWith('<![CDATA[', nameEnd + 1)) {
      const from = nameEnd + 10
      close = body.indexOf(']]>', from)
      if (close === -1) return undefined
      text = body.slice(from, close)
      close += 3
    } else {
      close = body.indexOf('<', nameEnd + 1)
      if (close === -1) return undefined
      text = body.slice(nameEnd + 1, close)
      if (text.includes('&') || text.includes(']]>')) return undefined
    }
    const name = body.slice(at + 1, nameEnd)
    // the close tag: exactly </Name>
    if (body.charCodeAt(close) !== LT || body.charCodeAt(close + 1) !== SLASH) return undefined
    if (!body.startsWith(name, close + 2) || body.charCodeAt(close + 2 + name.length) !== GT) return undefined
    if (name === 'Encrypt') {
      if (encrypt !== undefined) return undefined
      encrypt = text
    }
    at = skipSpace(body, close + 3 + name.length)
  }
  return skipSpace(body, at + 6) === body.length ? encrypt : undefined
}

function skipSpace(body: string, at: number): number {
  for (let c = body.charCodeAt(at); c === 0x20 || c === 0x0a || c === 0x09; c = body.charCodeAt(++at));
  return at
}

/** The end of the name starting at `at`, or -1 when no name starts there. */
function nameEndAt(body: string, at: number): number {
  let c = body.charCodeAt(at)
  if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f)) return -1
  do c = body.charCodeAt(++at)
  while ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)
  return at
}

/**
 * Wraps a reply for an encrypted request (protocol.md §5.6) with a fresh timestamp and nonce
 * (ten digits drawn from the injectable random source, like WeChat's own nonces).
 */
export function sealReply(replyXml: string, crypto: MessageCrypto, nowMs: number, randomBytes: (size: number) => Buffer, appId?: string): string {
  const timestamp = String(Math.floor(nowMs / 1000))
  const nonce = String(1_000_000_000 + (randomBytes(4).readUInt32BE(0) % 1_000_000_000))
  return crypto.encryptReply(replyXml, appId === undefined ? { timestamp, nonce } : { timestamp, nonce, appId })
}
