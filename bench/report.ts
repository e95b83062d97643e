/** The results table (Markdown, printed and written to bench/RESULTS.md) and the ratios. */
import { machineLine, type Machine } from './machine.js'
import type { Target } from './targets.js'

export interface RunMeasurement {
  rps: number
  p50Ms: number
  p99Ms: number
  /** Shown in the runner's line per run, not in the table. */
  p90Ms?: number
  p999Ms?: number
  peakRssBytes: number
  /** Server CPU (user + system) per answered request. */
  serverCpuUsPerReq: number
  /** The system (kernel) part of it: socket writes and reads, wake-ups. */
  serverSystemUsPerReq: number
  /** Share of one core the server used during the run. */
  serverCpuShare: number
  /** Share of one core the load generator used. */
  generatorCpuShare: number
  /** Which repetition the run belongs to (from 0); ratios pair the runs of one repetition. */
  repetition?: number
}

export interface TargetSummary {
  target: Target
  runs: RunMeasurement[]
  /** Why the target was not run (a service is down). */
  skipped?: string
  /** Runs that failed (wrong answers, errors, timeouts), each with its reason. */
  failures?: string[]
}

export interface Settings {
  quick: boolean
  connections: number
  durationSec: number
  repetitions: number
}

function median(values: number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Medians across repetitions; peak RSS is the largest seen. */
export function summarise(runs: RunMeasurement[]): RunMeasurement | undefined {
  if (runs.length === 0) return undefined
  return {
    rps: median(runs.map((r) => r.rps)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    serverCpuUsPerReq: median(runs.map((r) => r.serverCpuUsPerReq)),
    serverSystemUsPerReq: median(runs.map((r) => r.serverSystemUsPerReq)),
    serverCpuShare: median(runs.map((r) => r.serverCpuShare)),
    generatorCpuShare: median(runs.map((r) => r.generatorCpuShare)),
  }
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US')
const fmtMs = (n: number) => n.toFixed(2)
const fmtMb = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const fmtPct = (share: number) => `${Math.round(share * 100)}%`
const fmtRatio = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–')

export interface Ratio {
  label: string
  /** The median of the per-repetition ratios (see pairedRatio). */
  value: number
  /** The lowest and the highest per-repetition ratio. */
  range: [number, number]
  /** The ratio of the two targets' medians, as the table showed before 2026-12-05. */
  ofMedians: number
  /** The target the issue sets, when there is one. */
  goal?: number
}

/** A latency or memory target: at most `goal`. */
export interface Limit {
  label: string
  value: number
  goal: number
  unit: string
}

/** A target's runs (none when it was not selected). */
function runsOf(summaries: TargetSummary[], id: string): RunMeasurement[] {
  return summaries.find((s) => s.target.id === id)?.runs ?? []
}

function summaryOf(summaries: TargetSummary[], id: string): RunMeasurement | undefined {
  return summarise(runsOf(summaries, id))
}

type Metric = (m: RunMeasurement) => number
const requestsPerSecond: Metric = (m) => m.rps
/** Inverted, so that a ratio of it reads like one of requests/s: higher is better for the first. */
const requestsPerCpuSecond: Metric = (m) => 1 / m.serverCpuUsPerReq

/**
 * `a` against `b`: the ratio within each repetition in which both ran (bench/order.ts runs the
 * compared targets close together), then the median of those ratios. The machine's speed
 * drifts by tens of percent within minutes, and a ratio of the two medians can compare one
 * target's fast stretch with the other's slow one; a ratio within one repetition compares runs
 * seconds apart. A run that failed leaves its repetition out. Without any common repetition (runs
 * measured before repetitions were recorded) it is the ratio of the medians.
 */
export function pairedRatio(summaries: TargetSummary[], a: string, b: string, metric: Metric = requestsPerSecond): Omit<Ratio, 'label' | 'goal'> {
  const [runsA, runsB] = [runsOf(summaries, a), runsOf(summaries, b)]
  const ofMedians = median(runsA.map(metric)) / median(runsB.map(metric))
  const perRepetition: number[] = []
  for (const run of runsA) {
    const partner = run.repetition === undefined ? undefined : runsB.find((other) => other.repetition === run.repetition)
    if (partner !== undefined) perRepetition.push(metric(run) / metric(partner))
  }
  if (perRepetition.length === 0) return { value: ofMedians, range: [ofMedians, ofMedians], ofMedians }
  return { value: median(perRepetition), range: [Math.min(...perRepetition), Math.max(...perRepetition)], ofMedians }
}

/**
 * The headline first: wxmp as `npm start` runs it (SQLite message log, replay and dedup
 * journaled) against each incumbent and against memory mode; then memory mode against the
 * incumbents and the ceiling, and the fleet setup against memory mode.
 */
export function ratios(summaries: TargetSummary[]): Ratio[] {
  const rps = (a: string, b: string) => pairedRatio(summaries, a, b)
  const cpu = (a: string, b: string) => pairedRatio(summaries, a, b, requestsPerCpuSecond)
  const rows: Ratio[] = [
    { label: 'wxmp as npm start runs it, plaintext / wechat plaintext', ...rps('wxmp-default', 'wechat-plain') },
    { label: 'wxmp as npm start runs it, plaintext / co-wechat plaintext', ...rps('wxmp-default', 'co-wechat-plain') },
    { label: 'wxmp as npm start runs it, safe mode / wechat safe mode', ...rps('wxmp-default-aes', 'wechat-aes') },
    { label: 'wxmp as npm start runs it, safe mode / co-wechat safe mode', ...rps('wxmp-default-aes', 'co-wechat-aes') },
    { label: 'wxmp as npm start runs it / memory mode, plaintext (cost of durability)', ...rps('wxmp-default', 'wxmp-plain'), goal: 0.75 },
    { label: 'wxmp as npm start runs it / memory mode, safe mode (cost of durability)', ...rps('wxmp-default-aes', 'wxmp-aes'), goal: 0.75 },
    { label: 'wxmp memory mode plaintext / wechat plaintext', ...rps('wxmp-plain', 'wechat-plain'), goal: 3 },
    { label: 'wxmp memory mode plaintext / co-wechat plaintext', ...rps('wxmp-plain', 'co-wechat-plain'), goal: 1.5 },
    { label: 'wxmp memory mode plaintext / bare node:http ceiling', ...rps('wxmp-plain', 'bare'), goal: 0.6 },
    // the bare server needs so little that the load generator, not the server, sets its rate
    // (its CPU share near 100 %): the CPU each request costs the server is the fairer comparison
    { label: 'wxmp memory mode plaintext / bare node:http ceiling, by server CPU per request', ...cpu('wxmp-plain', 'bare'), goal: 0.6 },
    { label: 'wxmp memory mode safe mode / wechat safe mode', ...rps('wxmp-aes', 'wechat-aes'), goal: 3 },
    { label: 'wxmp memory mode safe mode / co-wechat safe mode', ...rps('wxmp-aes', 'co-wechat-aes'), goal: 1.5 },
    { label: 'wxmp + Redis + PostgreSQL / memory mode, plaintext', ...rps('wxmp-redis-pg', 'wxmp-plain'), goal: 0.35 },
    { label: 'as npm start runs it, plaintext: now / baseline build', ...rps('wxmp-default', 'baseline-default') },
    { label: 'memory mode plaintext: now / baseline build', ...rps('wxmp-plain', 'baseline-plain') },
    { label: 'as npm start runs it, safe mode: now / baseline build', ...rps('wxmp-default-aes', 'baseline-default-aes') },
    { label: 'memory mode safe mode: now / baseline build', ...rps('wxmp-aes', 'baseline-aes') },
  ]
  return rows.filter((r) => Number.isFinite(r.value))
}

/** Tail latency at 50 connections and peak memory under the flood, for the configurations that have targets. */
export function limits(summaries: TargetSummary[]): Limit[] {
  const rows: Limit[] = []
  for (const [id, name] of [
    ['wxmp-default', 'as npm start runs it, plaintext'],
    ['wxmp-default-aes', 'as npm start runs it, safe mode'],
    ['wxmp-plain', 'memory mode, plaintext'],
    ['wxmp-aes', 'memory mode, safe mode'],
  ] as const) {
    const m = summaryOf(summaries, id)
    if (m === undefined) continue
    rows.push({ label: `wxmp ${name}: p99 latency`, value: m.p99Ms, goal: 10, unit: 'ms' })
    if (id.startsWith('wxmp-default')) rows.push({ label: `wxmp ${name}: peak RSS`, value: m.peakRssBytes / 2 ** 20, goal: 150, unit: 'MB' })
  }
  return rows
}

export function renderMarkdown(summaries: TargetSummary[], machine: Machine, settings: Settings, date: Date): string {
  const lines: string[] = []
  lines.push(`# wxmp benchmark${settings.quick ? ' (quick run)' : ''}`)
  lines.push('')
  lines.push(`- Date: ${date.toISOString().replace('T', ' ').slice(0, 16)} UTC`)
  lines.push(`- Machine: ${machineLine(machine)}`)
  lines.push(
    `- Load: autocannon in the runner process, ${settings.connections} connections, ${settings.durationSec} s per run after a warm-up, ` +
      `${settings.repetitions} interleaved repetition${settings.repetitions === 1 ? '' : 's'} (medians shown; a ratio is the median of the ratios within each repetition, in which the targets it compares run close together, with the lowest and highest of them and the ratio of the medians beside it); every request a correctly signed text message ` +
      'with its own nonce and MsgId, answered by an echo bot; each server in its own process, started fresh for every run.',
  )
  lines.push('- Peak RSS: the server process\'s VmHWM. CPU: the server\'s user + system time per answered request (the kernel part in brackets), and the share of one core used by the server and by the load generator (over 100% when Node\'s helper threads work too).')
  lines.push('')
  lines.push('| Server | Mode | Requests/s | p50 ms | p99 ms | Peak RSS MB | Server CPU µs/req (kernel) | Server CPU | Generator CPU |')
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const summary of summaries) {
    const m = summarise(summary.runs)
    const mode = summary.target.mode === 'aes' ? 'safe (AES)' : 'plaintext'
    if (m === undefined) {
      lines.push(`| ${summary.target.label} | ${mode} | no result: ${summary.skipped ?? summary.failures?.[0] ?? 'not run'} | | | | | | |`)
      continue
    }
    lines.push(
      `| ${summary.target.label} | ${mode} | ${fmtInt(m.rps)} | ${fmtMs(m.p50Ms)} | ${fmtMs(m.p99Ms)} | ${fmtMb(m.peakRssBytes)} | ${m.serverCpuUsPerReq.toFixed(0)} (${m.serverSystemUsPerReq.toFixed(0)}) | ${fmtPct(m.serverCpuShare)} | ${fmtPct(m.generatorCpuShare)} |`,
    )
  }
  const failed = summaries.filter((s) => s.runs.length > 0 && (s.failures?.length ?? 0) > 0)
  if (failed.length > 0) {
    lines.push('')
    for (const s of failed) lines.push(`- ${s.target.label}: ${s.failures!.length} run(s) failed and are not in the medians (${s.failures![0]})`)
  }
  const rows = ratios(summaries)
  if (rows.length > 0) {
    lines.push('')
    lines.push('| Ratio (requests/s) | Measured | Lowest–highest repetition | Ratio of medians | Goal |')
    lines.push('| --- | ---: | ---: | ---: | ---: |')
    for (const r of rows) {
      const spread = `${r.range[0].toFixed(2)}–${fmtRatio(r.range[1])}`
      lines.push(`| ${r.label} | ${fmtRatio(r.value)} | ${spread} | ${fmtRatio(r.ofMedians)} | ${r.goal === undefined ? '' : `≥ ${r.goal}×${r.value >= r.goal ? ' ✓' : ' ✗'}`} |`)
    }
  }
  const bounds = limits(summaries)
  if (bounds.length > 0) {
    lines.push('')
    lines.push('| Limit (50 connections, under the flood) | Measured | Goal |')
    lines.push('| --- | ---: | ---: |')
    for (const b of bounds) lines.push(`| ${b.label} | ${b.value.toFixed(b.unit === 'ms' ? 2 : 0)} ${b.unit} | ≤ ${b.goal} ${b.unit}${b.value <= b.goal ? ' ✓' : ' ✗'} |`)
  }
  lines.push('')
  lines.push('How it is measured and how to read it: [bench/README.md](README.md). Run it yourself: `npm run build && npm run bench` (or `-- --quick`).')
  lines.push('')
  return lines.join('\n')
}
