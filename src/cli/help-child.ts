/**
 * For help.test.ts: runs `wxmp <command…> --help` in this process for every command of the
 * table and every subcommand its usage names, then prints one JSON line: what each printed and
 * returned, and the handles still open. A command that started something (a server, a store
 * client, a timer) leaves a handle behind; one that never returns is caught by the parent's
 * timeout.
 */
import { COMMANDS, main } from './main.js'

/** `wxmp menu push <menu.json> | wxmp menu show` → [['menu', 'push'], ['menu', 'show']]. */
export function invocations(name: string, usage: string): string[][] {
  const found: string[][] = [[name]]
  for (const synopsis of usage.split(/\n|\s\|\s/)) {
    const words = synopsis.trim().split(/\s+/)
    if (words[0] !== 'wxmp' || words[1] !== name) continue
    const sub = words[2]
    if (sub !== undefined && /^[a-z][\w-]*$/.test(sub) && !found.some((f) => f[1] === sub)) found.push([name, sub])
  }
  return found
}

const baseline = new Set(process.getActiveResourcesInfo())
const results: { argv: string[]; code: number; out: string }[] = []
for (const [name, spec] of Object.entries(COMMANDS)) {
  for (const words of invocations(name, await spec.usage())) {
    for (const flag of ['--help', '-h']) {
      const argv = [...words, flag]
      const out: string[] = []
      const code = await main(argv, (l) => out.push(l), (l) => out.push(l))
      results.push({ argv, code, out: out.join('\n') })
    }
  }
}
const before = process.getActiveResourcesInfo().filter((r) => !baseline.has(r))
process.stdout.write(JSON.stringify({ results, handles: before }) + '\n')
