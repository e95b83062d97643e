/**
 * `npm run bench`: wxmp against the Node incumbents and the bare node:http ceiling, under the
 * same load, interleaved and repeated; prints the table and writes bench/RESULTS.md.
 *
 *   npm run bench                      # full: 10 s runs, 3 repetitions, storage variants too
 *   npm run bench -- --quick           # under a minute: 3 s runs, 1 repetition, no storage variants
 *   npm run bench -- --only wxmp-plain,bare --duration 5
 *   npm run bench -- --only wxmp-default,wxmp-plain --baseline ../wxmp-old   # before/after, interleaved
 *   npm run bench -- --only wxmp-default --profile /tmp/prof            # + a CPU profile per server (npm run bench:profile)
 *   npm run bench -- --only wxmp-default --node-args=--trace-gc --server-log /tmp/log --env WXMP_LOG_LEVEL=info
 *
 * Needs `npm run build` first: wxmp is measured as the real `wxmp serve` from dist/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runLoad } from './load.js'
import { runOrder } from './order.js'
import { describeMachine, machineLine } from './machine.js'
import { renderMarkdown, type RunMeasurement, type Settings, type TargetSummary } from './report.js'
import { buildPool, checkEcho, requestMaker } from './requests.js'
import { freePort, startTarget, type RunningTarget } from './server-process.js'
import { prepareDurableStores, type DurableStores } from './storage-setup.js'
import { TARGETS, baselineTargets, type Target } from './targets.js'
import { syncReadmes } from './readme-sync.js'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string' },
    repetitions: { type: 'string' },
    only: { type: 'string' },
    storage: { type: 'boolean' },
    out: { type: 'string' },
    baseline: { type: 'string' },
    profile: { type: 'string' },
    'node-args': { type: 'string' },
    'server-log': { type: 'string' },
    env: { type: 'string' },
  },
})

const quick = values.quick === true
const settings: Settings = {
  quick,
  connections: Number(values.connections ?? 50),
  durationSec: Number(values.duration ?? (quick ? 3 : 10)),
  repetitions: Number(values.repetitions ?? (quick ? 1 : 3)),
}
const warmupSec = quick ? 1 : 2
const withStorage = values.storage ?? !quick
const only = values.only?.split(',').map((s) => s.trim())
let extraEnv: Record<string, string> | undefined
try {
  extraEnv = values.env === undefined ? undefined : parseEnv(values.env)
} catch (err) {
  console.error((err as Error).message)
  process.exit(1)
}
const root = fileURLToPath(new URL('..', import.meta.url))
// bench/RESULTS.md holds full runs only (the READMEs copy its tables): a quick run, or one of
// some targets (--only, --baseline), goes to a file of its own unless --out says where
const partial = quick || only !== undefined || values.baseline !== undefined
const out = values.out ?? (partial ? join(tmpdir(), quick ? 'wxmp-bench-quick.md' : 'wxmp-bench-partial.md') : join(root, 'bench', 'RESULTS.md'))

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('bench: dist/ is missing: run `npm run build` first (wxmp is measured as the real `wxmp serve`)')
  process.exit(1)
}

const baseline = values.baseline === undefined ? [] : baselineTargets(values.baseline)
if (values.baseline !== undefined && !existsSync(join(values.baseline, 'dist', 'cli', 'main.js'))) {
  console.error(`bench: --baseline ${values.baseline} has no dist/: run npm run build there first`)
  process.exit(1)
}
const selected = [...TARGETS, ...baseline].filter((t) =>
  only === undefined
    ? t.group === 'core' || (t.group === 'storage' && withStorage) || (t.group === 'baseline' && (withStorage || !usesDurable(t)))
    : only.includes(t.id) || (t.group === 'baseline' && (only.includes(t.id) || only.includes(t.id.replace('baseline-', 'wxmp-')))),
)
if (selected.length === 0) {
  console.error(`bench: no target matches --only ${values.only}; targets: ${TARGETS.map((t) => t.id).join(', ')}`)
  process.exit(1)
}

/** The fleet's setup (and its baseline) runs against the Redis and PostgreSQL this run prepares. */
function usesDurable(target: Target): boolean {
  return target.id.endsWith('-redis-pg')
}

