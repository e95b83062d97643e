import { isUtf8 } from 'node:buffer'
import { WxmpError } from '../errors.js'

/**
 * The checks around AES in WeChat's message encryption, and how each failure is worded: the
 * base64 of the Encrypt text before decryption, and the layout of the decrypted buffer after it
 * (protocol §5):
 *
 *   plain  = random(16) || msg_len (uint32 BE) || msg (UTF-8) || appid,  PKCS#7-padded to 32 bytes
 *
 * The layout checks depend on the key, so they are what a decryption oracle would measure. They
 * run as one straight line: every check is computed on every buffer (a broken pad or length is
 * replaced by a harmless stand-in so the work after it is the same) and only then is the first
 * failure thrown. Which check failed is for the log line; the webhook answers every one alike
 * (see envelope.ts).
 */

export const BLOCK = 32
export const RANDOM_LENGTH = 16
export const HEADER_LENGTH = RANDOM_LENGTH + 4

const CANONICAL_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const NOT_PRINTABLE_ASCII = /[^\x21-\x7e]/
/** What an AppID (wx…), a WeCom CorpID (ww…) or another receiveid looks like: never XML or prose. */
const LOOKS_LIKE_APPID = /^[A-Za-z0-9_-]{1,64}$/

/** Standard base64 only: Buffer.from(…, 'base64') silently skips foreign characters. */
export function decodeCiphertext(encrypt: string): Buffer {
  if (typeof encrypt !== 'string' || encrypt.length === 0) {
    throw new WxmpError('WX_ERR_DECRYPT_BASE64', 'Encrypt is empty', { details: { length: 0 } })
  }
  // The usual case: a value that re-encodes to itself is canonical base64 (whole quanta,
  // standard alphabet, '=' only as padding), so it passes every check below. Checking that
  // costs a tenth of the CANONICAL_BASE64 scan, whose greedy loop backtracks per character.
  // Anything else, including valid base64 with non-zero unused bits, takes the full path.
  const decoded = Buffer.from(encrypt, 'base64')
  if (decoded.length !== 0 && decoded.length % 16 === 0 && decoded.toString('base64') === encrypt) return decoded
  const canonical = encrypt.length % 4 === 0 && CANONICAL_BASE64.test(encrypt)
  const bad = canonical ? null : /[^A-Za-z0-9+/=]/.exec(encrypt)
  if (bad !== null) {
    throw new WxmpError('WX_ERR_DECRYPT_BASE64', `Encrypt is not base64: ${base64Hint(bad[0])} at position ${bad.index + 1}`, {
      details: { length: encrypt.length, position: bad.index + 1 },
    })
  }
  if (!canonical) {
    throw new WxmpError('WX_ERR_DECRYPT_BASE64', `Encrypt is not canonical base64 (${encrypt.length} characters, misplaced or missing '='): truncated?`, {
      details: { length: encrypt.length },
    })
  }
  const ciphertext = Buffer.from(encrypt, 'base64')
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new WxmpError('WX_ERR_DECRYPT_BASE64', `Encrypt decodes to ${ciphertext.length} bytes, not a positive multiple of the 16-byte AES block: truncated?`, {
      details: { length: encrypt.length, cipherBytes: ciphertext.length },
    })
  }
  return ciphertext
}

function base64Hint(char: string): string {
  if (char === ' ') return "a space (a '+' turned into a space: was the body URL-decoded or form-parsed?)"
  if (/\s/.test(char)) return 'whitespace or a line break'
  if (char === '%') return "'%' (the value is still URL-encoded)"
  if (char === '-' || char === '_') return `${JSON.stringify(char)} (URL-safe base64; WeChat uses the standard alphabet)`
  return `character ${JSON.stringify(char)}`
}

export interface Unpacked {
  xml: string
  appId: string
  padLength: number
}

/**
 * Checks and splits a decrypted buffer: PKCS#7 padding (every pad byte, block 32), the 20-byte
 * header, msg_len within the plaintext, the message valid UTF-8, the AppID printable ASCII and,
 * when `expectedAppId` is given, equal to it.
 *
 * @throws WxmpError WX_ERR_DECRYPT_PADDING | WX_ERR_DECRYPT_BUFFER | WX_ERR_APPID_MISMATCH
 */
