/**
 * WeChat message encryption (安全模式 / 兼容模式), protocol §5:
 *
 *   plain     = random(16) || msg_len (uint32 BE, UTF-8 byte length) || msg (UTF-8) || appid
 *   padded    = PKCS#7 with a 32-byte block (pad 1..32; 32 when already aligned)
 *   Encrypt   = base64(AES-256-CBC(key, iv = key[0..16], padded)), no cipher-level padding
 *
 * Usable on its own as `wxmp/crypto`: `MessageCrypto` for the usual token + key + AppID setup,
 * `encryptMessage` / `decryptMessage` / `decodeAesKey` for anything lower level.
 */
import { WxmpError, isWxmpError } from '../errors.js'
import type { WxErrorCode } from '../errors.js'
import { safeEqualHex, sha1Sorted } from './signature.js'
import { decodeAesKey } from './aes-key.js'
import { CbcKey } from './cbc-key.js'
import { RANDOM_LENGTH } from './decrypt-checks.js'
import { FROM_POOL, decryptWith, encryptWith } from './message-cipher.js'
import { pooledRandomBytes } from './random-pool.js'

export { decodeAesKey } from './aes-key.js'
export { decryptMessage, encryptMessage, type DecryptedMessage } from './message-cipher.js'
export { pooledRandomBytes } from './random-pool.js'

const DECRYPT_CODES: ReadonlySet<WxErrorCode> = new Set<WxErrorCode>([
  'WX_ERR_DECRYPT_FAILED',
  'WX_ERR_DECRYPT_PADDING',
  'WX_ERR_DECRYPT_BUFFER',
  'WX_ERR_APPID_MISMATCH',
])

export interface MessageCryptoOptions {
  /** The callback Token (令牌) from the console; used for msg_signature. */
  token: string
  /** The 43-character EncodingAESKey (消息加解密密钥). */
  encodingAESKey: string
  /** When set, the AppID inside every decrypted message must equal it; also the default for encrypt. */
  appId?: string
  /** The key before the last rotation: tried when the current key cannot decrypt a message. */
  previousEncodingAESKey?: string
  /** Source of the 16-byte random prefix; inject a fixed one for deterministic tests. */
  randomBytes?: (size: number) => Buffer
}

export interface DecryptResult {
  xml: string
  appId: string
  /** Which key decrypted the message: 'previous' means WeChat still uses the old key. */
  key: 'current' | 'previous'
}

/**
 * Encryption, decryption and msg_signature for one account. Both keys are checked when it is
 * constructed, so a bad key fails at startup rather than on the first message.
 *
 * @example
 * const crypto = new MessageCrypto({ token, encodingAESKey, appId: 'wx2c2769f8efd9abc2' })
 * if (!crypto.verifySignature(query.msg_signature, query.timestamp, query.nonce, encrypt)) throw …
 * const { xml } = crypto.decrypt(encrypt)
 * const body = crypto.encryptReply(replyXml, { timestamp: query.timestamp, nonce: query.nonce })
 */
export class MessageCrypto {
  readonly #token: string
  readonly #key: CbcKey
  readonly #previousKey: CbcKey | undefined
  readonly #appId: string | undefined
  /** undefined: the default pool, drawn straight into the plaintext without a copy. */
  readonly #randomBytes: ((size: number) => Buffer) | undefined

  constructor(options: MessageCryptoOptions) {
    if (typeof options?.token !== 'string' || options.token.length === 0) {
      throw new WxmpError('WX_ERR_CONFIG', 'MessageCrypto needs the callback Token (令牌) from the console to compute msg_signature')
    }
    if (options.appId !== undefined && (typeof options.appId !== 'string' || options.appId.length === 0)) {
      throw new WxmpError('WX_ERR_CONFIG', 'appId, when given, must be a non-empty string such as wx2c2769f8efd9abc2')
    }
    this.#token = options.token
    this.#key = new CbcKey(decodeAesKey(options.encodingAESKey))
    this.#previousKey =
      options.previousEncodingAESKey === undefined
        ? undefined
        : new CbcKey(decodeAesKey(options.previousEncodingAESKey, 'previousEncodingAESKey'))
    this.#appId = options.appId
    const randomBytes = options.randomBytes ?? pooledRandomBytes
    this.#randomBytes = randomBytes === pooledRandomBytes ? undefined : randomBytes
  }

