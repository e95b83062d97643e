#!/usr/bin/env node
// The `wxmp` command. Runs the compiled CLI (npm ci / npm run build produce dist/).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'

// V8's young generation doubles as objects survive, to 32 MiB resident, most of it while the
// modules load; the server keeps it at a few MiB (src/server/heap-bounds.ts), so it must
// not have grown before that starts. Read each time V8 would grow the space.
v8.setFlagsFromString('--semi-space-growth-factor=1')

const compiled = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write('wxmp: dist/ is missing: run `npm run build` (npm ci does it for you)\n')
  process.exit(1)
}
const { main } = await import(compiled.href)
process.exitCode = await main(process.argv.slice(2))
