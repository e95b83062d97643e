import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes, randomFillSync } from 'node:crypto'
import type { Cipher, Decipher } from 'node:crypto'
import { WxmpError, isWxmpError } from '../errors.js'
import type { WxErrorCode } from '../errors.js'
import { safeEqualHex, sha1Sorted } from './signature.js'
import { BLOCK, HEADER_LENGTH, RANDOM_LENGTH, decodeCiphertext, unpackPlaintext } from './decrypt-checks.js'

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

const KEY_LENGTH = 43

const DECRYPT_CODES: ReadonlySet<WxErrorCode> = new Set<WxErrorCode>([
  'WX_ERR_DECRYPT_FAILED',
  'WX_ERR_DECRYPT_PADDING',
  'WX_ERR_DECRYPT_BUFFER',
  'WX_ERR_APPID_MISMATCH',
])

/**
 * Decodes an EncodingAESKey (43 characters of [A-Za-z0-9]) into the 32-byte AES key.
 * The decoder is lenient about the 2 discarded bits of the 43rd character: WeChat's own sample
 * key ends in 'G', which strict decoders reject. The key itself never appears in an error.
 *
 * @example decodeAesKey('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG').length // 32
 * @throws WxmpError WX_ERR_AES_KEY_INVALID naming the likely mistake
 */
export function decodeAesKey(encodingAESKey: string, label = 'EncodingAESKey'): Buffer {
  if (typeof encodingAESKey !== 'string' || encodingAESKey.length === 0) {
    const got = typeof encodingAESKey === 'string' ? 'an empty string' : String(encodingAESKey)
    throw keyError(`${label} is missing (got ${got}): copy the 43-character key from the console (开发 › 基本配置)`, {
      length: 0,
    })
  }
  const length = encodingAESKey.length
  if (length !== KEY_LENGTH) {
    throw keyError(`${label} must be 43 characters, got ${length}${lengthHint(encodingAESKey)}`, {
      length,
      expectedLength: KEY_LENGTH,
    })
  }
  const bad = /[^A-Za-z0-9]/.exec(encodingAESKey)
  if (bad !== null) {
    throw keyError(
      `${label} may contain only A-Z, a-z and 0-9, but has ${JSON.stringify(bad[0])} at position ${bad.index + 1}` +
        ': it is not a base64 string of your own; copy it again from the console',
      { length, position: bad.index + 1 },
    )
  }
  const key = Buffer.from(`${encodingAESKey}=`, 'base64')
  if (key.length !== 32) {
    // Unreachable for 43 valid characters; kept so a future decoder change cannot pass a bad key.
    throw keyError(`${label} decodes to ${key.length} bytes, expected 32`, { length, decodedLength: key.length })
  }
  return key
}

function lengthHint(value: string): string {
  if (/^[0-9a-f]{32}$/i.test(value)) return ': this looks like the AppSecret (32 hex characters), not the EncodingAESKey'
  if (value.trim().length === KEY_LENGTH) return ': it has leading or trailing whitespace or a newline'
  if (value.length === KEY_LENGTH + 1 && value.endsWith('=')) return ": remove the trailing '=' (WeChat shows the key without it)"
  if (/\s/.test(value)) return ': it contains whitespace or a newline'
  return value.length < KEY_LENGTH ? ': was it cut off while copying?' : ': were two values pasted together?'
}

function keyError(message: string, details: Record<string, unknown>): WxmpError {
  return new WxmpError('WX_ERR_AES_KEY_INVALID', message, { details })
}

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
const FROM_POOL: unique symbol = Symbol('pooled random prefix')

/** encryptMessage on a kept key. */
function encryptWith(cbc: CbcKey, xml: string, appId: string, random: Buffer | typeof FROM_POOL): string {
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
function decryptWith(cbc: CbcKey, encrypt: string, expectedAppId: string | undefined): { xml: string; appId: string; padded: Buffer; padLength: number } {
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

function assertAesKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    const got = Buffer.isBuffer(key) ? `${key.length} bytes` : typeof key
    throw keyError(`the AES key must be a 32-byte Buffer (use decodeAesKey on the EncodingAESKey), got ${got}`, {
      decodedLength: Buffer.isBuffer(key) ? key.length : undefined,
    })
  }
}

/**
 * AES-256-CBC under one key with WeChat's fixed IV (key[0..16]), auto-padding off.
 *
 * Creating a Cipheriv costs more than encrypting a whole callback, so each direction keeps one
 * cipher for the life of the key. CBC carries state between update() calls: the next update
 * chains from the last ciphertext block instead of the IV. Only the first block of a message
 * depends on that: decrypting, its output is D(C0) xor chain where D(C0) xor IV is wanted;
 * encrypting, feeding P0 xor IV xor chain gives E(P0 xor IV). XORing the first block with
 * (chain xor IV) makes every output byte for byte what a fresh cipher would give. Whole
 * blocks in mean whole blocks out, so final() is never needed; if update() ever throws or
 * returns a different length, the cipher is dropped and a fresh one-shot cipher does the work.
 */
