/**
 * Keeps V8's young generation small in the server. V8 doubles the new space (two semi-spaces)
 * each time enough objects have survived since the last doubling, up to 16 MiB each, and a
 * server under steady load always gets there: 32 MiB of resident memory for a space that holds
 * a few hundred kilobytes of live requests at any moment (wxmp keeps nothing per message on the
 * JS heap: the per-request store is off-heap). Past `maxSemiSpaceBytes`, the growth factor is
 * set to 1 (no growth); below it (V8 shrinks the space when idle), back to 2. The flag is read
 * whenever V8 grows the space, so this works at run time, where `--max-semi-space-size` cannot.
 * Scavenges come more often (every ~500 requests at 4 MiB), each as cheap: what survives is tiny.
 */
import v8 from 'node:v8'

export function boundYoungGeneration(maxSemiSpaceBytes = 8 * 2 ** 20, everyMs = 250): { stop(): void } {
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
  const timer = setInterval(check, everyMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