export function unpackPlaintext(padded: Buffer, expectedAppId: string | undefined): Unpacked {
  const size = padded.length
  const padByte = padded[size - 1] ?? 0
  const padInRange = padByte >= 1 && padByte <= BLOCK && padByte <= size
  // an out-of-range pad byte still walks a pad's worth of bytes, so the time does not tell
  const pad = padInRange ? padByte : Math.min(BLOCK, size)
  let diff = padInRange ? 0 : 1
  for (let i = size - pad; i < size; i++) diff |= (padded[i] ?? 0) ^ padByte
  const plainLength = size - pad
  const headerFits = plainLength >= HEADER_LENGTH
  const msgLength = headerFits ? padded.readUInt32BE(RANDOM_LENGTH) : 0
  const lengthFits = headerFits && msgLength <= plainLength - HEADER_LENGTH
  // with a broken length the whole plaintext stands in for the message, for the same work
  const msgEnd = lengthFits ? HEADER_LENGTH + msgLength : Math.max(HEADER_LENGTH, plainLength)
  const msg = padded.subarray(Math.min(HEADER_LENGTH, size), Math.min(msgEnd, size))
  const utf8 = isUtf8(msg)
  const appId = padded.toString('latin1', Math.min(msgEnd, plainLength), Math.max(plainLength, 0))
  const printable = !NOT_PRINTABLE_ASCII.test(appId)
  const sameAppId = expectedAppId === undefined || appId === expectedAppId

  if (diff !== 0) {
    const message = padInRange
      ? `PKCS#7 padding is corrupt (not all of the last ${padByte} bytes equal ${padByte}): wrong EncodingAESKey or corrupted Encrypt?`
      : `PKCS#7 pad byte is ${padByte}, expected 1..32: wrong EncodingAESKey?`
    throw new WxmpError('WX_ERR_DECRYPT_PADDING', message, { details: { padByte, cipherBytes: size } })
  }
  if (!headerFits) {
    throw new WxmpError('WX_ERR_DECRYPT_BUFFER', `decrypted message is ${plainLength} bytes, shorter than the 20-byte random + length header: wrong EncodingAESKey?`, {
      details: { plainBytes: plainLength },
    })
  }
  if (!lengthFits) {
    throw new WxmpError('WX_ERR_DECRYPT_BUFFER', `decrypted msg_len ${msgLength} runs past the end of the ${plainLength}-byte plaintext: wrong EncodingAESKey?`, {
      details: { plainBytes: plainLength, msgLen: msgLength },
    })
  }
  if (!utf8) {
    throw new WxmpError('WX_ERR_DECRYPT_BUFFER', 'decrypted message is not valid UTF-8: wrong EncodingAESKey or corrupted Encrypt?', { details: { msgLen: msgLength } })
  }
  if (!printable) {
    throw new WxmpError('WX_ERR_DECRYPT_BUFFER', 'the bytes after the message are not an AppID (not printable ASCII): wrong EncodingAESKey or corrupted Encrypt?', {
      details: { msgLen: msgLength, appIdBytes: appId.length },
    })
  }
  if (!sameAppId) {
    // what stands where the AppID belongs is shown only when it looks like one: with a forged
    // msg_len it is the decrypted message itself, which must not reach a log line
    const looksLikeAppId = LOOKS_LIKE_APPID.test(appId)
    const shown = appId.length === 0 ? '(empty)' : looksLikeAppId ? appId : `not an AppID (${appId.length} bytes, not shown)`
    throw new WxmpError('WX_ERR_APPID_MISMATCH', `AppID in ciphertext is ${shown}, the configured AppID is ${expectedAppId}: is WECHAT_APPID the account that this Token and EncodingAESKey belong to?`, {
      details: { ...(looksLikeAppId ? { appId } : { appIdBytes: appId.length }), expectedAppId },
    })
  }
  return { xml: msg.toString('utf8'), appId, padLength: pad }
}
