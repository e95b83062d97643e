#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: src and test) with Node's own test
// runner and the tsx loader. Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('-'))
const files = []
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.test.ts')) files.push(path)
  }
}
for (const root of roots.length > 0 ? roots : ['src', 'test']) {
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root)
  else if (root.endsWith('.test.ts')) files.push(root)
}
files.sort()
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}
// A whole run checks that the suites cleaned up after themselves (scripts/test-leftovers.mjs).
const checkLeftovers = roots.length === 0 && process.env.WXMP_TEST_LEFTOVERS !== 'ignore'
const leftovers = checkLeftovers ? await import('./test-leftovers.mjs') : undefined
const before = leftovers === undefined ? undefined : await leftovers.snapshot()
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...passThrough, ...files],
  { stdio: 'inherit', env: { ...process.env, WXMP_LOG_LEVEL: process.env.WXMP_LOG_LEVEL ?? 'silent' } },
)
if (leftovers !== undefined && before !== undefined && result.status === 0) {
  const left = await leftovers.leftoversSince(before)
  if (left.length > 0) {
    console.error(`\nThe tests left ${left.length} thing(s) behind in the test Redis/PostgreSQL (each suite must delete what it writes; CONTRIBUTING.md):`)
    for (const item of left.slice(0, 20)) console.error(`  ${item}`)
    if (left.length > 20) console.error(`  … and ${left.length - 20} more`)
    console.error('A run beside another run on the same servers may see its work in progress: WXMP_TEST_LEFTOVERS=ignore skips this check.')
    process.exit(1)
  }
}
process.exit(result.status ?? 1)
