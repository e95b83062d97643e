/**
 * The keys of the latest records the arena let go while live, exactly (by both of their 32-bit
 * hashes), in two generations of `capacity` keys each.
 *
 * Why beside the Bloom filter (ForgottenKeys): the replay guard asks about a genuine message
 * with a time a second or two before it arrived (WeChat signs in whole seconds, and its clock
 * may run ahead), so once a flood makes the ring hold less than about two seconds, every fresh
 * message is looked up among the keys let go. The filter holds minutes of them and its false
 * positives grow with their number: at 23 000 messages a second one run of 10 s in five refused
 * a genuine message (403 WX_ERR_REPLAY), and more the longer a flood lasts. The records a fresh
 * message could have had were written in those last seconds, so their keys, if let go, are
 * among the last ones let go: this table answers for them without false positives (a
 * never-seen key is refused only if both of its hashes equal those of a key let go, about one in
 * 2^64 per key held), and leaves older questions to the filter.
 *
 * It is exact for every record written after `droppedThrough`: a generation is dropped whole,
 * and `droppedThrough` is the latest write time among the keys it held.
 *
 * Memory: two open-addressing tables of 2 × `capacity` slots, 8 bytes each (the two hashes in
 * place, so an insert touches one slot), allocated once; dropping a generation is one fill.
 */
export class RecentEvictions {
  /** Slots of the two generations: the two hashes of a key side by side; (0, 0) is empty. */
  private current: Uint32Array
  private previous: Uint32Array
  private readonly slotMask: number
  private count = 0
  /** Latest write time among the keys of each generation. */
  private currentNewest = 0
  private previousNewest = 0
  /** Records written up to this time may have been let go and dropped from this table (0: none). */
  droppedThrough = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`RecentEvictions capacity must be a positive integer, got ${String(capacity)}`)
    let slotCount = 2
    while (slotCount < capacity * 2) slotCount *= 2
    this.slotMask = slotCount - 1
    this.current = new Uint32Array(slotCount * 2)
    this.previous = new Uint32Array(slotCount * 2)
  }

  /** A record written at `writtenAt` with these key hashes was let go. */
  add(hash: number, other: number, writtenAt: number): void {
    if (this.count === this.capacity) this.dropOldest()
    const a = hash >>> 0
    const b = second(a, other)
    const slots = this.current
    for (let slot = this.home(a, b); ; slot = (slot + 1) & this.slotMask) {
      const at = slot * 2
      if (slots[at] === 0 && slots[at + 1] === 0) {
        slots[at] = a
        slots[at + 1] = b
        break
      }
      if (slots[at] === a && slots[at + 1] === b) break // let go again: held already
    }
    this.count++
    if (writtenAt > this.currentNewest) this.currentNewest = writtenAt
  }

  /** Whether a key with these hashes is held (the answer for records written after droppedThrough). */
  has(hash: number, other: number): boolean {
    const a = hash >>> 0
    const b = second(a, other)
    const home = this.home(a, b)
    return holds(this.current, home, this.slotMask, a, b) || holds(this.previous, home, this.slotMask, a, b)
  }

  private dropOldest(): void {
    this.droppedThrough = Math.max(this.droppedThrough, this.previousNewest)
    const recycled = this.previous
    recycled.fill(0)
    this.previous = this.current
    this.previousNewest = this.currentNewest
    this.current = recycled
    this.currentNewest = 0
    this.count = 0
  }

  private home(a: number, b: number): number {
    const h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b)
    return (h ^ (h >>> 16)) & this.slotMask
  }
}

/** The second hash, unsigned; the pair (0, 0) is the empty slot's, so a key's (0, 0) is taken as (0, 1). */
function second(first: number, other: number): number {
  const b = other >>> 0
  return first === 0 && b === 0 ? 1 : b
}

function holds(slots: Uint32Array, home: number, mask: number, a: number, b: number): boolean {
  for (let slot = home; ; slot = (slot + 1) & mask) {
    const at = slot * 2
    if (slots[at] === a && slots[at + 1] === b) return true
    if (slots[at] === 0 && slots[at + 1] === 0) return false
  }
}