class CbcKey {
  readonly key: Buffer
  readonly #iv: Buffer
  #decipher: Decipher | undefined
  /** The IV the decipher will chain from next: the last ciphertext block it was given. */
  readonly #decipherChain = Buffer.alloc(16)
  #cipher: Cipher | undefined
  /** The IV the cipher will chain from next: the last ciphertext block it produced. */
  readonly #cipherChain = Buffer.alloc(16)

  constructor(key: Buffer) {
    this.key = Buffer.from(key) // a copy: the caller's Buffer may change later
    this.#iv = this.key.subarray(0, 16)
  }

  /** Decrypts whole 16-byte blocks; the returned Buffer is the caller's own. */
  decrypt(ciphertext: Buffer): Buffer {
    // only whole blocks may go through the kept decipher: anything else would leave it mid-block
    if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) return oneShot(createDecipheriv('aes-256-cbc', this.key, this.#iv), ciphertext)
    let decipher = this.#decipher
    if (decipher === undefined) {
      decipher = this.#decipher = createDecipheriv('aes-256-cbc', this.key, this.#iv).setAutoPadding(false)
      this.#iv.copy(this.#decipherChain)
    }
    let plain: Buffer | undefined
    try {
      plain = decipher.update(ciphertext)
    } catch {
      plain = undefined
    }
    if (plain === undefined || plain.length !== ciphertext.length) {
      this.#decipher = undefined
      return oneShot(createDecipheriv('aes-256-cbc', this.key, this.#iv), ciphertext)
    }
    xorFirstBlock(plain, this.#decipherChain, this.#iv)
    copyLastBlock(ciphertext, this.#decipherChain)
    return plain
  }

  /** Encrypts whole 16-byte blocks; `plain` is scratch and is changed. */
  encrypt(plain: Buffer): Buffer {
    if (plain.length === 0 || plain.length % 16 !== 0) return oneShot(createCipheriv('aes-256-cbc', this.key, this.#iv), plain)
    let cipher = this.#cipher
    if (cipher === undefined) {
      cipher = this.#cipher = createCipheriv('aes-256-cbc', this.key, this.#iv).setAutoPadding(false)
      this.#iv.copy(this.#cipherChain)
    }
    xorFirstBlock(plain, this.#cipherChain, this.#iv)
    let encrypted: Buffer | undefined
    try {
      encrypted = cipher.update(plain)
    } catch {
      encrypted = undefined
    }
    if (encrypted === undefined || encrypted.length !== plain.length) {
      this.#cipher = undefined
      xorFirstBlock(plain, this.#cipherChain, this.#iv) // undo
      return oneShot(createCipheriv('aes-256-cbc', this.key, this.#iv), plain)
    }
    copyLastBlock(encrypted, this.#cipherChain)
    return encrypted
  }
}

/** 16 bytes by hand: Buffer#copy costs more in argument checks than the copy itself. */
function copyLastBlock(from: Buffer, to: Buffer): void {
  for (let i = 0, j = from.length - 16; i < 16; i++, j++) to[i] = from[j]!
}

function xorFirstBlock(block: Buffer, chain: Buffer, iv: Buffer): void {
  for (let i = 0; i < 16; i++) block[i]! ^= chain[i]! ^ iv[i]!
}

function oneShot(cipher: Cipher | Decipher, input: Buffer): Buffer {
  cipher.setAutoPadding(false)
  const head = cipher.update(input)
  const tail = cipher.final()
  return tail.length === 0 ? head : Buffer.concat([head, tail])
}

/** The low-level functions keep the last key's ciphers, so a caller with one key pays once. */
let lastCbc: CbcKey | undefined

function cbcFor(key: Buffer): CbcKey {
  if (lastCbc === undefined || !lastCbc.key.equals(key)) lastCbc = new CbcKey(key)
  return lastCbc
}

const POOL_SIZE = 4096
let pool = Buffer.alloc(0)
let poolOffset = 0

/**
 * Cryptographically random bytes drawn from a 4 KiB pool refilled with randomFillSync:
 * `crypto.randomBytes(16)` costs 4–5 µs per call, a pooled draw a fraction of that.
 * Returns a fresh copy, never a view of the pool.
 */
export function pooledRandomBytes(size: number): Buffer {
  if (size > POOL_SIZE) return nodeRandomBytes(size)
  const out = Buffer.allocUnsafe(size)
  drawPooled(out, 0, size)
  return out
}

/** Copies `size` (at most POOL_SIZE) fresh pool bytes into `target` at `offset`. */
function drawPooled(target: Buffer, offset: number, size: number): void {
  if (poolOffset + size > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafe(POOL_SIZE)
    randomFillSync(pool)
    poolOffset = 0
  }
  if (size <= 32) for (let i = 0; i < size; i++) target[offset + i] = pool[poolOffset + i]!
  else pool.copy(target, offset, poolOffset, poolOffset + size)
  poolOffset += size
}

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