const summaries: TargetSummary[] = selected.map((target) => ({ target, runs: [] }))
let durable: DurableStores | undefined
if (selected.some(usesDurable)) {
  try {
    durable = await prepareDurableStores()
  } catch (err) {
    for (const summary of summaries) if (usesDurable(summary.target)) summary.skipped = `Redis or PostgreSQL unavailable (${(err as Error).message})`
  }
}

const machine = describeMachine()
console.log(`wxmp bench${quick ? ' --quick' : ''}: ${machineLine(machine)}`)
console.log(`${settings.connections} connections, ${settings.durationSec} s per run, ${settings.repetitions} repetition(s), targets: ${selected.map((t) => t.id).join(', ')}\n`)

/** A few requests checked end to end before and after the load: a wrong server is no result. */
async function verifyEcho(target: Target, origin: string, count: number): Promise<void> {
  for (const request of buildPool(target.mode, count)) {
    const response = await fetch(origin + request.path, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: request.body })
    const body = await response.text()
    const problem = target.echoes ? checkEcho(target.mode, request, response.status, body) : response.status === 200 ? undefined : `status ${response.status}`
    if (problem !== undefined) throw new Error(`${target.id} does not answer correctly: ${problem}`)
  }
}

let serverLogCounter = 0

async function measure(target: Target): Promise<RunMeasurement> {
  const workDir = mkdtempSync(join(tmpdir(), `wxmp-bench-${target.id}-`))
  const port = await freePort()
  let server: RunningTarget | undefined
  try {
    const launch = target.launch(workDir)
    // read once: the flags below go in front of the script, after which args[0] is a flag
    const isWxmp = launch.args[0]?.endsWith('wxmp.js') === true
    // --profile DIR: each wxmp server writes a V8 CPU profile there when it stops (bench/profile.ts reads it)
    if (values.profile !== undefined && isWxmp) launch.args.unshift('--cpu-prof', '--cpu-prof-dir', resolve(values.profile, target.id))
    // --node-args "--trace-gc …": extra V8/Node flags for the wxmp servers; --server-log DIR keeps their stdout
    if (values['node-args'] !== undefined && isWxmp) launch.args.unshift(...values['node-args'].split(' ').filter((a) => a !== ''))
    // --env "NAME=VALUE,…": extra environment for the wxmp servers (an experiment's switch)
    if (extraEnv !== undefined && isWxmp) Object.assign(launch.env, extraEnv)
    if (values['server-log'] !== undefined) {
      mkdirSync(values['server-log'], { recursive: true })
      launch.stdoutFile = resolve(values['server-log'], `${target.id}-${++serverLogCounter}.log`)
    }
    server = await startTarget(launch, port)
    const origin = `http://127.0.0.1:${port}`
    await verifyEcho(target, origin, 5)
    // warm-up: the JIT settles
    const warm = await runLoad({ origin, connections: settings.connections, durationSec: warmupSec, next: requestMaker(target.mode) })
    if (warm.non2xx + warm.errors > 0) throw new Error(`${target.id}: warm-up had ${warm.non2xx} non-2xx answers and ${warm.errors} errors: ${causes(server.output())}`)
    const cpuBefore = server.cpuSeconds()
    const run = await runLoad({ origin, connections: settings.connections, durationSec: settings.durationSec, next: requestMaker(target.mode) })
    const cpuAfter = server.cpuSeconds()
    const serverUser = cpuAfter.user - cpuBefore.user
    const serverSystem = cpuAfter.system - cpuBefore.system
    const serverCpu = serverUser + serverSystem
    if (run.non2xx + run.errors + run.timeouts > 0) {
      throw new Error(`${target.id}: ${run.non2xx} non-2xx answers, ${run.errors} errors, ${run.timeouts} timeouts: ${causes(server.output())}`)
    }
    await verifyEcho(target, origin, 3)
    return {
      rps: run.rps,
      p50Ms: run.p50Ms,
      p99Ms: run.p99Ms,
      p90Ms: run.p90Ms,
      p999Ms: run.p999Ms,
      peakRssBytes: server.peakRss(),
      serverCpuUsPerReq: (serverCpu * 1e6) / run.ok,
      serverSystemUsPerReq: (serverSystem * 1e6) / run.ok,
      serverCpuShare: serverCpu / run.durationSec,
      generatorCpuShare: run.generatorCpuSec / run.durationSec,
    }
  } finally {
    await server?.stop()
    rmSync(workDir, { recursive: true, force: true })
  }
}

