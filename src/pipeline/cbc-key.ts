import { createCipheriv, createDecipheriv } from 'node:crypto'
import type { Cipher, Decipher } from 'node:crypto'

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
export class CbcKey {
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

export function cbcFor(key: Buffer): CbcKey {
  if (lastCbc === undefined || !lastCbc.key.equals(key)) lastCbc = new CbcKey(key)
  return lastCbc
}
