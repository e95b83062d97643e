import { WxmpError } from '../errors.js'
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
  const encrypt = textOf(parseXml(body), 'Encrypt')
  if (encrypt === undefined || encrypt === '') throw new WxmpError('WX_ERR_ENCRYPT_MISSING', 'encrypt_type=aes but the body has no <Encrypt> element')
  const { msg_signature: msgSignature, timestamp = '', nonce = '' } = query
  if (msgSignature === undefined) throw new WxmpError('WX_ERR_MSG_SIGNATURE_MISSING', 'encrypt_type=aes but msg_signature is missing from the query')
  if (!crypto.verifySignature(msgSignature, timestamp, nonce, encrypt)) {
    throw new WxmpError('WX_ERR_MSG_SIGNATURE_INVALID', 'msg_signature does not match the Encrypt text: the body was altered, or WECHAT_TOKEN differs from the console Token')
  }
  const { xml, appId, key } = crypto.decrypt(encrypt)
  return { xml, encrypted: true, appId, key }
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
