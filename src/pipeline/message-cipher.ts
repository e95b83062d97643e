/**
 * The message cipher of protocol §5 on a 32-byte key: `encryptMessage` / `decryptMessage`
 * (re-exported by `wxmp/crypto`, src/pipeline/crypto.ts) and the kept-key forms MessageCrypto
 * uses.
 */
import { WxmpError } from '../errors.js'
import { assertAesKey } from './aes-key.js'
import { cbcFor, type CbcKey } from './cbc-key.js'
import { BLOCK, HEADER_LENGTH, RANDOM_LENGTH, decodeCiphertext, unpackPlaintext } from './decrypt-checks.js'
import { drawPooled } from './random-pool.js'

/** The parts of a decrypted message, for callers that want more than the XML. */
export interface DecryptedMessage {
  /** The inner XML document (UTF-8 decoded). */
  xml: string
  /** The AppID (or WeCom receiveid) appended after the message; may be '' for some WeCom callbacks. */
  appId: string
  /** The 16 random prefix bytes. */
  random: Buffer
  /** The PKCS#7 pad length, 1..32. */
  padLength: number
}

/**
 * Encrypts `xml` for `appId` with the 32-byte `key` and the 16-byte `random` prefix; returns
 * the base64 Encrypt text. Deterministic: the same inputs give the same output.
 *
 * @example encryptMessage(decodeAesKey(k), '<xml>…</xml>', 'wx2c2769f8efd9abc2', randomBytes(16))
 */
export function encryptMessage(key: Buffer, xml: string, appId: string, random: Buffer): string {
  assertAesKey(key)
  return encryptWith(cbcFor(key), xml, appId, random)
}

/** Tells encryptWith to draw the random prefix from the pool straight into the plaintext. */
export const FROM_POOL: unique symbol = Symbol('pooled random prefix')

/** encryptMessage on a kept key. */
export function encryptWith(cbc: CbcKey, xml: string, appId: string, random: Buffer | typeof FROM_POOL): string {
  if (random !== FROM_POOL && (!Buffer.isBuffer(random) || random.length !== RANDOM_LENGTH)) {
    const got = Buffer.isBuffer(random) ? `${random.length} bytes` : typeof random
    throw new WxmpError('WX_ERR_CONFIG', `the random prefix must be a 16-byte Buffer, got ${got}`, {
      details: { randomLength: Buffer.isBuffer(random) ? random.length : undefined },
    })
  }
  const msgLength = Buffer.byteLength(xml, 'utf8')
  const appIdLength = Buffer.byteLength(appId, 'utf8')
  const plainLength = HEADER_LENGTH + msgLength + appIdLength
  const pad = BLOCK - (plainLength % BLOCK)
  const padded = Buffer.allocUnsafe(plainLength + pad)
  if (random === FROM_POOL) drawPooled(padded, 0, RANDOM_LENGTH)
  else random.copy(padded, 0)
  padded.writeUInt32BE(msgLength, RANDOM_LENGTH)
  padded.write(xml, HEADER_LENGTH, 'utf8')
  padded.write(appId, HEADER_LENGTH + msgLength, 'utf8')
  for (let i = plainLength; i < padded.length; i++) padded[i] = pad // 1..32 bytes: a loop beats fill()'s call
  return cbc.encrypt(padded).toString('base64')
}

/**
 * Decrypts an Encrypt text with the 32-byte `key`. Strict: the base64 must be canonical
 * (length a multiple of 4, standard alphabet), every pad byte must equal the pad length, the
 * message must be valid UTF-8 and the AppID printable ASCII, so a corrupted or forged
 * ciphertext is refused whole rather than half-processed. When `expectedAppId` is given, the
 * AppID inside must equal it. Verify msg_signature before calling this on untrusted input.
 *
 * @example decryptMessage(decodeAesKey(k), encrypt, 'wx2c2769f8efd9abc2').xml
 * @throws WxmpError WX_ERR_DECRYPT_BASE64 | WX_ERR_DECRYPT_FAILED | WX_ERR_DECRYPT_PADDING |
 *   WX_ERR_DECRYPT_BUFFER | WX_ERR_APPID_MISMATCH
 */
export function decryptMessage(key: Buffer, encrypt: string, expectedAppId?: string): DecryptedMessage {
  assertAesKey(key)
  const { xml, appId, padded, padLength } = decryptWith(cbcFor(key), encrypt, expectedAppId)
  return { xml, appId, random: Buffer.from(padded.subarray(0, RANDOM_LENGTH)), padLength }
}

/** decryptMessage on a kept key, leaving the random prefix in `padded` (MessageCrypto never copies it). */
export function decryptWith(cbc: CbcKey, encrypt: string, expectedAppId: string | undefined): { xml: string; appId: string; padded: Buffer; padLength: number } {
  const ciphertext = decodeCiphertext(encrypt)
  let padded: Buffer
  try {
    padded = cbc.decrypt(ciphertext)
  } catch (cause) {
    throw new WxmpError('WX_ERR_DECRYPT_FAILED', 'AES-256-CBC decryption failed', {
      cause,
      details: { cipherBytes: ciphertext.length },
    })
  }
  const { xml, appId, padLength } = unpackPlaintext(padded, expectedAppId)
  return { xml, appId, padded, padLength }
}