  /** Encrypts a reply (or any XML) and returns the base64 Encrypt text. */
  encrypt(xml: string, appId?: string): string {
    const id = appId ?? this.#appId
    if (id === undefined) {
      throw new WxmpError('WX_ERR_CONFIG', 'encrypting needs an AppID: set appId in MessageCryptoOptions or pass it to encrypt()')
    }
    return encryptWith(this.#key, xml, id, this.#randomBytes === undefined ? FROM_POOL : this.#randomBytes(RANDOM_LENGTH))
  }

  /**
   * Decrypts an Encrypt text; with a previous key configured, falls back to it when the current
   * key fails. If both fail, the current key's error is thrown.
   */
  decrypt(encrypt: string): DecryptResult {
    try {
      const { xml, appId } = decryptWith(this.#key, encrypt, this.#appId)
      return { xml, appId, key: 'current' }
    } catch (err) {
      if (this.#previousKey === undefined || !isWxmpError(err) || !DECRYPT_CODES.has(err.code)) throw err
      try {
        const { xml, appId } = decryptWith(this.#previousKey, encrypt, this.#appId)
        return { xml, appId, key: 'previous' }
      } catch (previousErr) {
        throw new WxmpError(err.code, `${err.message} (previousEncodingAESKey failed too)`, {
          cause: err.cause,
          details: { ...err.details, previousKeyError: isWxmpError(previousErr) ? previousErr.code : 'unknown' },
        })
      }
    }
  }

  /** msg_signature = sha1 of sorted [token, timestamp, nonce, encrypt] (§5.3). */
  signature(timestamp: string, nonce: string, encrypt: string): string {
    return sha1Sorted([this.#token, timestamp, nonce, encrypt])
  }

  /** Constant-time check of a request's msg_signature; false when it is missing. */
  verifySignature(msgSignature: string | undefined, timestamp: string, nonce: string, encrypt: string): boolean {
    return safeEqualHex(this.signature(timestamp, nonce, encrypt), msgSignature)
  }

  /**
   * The full encrypted reply document (§5.6), the exact layout of WeChat's official sample:
   * `<xml>\n<Encrypt>…</Encrypt>\n<MsgSignature>…</MsgSignature>\n<TimeStamp>…</TimeStamp>\n<Nonce>…</Nonce>\n</xml>`.
   * `timestamp` and `nonce` may be the request's own.
   */
  encryptReply(replyXml: string, params: { timestamp: string; nonce: string; appId?: string }): string {
    const { timestamp, nonce } = params
    if (typeof timestamp !== 'string' || !/^\d{1,20}$/.test(timestamp)) {
      throw new WxmpError('WX_ERR_REPLY_INVALID', 'encrypted reply TimeStamp must be Unix seconds in decimal digits', {
        details: { timestamp: String(timestamp).slice(0, 32) },
      })
    }
    // Nonce goes into CDATA: printable ASCII without "]]>" keeps the document well-formed.
    if (typeof nonce !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(nonce) || nonce.includes(']]>')) {
      throw new WxmpError('WX_ERR_REPLY_INVALID', 'encrypted reply Nonce must be 1-128 printable ASCII characters without "]]>"', {
        details: { nonceLength: typeof nonce === 'string' ? nonce.length : undefined },
      })
    }
    const encrypt = this.encrypt(replyXml, params.appId)
    const msgSignature = this.signature(timestamp, nonce, encrypt)
    return (
      `<xml>\n<Encrypt><![CDATA[${encrypt}]]></Encrypt>\n` +
      `<MsgSignature><![CDATA[${msgSignature}]]></MsgSignature>\n` +
      `<TimeStamp>${timestamp}</TimeStamp>\n` +
      `<Nonce><![CDATA[${nonce}]]></Nonce>\n</xml>`
    )
  }
}
