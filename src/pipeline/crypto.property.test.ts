import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { WxmpError } from '../errors.js'
import { MessageCrypto, decodeAesKey, decryptMessage, encryptMessage } from './crypto.js'

const SAMPLE_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wx2c2769f8efd9abc2'
const key = decodeAesKey(SAMPLE_KEY)
const crypto = new MessageCrypto({ token: 'spamtest', encodingAESKey: SAMPLE_KEY, appId: APP_ID })

const DECRYPT_CODES = new Set(['WX_ERR_DECRYPT_BASE64', 'WX_ERR_DECRYPT_FAILED', 'WX_ERR_DECRYPT_PADDING', 'WX_ERR_DECRYPT_BUFFER', 'WX_ERR_APPID_MISMATCH'])

/** Runs decrypt and fails the property unless it returns or throws a WxmpError with a decrypt code. */
function decryptOrWxmpError(encrypt: string): ReturnType<MessageCrypto['decrypt']> | WxmpError {
  try {
    return crypto.decrypt(encrypt)
  } catch (err) {
    assert.ok(err instanceof WxmpError, `decrypt threw a non-WxmpError: ${String(err)}`)
    assert.ok(DECRYPT_CODES.has(err.code), `unexpected code ${err.code}`)
    return err
  }
}

/** Pads `text` with ASCII so that random(16) + len(4) + text + appid needs exactly `pad` pad bytes. */
function withPad(text: string, pad: number, extraBlocks: number): string {
  const fixed = 20 + Buffer.byteLength(APP_ID)
  const bytes = Buffer.byteLength(text)
  const wantRemainder = (32 - pad) % 32
  const filler = (((wantRemainder - ((fixed + bytes) % 32)) % 32) + 32) % 32
  return text + 'x'.repeat(filler + 32 * extraBlocks)
}

function flipBit(encrypt: string, bit: number): string {
  const bytes = Buffer.from(encrypt, 'base64')
  const index = bit % (bytes.length * 8)
  bytes[index >> 3] = (bytes[index >> 3] ?? 0) ^ (1 << (index & 7))
  return bytes.toString('base64')
}

const messages = fc.string({ unit: 'grapheme', maxLength: 120 })
const wholeBlocks = fc.integer({ min: 1, max: 12 }).chain((n) => fc.uint8Array({ minLength: n * 16, maxLength: n * 16 }))
const randomPrefix = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a))

describe('round trip for every PKCS#7 pad length', () => {
  for (let pad = 1; pad <= 32; pad++) {
    test(`pad ${pad}: any message decrypts to itself`, () => {
      fc.assert(
        fc.property(messages, fc.integer({ min: 0, max: 3 }), randomPrefix, (text, extraBlocks, random) => {
          const xml = withPad(text, pad, extraBlocks)
          const encrypt = encryptMessage(key, xml, APP_ID, random)
          const parts = decryptMessage(key, encrypt, APP_ID)
          assert.equal(parts.padLength, pad)
          assert.equal(parts.xml, xml)
          assert.deepEqual(parts.random, random)
          assert.deepEqual(crypto.decrypt(encrypt), { xml, appId: APP_ID, key: 'current' })
        }),
        { numRuns: 15 },
      )
    })
  }
})

describe('corrupted ciphertexts', () => {
  test('flipping any single bit either yields a result or a WxmpError with a decrypt code, never another error', () => {
    fc.assert(
      fc.property(messages, randomPrefix, fc.nat(), (text, random, bit) => {
        const flipped = flipBit(encryptMessage(key, text, APP_ID, random), bit)
        const outcome = decryptOrWxmpError(flipped)
        if (!(outcome instanceof WxmpError)) assert.equal(outcome.appId, APP_ID)
      }),
      { numRuns: 300 },
    )
  })

  // Flipping the pad-length byte itself can leave a different but valid pad (pad 3 → 1); the
  // AppID check then catches the shifted tail. So: always refused, by padding, layout or AppID.
  test('a flip that lands in the padding is always refused', () => {
    fc.assert(
      fc.property(messages, randomPrefix, fc.nat(), fc.nat(7), (text, random, byteChoice, bitInByte) => {
        const encrypt = encryptMessage(key, text, APP_ID, random)
        const bytes = Buffer.from(encrypt, 'base64')
        const pad = decryptMessage(key, encrypt).padLength
        // In CBC, flipping ciphertext byte j of the second-to-last block flips plaintext byte j
        // of the last block: choose j among the bytes of that block that hold padding.
        const padBytesInLastBlock = Math.min(pad, 16)
        const j = 16 - 1 - (byteChoice % padBytesInLastBlock)
        const target = bytes.length - 32 + j
        bytes[target] = (bytes[target] ?? 0) ^ (1 << bitInByte)
        assert.throws(
          () => crypto.decrypt(bytes.toString('base64')),
          (err: unknown) => err instanceof WxmpError && ['WX_ERR_DECRYPT_PADDING', 'WX_ERR_DECRYPT_BUFFER', 'WX_ERR_APPID_MISMATCH'].includes(err.code),
        )
      }),
      { numRuns: 200 },
    )
  })

  test('a message for another AppID is never accepted', () => {
    fc.assert(
      fc.property(messages, fc.stringMatching(/^[\x21-\x7e]{1,32}$/), (text, appId) => {
        fc.pre(appId !== APP_ID)
        const encrypt = encryptMessage(key, text, appId, Buffer.alloc(16, 7))
        assert.throws(
          () => crypto.decrypt(encrypt),
          (err: unknown) => err instanceof WxmpError && err.code === 'WX_ERR_APPID_MISMATCH' && (/^[A-Za-z0-9_-]+$/.test(appId) ? err.details?.appId === appId : err.details?.appIdBytes === appId.length),
        )
      }),
      { numRuns: 100 },
    )
  })
})

describe('arbitrary input', () => {
  test('random strings as Encrypt never throw a non-WxmpError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (encrypt) => {
        decryptOrWxmpError(encrypt)
      }),
      { numRuns: 300 },
    )
  })

  test('random base64 (whole AES blocks or not) never throws a non-WxmpError', () => {
    fc.assert(
      fc.property(fc.oneof(wholeBlocks, fc.uint8Array({ maxLength: 200 })), (bytes) => {
        decryptOrWxmpError(Buffer.from(bytes).toString('base64'))
      }),
      { numRuns: 200 },
    )
  })

  test('random strings as EncodingAESKey give a 32-byte key or WX_ERR_AES_KEY_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.stringMatching(/^[A-Za-z0-9]{43}$/)), (value) => {
        try {
          assert.equal(decodeAesKey(value).length, 32)
        } catch (err) {
          assert.ok(err instanceof WxmpError && err.code === 'WX_ERR_AES_KEY_INVALID', String(err))
        }
      }),
      { numRuns: 300 },
    )
  })

  test('every well-formed 43-character key works for a round trip', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{43}$/), messages, (encodingAESKey, text) => {
        const own = new MessageCrypto({ token: 't', encodingAESKey, appId: APP_ID })
        assert.equal(own.decrypt(own.encrypt(text)).xml, text)
      }),
      { numRuns: 100 },
    )
  })
})
