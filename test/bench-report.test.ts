import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runOrder } from '../bench/order.js'
import { pairedRatio, ratios, renderMarkdown, type RunMeasurement, type TargetSummary } from '../bench/report.js'
import { TARGETS, baselineTargets } from '../bench/targets.js'

const CORE = TARGETS.filter((t) => t.group === 'core' || t.group === 'storage').map((t) => t.id)
const WITH_BASELINE = [...CORE, ...baselineTargets('/tmp/elsewhere').map((t) => t.id)]

test('every repetition runs each target once, and the targets a ratio compares close together', () => {
  for (const ids of [CORE, WITH_BASELINE, ['wxmp-redis-pg', 'wxmp-plain'], ['bare']]) {
    for (let rep = 0; rep < 6; rep++) {
      const order = runOrder(ids, rep)
      assert.deepEqual([...order].sort(), [...ids].sort(), `repetition ${rep}: each target once`)
      const gap = (a: string, b: string) => Math.abs(order.indexOf(a) - order.indexOf(b))
      if (ids === CORE) {
        // memory mode next to the two it is a goal for, the incumbents and the ceiling a few runs away
        const within = (a: string, b: string, runs: number) => assert.ok(gap(a, b) <= runs, `repetition ${rep}: ${a} and ${b} ${gap(a, b)} apart: ${order.join(' ')}`)
        within('wxmp-default', 'wxmp-plain', 1)
        within('wxmp-redis-pg', 'wxmp-plain', 1)
        within('wxmp-default-aes', 'wxmp-aes', 1)
        for (const peer of ['wechat-plain', 'co-wechat-plain']) within(peer, 'wxmp-plain', 2)
        for (const peer of ['wechat-aes', 'co-wechat-aes']) within(peer, 'wxmp-aes', 2)
        within('bare', 'wxmp-plain', 3)
      }
      if (ids === WITH_BASELINE) {
        for (const id of ['default', 'plain', 'default-aes', 'aes', 'redis-pg']) assert.equal(gap(`wxmp-${id}`, `baseline-${id}`), 1, `repetition ${rep}: ${id}: ${order.join(' ')}`)
      }
    }
  }
  // no block always first, and no target always before its partner
  const firsts = new Set([0, 1, 2, 3].map((rep) => runOrder(CORE, rep)[0]))
  assert.ok(firsts.size >= 2, `first runs: ${[...firsts].join(', ')}`)
  const modeOfFirst = new Set([0, 1].map((rep) => runOrder(CORE, rep)[0]!.endsWith('-aes')))
  assert.equal(modeOfFirst.size, 2, 'the plaintext block and the safe-mode block each lead a repetition')
  const before = [0, 1].map((rep) => { const o = runOrder(CORE, rep); return o.indexOf('wxmp-default-aes') < o.indexOf('wxmp-aes') })
  assert.deepEqual(before, [true, false])
})

const run = (rps: number, repetition: number | undefined, cpu = 100): RunMeasurement => ({
  rps, p50Ms: 1, p99Ms: 2, peakRssBytes: 1, serverCpuUsPerReq: cpu, serverSystemUsPerReq: 1, serverCpuShare: 1, generatorCpuShare: 1, ...(repetition === undefined ? {} : { repetition }),
})
const summary = (id: string, runs: RunMeasurement[]): TargetSummary => ({ target: TARGETS.find((t) => t.id === id)!, runs })

test('a ratio pairs the runs of one repetition and takes their median, so a drifting machine does not decide it', () => {
  // the machine slows by half from one repetition to the next; within each the default is 0.8× memory mode
  const summaries = [
    summary('wxmp-default', [run(8000, 0), run(4000, 1), run(2000, 2)]),
    summary('wxmp-plain', [run(10000, 0), run(5000, 1), run(2500, 2)]),
  ]
  const paired = pairedRatio(summaries, 'wxmp-default', 'wxmp-plain')
  assert.equal(paired.value.toFixed(3), '0.800')
  assert.deepEqual(paired.range.map((r) => r.toFixed(3)), ['0.800', '0.800'])
  assert.equal(paired.ofMedians, 4000 / 5000)
  // a drift that puts the medians in different repetitions: the ratio of medians is misled, the pairs are not
  const drifting = [
    summary('wxmp-default', [run(9000, 0), run(4400, 1), run(4500, 2)]),
    summary('wxmp-plain', [run(10000, 0), run(5000, 1), run(9000, 2)]),
  ]
  const d = pairedRatio(drifting, 'wxmp-default', 'wxmp-plain')
  assert.equal(d.value.toFixed(2), '0.88') // ratios 0.90, 0.88, 0.50
  assert.deepEqual(d.range.map((r) => r.toFixed(2)), ['0.50', '0.90'])
  assert.equal(d.ofMedians.toFixed(2), '0.50') // 4500 / 9000
})

test('a repetition in which one side failed is left out; runs without repetitions fall back to the ratio of medians', () => {
  const summaries = [summary('wxmp-redis-pg', [run(3000, 0), run(2000, 2)]), summary('wxmp-plain', [run(10000, 0), run(9000, 1), run(4000, 2)])]
  const r = pairedRatio(summaries, 'wxmp-redis-pg', 'wxmp-plain')
  assert.deepEqual([r.value.toFixed(2), ...r.range.map((x) => x.toFixed(2))], ['0.40', '0.30', '0.50'])
  const old = pairedRatio([summary('wxmp-redis-pg', [run(3000, undefined)]), summary('wxmp-plain', [run(10000, undefined)])], 'wxmp-redis-pg', 'wxmp-plain')
  assert.deepEqual([old.value, ...old.range, old.ofMedians], [0.3, 0.3, 0.3, 0.3])
})

test('the CPU ratio to the ceiling reads like the others (bare CPU per request over ours) and the table shows all three figures', () => {
  const summaries = [summary('wxmp-plain', [run(10000, 0, 80), run(12000, 1, 60)]), summary('bare', [run(20000, 0, 40), run(20000, 1, 36)])]
  const byCpu = ratios(summaries).find((r) => r.label.endsWith('by server CPU per request'))!
  assert.deepEqual([byCpu.value.toFixed(2), ...byCpu.range.map((x) => x.toFixed(2))], ['0.55', '0.50', '0.60'])
  const markdown = renderMarkdown(summaries, { cpu: 'test', cores: 2, memoryGiB: 1, kernel: 'linux', node: 'v20' }, { quick: false, connections: 50, durationSec: 10, repetitions: 2 }, new Date(0))
  assert.match(markdown, /\| Ratio \(requests\/s\) \| Measured \| Lowest–highest repetition \| Ratio of medians \| Goal \|/)
  assert.match(markdown, /\| wxmp memory mode plaintext \/ bare node:http ceiling, by server CPU per request \| 0\.55× \| 0\.50–0\.60× \| 0\.55× \| ≥ 0\.6× ✗ \|/)
})