for (let rep = 0; rep < settings.repetitions; rep++) {
  // the targets a ratio compares run close together; the blocks swap places (bench/order.ts)
  const order = runOrder(summaries.map((s) => s.target.id), rep).map((id) => summaries.find((s) => s.target.id === id)!)
  for (const summary of order) {
    if (summary.skipped !== undefined) continue
    if (usesDurable(summary.target)) await durable?.reset()
    try {
      const m = { ...(await measure(summary.target)), repetition: rep }
      summary.runs.push(m)
      console.log(
        `  [${rep + 1}/${settings.repetitions}] ${summary.target.id.padEnd(16)} ${Math.round(m.rps).toString().padStart(6)} req/s  p50 ${m.p50Ms.toFixed(2)} ms  p90 ${m.p90Ms?.toFixed(2)} ms  p99 ${m.p99Ms.toFixed(2)} ms  p99.9 ${m.p999Ms?.toFixed(1)} ms  ` +
          `RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MB  server ${m.serverCpuUsPerReq.toFixed(0)} µs/req (kernel ${m.serverSystemUsPerReq.toFixed(0)}; ${Math.round(m.serverCpuShare * 100)}% cpu)  generator ${Math.round(m.generatorCpuShare * 100)}% cpu`,
      )
    } catch (err) {
      // one failed run does not end the target: the table shows it only if no run succeeded
      const reason = (err as Error).message.split('\n')[0]!.slice(0, 300)
      summary.failures = [...(summary.failures ?? []), reason]
      console.log(`  [${rep + 1}/${settings.repetitions}] ${summary.target.id}: FAILED: ${reason}`)
    }
  }
}
await durable?.close()

const markdown = renderMarkdown(summaries, machine, settings, new Date())
console.log('\n' + markdown)
if (summaries.every((s) => s.runs.length === 0)) {
  // nothing was measured: the last results stay where they are
  console.error(`bench: every run failed; ${out} is left as it was`)
  process.exit(1)
}
writeFileSync(out, markdown)
console.log(`written to ${out}`)
// a full run of every target into bench/RESULTS.md is what the READMEs show
if (!partial && values.out === undefined) {
  syncReadmes()
  console.log('README.md and README.zh-CN.md: benchmark tables updated')
}
const failed = summaries.filter((s) => s.runs.length === 0 && s.target.group === 'core')
process.exitCode = failed.length > 0 ? 1 : 0

/** `NAME=VALUE,NAME=VALUE` as an environment. */
function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`bench: --env wants NAME=VALUE pairs separated by commas, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, at).trim()] = pair.slice(at + 1)
  }
  return env
}

/** The causes a failed run's server gave: the WX_ERR codes in its output, else the output's start. */
function causes(output: string): string {
  const codes = [...new Set(output.match(/WX_ERR_[A-Z_]+/g) ?? [])]
  return codes.length > 0 ? `the server logged ${codes.join(', ')} (see bench/README.md, "Reading the numbers")` : output.slice(0, 500)
}
