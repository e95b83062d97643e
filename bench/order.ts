/**
 * The order of the runs in each repetition. On this kind of machine the speed drifts by tens of
 * percent within minutes, so the targets that a ratio compares run close together in every
 * repetition, and a ratio taken within one repetition (report.ts) compares runs seconds apart,
 * not minutes: memory mode between the default configuration and the fleet's setup (next to
 * each), with the incumbents and the ceiling around them (two or three runs away), and a build
 * next to its baseline. The blocks (plaintext, safe mode) rotate from one repetition to the next
 * so no block always runs first, and each block runs forwards in even repetitions and backwards
 * in odd ones so no target always runs before the ones it is compared with.
 */

/** Targets run close together, in this order (the first repetition's); a target in none runs alone. */
export const BLOCKS: readonly (readonly string[])[] = [
  ['bare', 'wechat-plain', 'wxmp-default', 'baseline-default', 'wxmp-plain', 'baseline-plain', 'wxmp-redis-pg', 'baseline-redis-pg', 'co-wechat-plain'],
  ['wechat-aes', 'wxmp-default-aes', 'baseline-default-aes', 'wxmp-aes', 'baseline-aes', 'co-wechat-aes'],
]

/** The ids of one repetition (`repetition` from 0), each of `ids` once. */
export function runOrder(ids: readonly string[], repetition: number): string[] {
  const placed = new Set<string>()
  const blocks: string[][] = []
  for (const id of ids) {
    if (placed.has(id)) continue
    const block = BLOCKS.find((b) => b.includes(id))?.filter((member) => ids.includes(member)) ?? [id]
    for (const member of block) placed.add(member)
    blocks.push(repetition % 2 === 1 ? [...block].reverse() : block)
  }
  const shift = blocks.length === 0 ? 0 : repetition % blocks.length
  return [...blocks.slice(shift), ...blocks.slice(0, shift)].flat()
}
