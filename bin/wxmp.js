#!/usr/bin/env node
// The `wxmp` command. Runs the compiled CLI (npm ci / npm run build produce dist/).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const compiled = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(fileURLToPath(compiled))) {
  process.stderr.write('wxmp: dist/ is missing: run `npm run build` (npm ci does it for you)\n')
  process.exit(1)
}
const { main } = await import(compiled.href)
process.exitCode = await main(process.argv.slice(2))
