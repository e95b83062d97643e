/**
 * `npm run bench:profile -- FILE.cpuprofile [--top 30]`: where a server's CPU went, from a V8
 * CPU profile (`npm run bench -- --only wxmp-sqlite --profile DIR` writes one per server).
 * Prints self time by function and by area (wxmp's own folders, node internals, GC, idle), as
 * µs per answered request when `--requests N` is given, else as shares of the profile.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' }, requests: { type: 'string' } } })
if (positionals.length === 0) {
  console.error('usage: npm run bench:profile -- FILE.cpuprofile [--top 30] [--requests N]')
  process.exit(1)
}

/** The area a frame belongs to: a wxmp folder, a dependency, node's internals, or V8 itself. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame
  if (url === '') return functionName === '' ? '(anonymous native)' : `(${functionName.replace(/[()]/g, '')})`
  const inDist = /\/dist\/(.+)\/[^/]+\.js$/.exec(url) ?? /\/src\/(.+)\/[^/]+\.ts$/.exec(url)
  if (url.includes('/node_modules/')) return `dep:${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? '?'}`
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`
  if (inDist !== null) return `wxmp:${inDist[1]}`
  if (/\/(dist|src)\/[^/]+\.(js|ts)$/.test(url)) return 'wxmp:(root)'
  return url
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0)
  const busy = total - idle
  const requests = values.requests === undefined ? undefined : Number(values.requests)
  const show = (us: number) => (requests === undefined ? `${((us / busy) * 100).toFixed(1).padStart(5)}%` : `${(us / requests).toFixed(2).padStart(7)} µs/req`)
  const fn = new Map<string, number>()
  const area = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    const f = node.callFrame
    if (f.functionName === '(idle)') continue
    const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
    fn.set(name, (fn.get(name) ?? 0) + us)
    const a = areaOf(f)
    area.set(a, (area.get(a) ?? 0) + us)
  }
  const top = Number(values.top ?? 30)
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (main thread)`)
  console.log('\nby area (self time):')
  for (const [name, us] of [...area].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${show(us)}  ${name}`)
  console.log('\nby function (self time):')
  for (const [name, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${show(us)}  ${name}`)
  // inclusive: a function's own time plus everything it called (each sample counted once per function)
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame
      if (f.url === '' && f.functionName === '(root)') continue
      const name = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`
      if (seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + us)
    }
  }
  console.log('\nby function (inclusive):')
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${show(us)}  ${name}`)
  console.log('')
}
