/** The random prefix of every encrypted message, drawn from a pool (src/pipeline/crypto.ts). */
import { randomBytes as nodeRandomBytes, randomFillSync } from 'node:crypto'

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
export function drawPooled(target: Buffer, offset: number, size: number): void {
  if (poolOffset + size > pool.length) {
    if (pool.length === 0) pool = Buffer.allocUnsafe(POOL_SIZE)
    randomFillSync(pool)
    poolOffset = 0
  }
  if (size <= 32) for (let i = 0; i < size; i++) target[offset + i] = pool[poolOffset + i]!
  else pool.copy(target, offset, poolOffset, poolOffset + size)
  poolOffset += size
}
