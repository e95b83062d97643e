/**
 * The order of the runs in each repetition. On this kind of machine the speed drifts by tens of
 * percent within minutes, so two targets that a goal compares (the default configuration against
 * memory mode, the fleet's setup against memory mode, a build against its baseline) run next to
 * each other in every repetition: a ratio taken within one repetition (report.ts) then compares
 * runs seconds apart, not minutes. The blocks rotate from one repetition to the next so no block
 * always runs first, and each block runs forwards in even repetitions and backwards in odd ones
 * so no target always runs before its partner.
 */

/** Targets run side by side, in this order (the first run's); a target in none runs alone. */
export const BLOCKS: readonly (readonly string[])[] = [
  // memory mode in the middle: next to the default configuration and to the fleet's setup
  ['wxmp-default', 'baseline-default', 'wxmp-plain', 'baseline-plain', 'wxmp-redis-pg', 'baseline-redis-pg'],
  ['wxmp-default-aes', 'baseline-default-aes', 'wxmp-aes', 'baseline-aes'],
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
