/**
 * The EncodingAESKey: its decoding into the 32-byte AES key, with errors that name the likely
 * mistake, and the check of a decoded key (re-exported by `wxmp/crypto`, src/pipeline/crypto.ts).
 */
import { WxmpError } from '../errors.js'

const KEY_LENGTH = 43

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

export function assertAesKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    const got = Buffer.isBuffer(key) ? `${key.length} bytes` : typeof key
    throw keyError(`the AES key must be a 32-byte Buffer (use decodeAesKey on the EncodingAESKey), got ${got}`, {
      decodedLength: Buffer.isBuffer(key) ? key.length : undefined,
    })
  }
}
