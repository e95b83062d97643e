/**
 * Keeps V8's heap near what the server holds live, where V8 alone lets it grow for throughput
 * that a webhook server does not get from it. Two knobs, both V8 flags read at run time (set
 * with `v8.setFlagsFromString` once the server starts; `--max-semi-space-size` and
 * `--max-old-space-size` are read only at start-up, and the second is a hard limit):
 *
 * - The young generation. V8 doubles the new space (two semi-spaces) each time enough objects
 *   have survived since the last doubling, up to 16 MiB each, and a server under steady load
 *   always gets there: 32 MiB resident for a space that holds a few hundred kilobytes of live
 *   requests at any moment (nothing per message stays on the JS heap: the per-request store is
 *   off-heap). Past `maxSemiSpaceBytes` the growth factor is set to 1 (no growth); below it (V8
 *   shrinks the space when idle), back to 2. Scavenges come more often (every ~250 requests at
 *   4 MiB), each as cheap: what survives is what is in flight.
 *
 * - The old generation's growth. After each full collection V8 lets the old generation grow
 *   by a factor of up to 4 before the next one, chosen for allocation-heavy programs. Under a
 *   flood, the requests that were in flight at two scavenges in a row (the slowest of them)
 *   are promoted and die soon after, a few MB a second; with V8's factor that garbage piled up
 *   to 40 MB before a full collection, the writer thread's heap likewise. `oldGrowthPercent`
 *   sets the factor to 1 + percent/100: a full collection (mostly concurrent, a few ms of
 *   pause) twice as often, and 30 MB less peak RSS (docs/operations.md, bench/README.md).
 *   The flag is process-wide: the writer thread's heap follows it too.
 */
import v8 from 'node:v8'

export interface HeapBounds {
  /** Largest semi-space of the young generation (bytes). Default 4 MiB. */
  maxSemiSpaceBytes?: number
  /** How much the old generation may grow past what a full collection left (percent). Default 20. */
  oldGrowthPercent?: number
  /** How often the young generation's size is looked at (ms). Default 250. */
  everyMs?: number
}

export function boundHeap(bounds: HeapBounds = {}): { stop(): void } {
  const maxSemiSpaceBytes = bounds.maxSemiSpaceBytes ?? 4 * 2 ** 20
  v8.setFlagsFromString(`--heap-growing-percent=${bounds.oldGrowthPercent ?? 20}`)
  let factor = 0
  const check = () => {
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
    if (space === undefined) return
    const wanted = space.space_size / 2 >= maxSemiSpaceBytes ? 1 : 2
    if (wanted === factor) return
    factor = wanted
    v8.setFlagsFromString(`--semi-space-growth-factor=${wanted}`)
  }
  check()
  const timer = setInterval(check, bounds.everyMs ?? 250)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
