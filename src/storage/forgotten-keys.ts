/**
 * Which keys the arena let go of while their records were still live, in fixed memory: a Bloom
 * filter in two generations. A record overwritten under a flood may belong to a signed query
 * that could come back with a forged body; the replay guard must then not take it for new. A
 * time horizon ("anything written before T may be gone") would say the same, but would also
 * refuse every genuine message signed in that second; the filter names the keys, and is wrong
 * only the safe way (a false positive refuses a genuine never-seen query, at a rate that stays
 * negligible until millions of live records have been overwritten within one span).
 *
 * A key stays in the filter for one to two spans after its record was overwritten, so a span
 * must be at least the longest time such a record had left to live (ArenaStore only puts keys
 * here whose records would have expired within one span, and moves its time horizon for the
 * others).
 */
export class ForgottenKeys {
  private current: Uint32Array
  private previous: Uint32Array
  private readonly bits: number
  private rotateAt: number
  /** Keys added to the two generations (0: nothing to look up). */
  private count = 0
  private previousCount = 0

  constructor(
    bytes: number,
    /** How long one generation collects keys, ms. */
    readonly spanMs: number,
    now: number,
    private readonly hashes = 6,
  ) {
    const words = Math.max(1024, Math.floor(bytes / 8)) // two generations share `bytes`
    this.current = new Uint32Array(words)
    this.previous = new Uint32Array(words)
    this.bits = words * 32
    this.rotateAt = now + spanMs
  }

  /**
   * Records that the key was let go while live. `hash` and `other` are two independent 32-bit
   * hashes of it: two keys meet only if both agree (one alone, with a million keys in the
   * filter, would refuse about one genuine query in four thousand).
   */
  add(hash: number, other: number, now: number): void {
    this.rotate(now)
    const bits = this.bits
    let h = first(hash)
    const step = second(other)
    for (let i = 0; i < this.hashes; i++) {
      const bit = h % bits
      this.current[bit >>> 5]! |= 1 << (bit & 31)
      h = (h + step) >>> 0
    }
    this.count++
  }

  /** False when the key was surely never let go within the last span; true when it may have been. */
  mayContain(hash: number, other: number, now: number): boolean {
    this.rotate(now)
    if (this.count === 0 && this.previousCount === 0) return false
    const bits = this.bits
    let inCurrent = this.count > 0
    let inPrevious = this.previousCount > 0
    let h = first(hash)
    const step = second(other)
    for (let i = 0; i < this.hashes && (inCurrent || inPrevious); i++) {
      const bit = h % bits
      const mask = 1 << (bit & 31)
      if ((this.current[bit >>> 5]! & mask) === 0) inCurrent = false
      if ((this.previous[bit >>> 5]! & mask) === 0) inPrevious = false
      h = (h + step) >>> 0
    }
    return inCurrent || inPrevious
  }

  private rotate(now: number): void {
    if (now < this.rotateAt) return
    // two spans or more without a rotation: both generations are stale
    const stale = now >= this.rotateAt + this.spanMs
    const recycled = this.previous
    recycled.fill(0)
    this.previous = stale ? (this.current.fill(0), this.current) : this.current
    this.previousCount = stale ? 0 : this.count
    this.current = recycled
    this.count = 0
    this.rotateAt = now + this.spanMs
  }
}

/** The key hash mixed once more (its low bits pick the first probe). */
function first(hash: number): number {
  const h = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d)
  return (h ^ (h >>> 12)) >>> 0
}

/** The probe step from the other hash (double hashing): a murmur-style mix, odd so the probes cover the table. */
function second(hash: number): number {
  let h = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) | 1) >>> 0
}

/** A 32-bit hash of bytes independent of the arena's FNV one (a multiply-rotate mix with another seed). */
export function otherHash(bytes: Buffer, start: number, length: number): number {
  let h = 0x9e3779b9
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ bytes[start + i]!, 0x5bd1e995)
    h ^= h >>> 13
  }
  h = Math.imul(h ^ (h >>> 15), 0x27d4eb2d)
  return (h ^ (h >>> 16)) >>> 0
}
