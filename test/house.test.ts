// House rules that hold for the whole of src/ (BRIEF: "files stay under 400 lines", "no import
// cycles"): every non-test source file is at most 400 lines, and the relative imports between
// src/ files form no cycle. The scan is static and quick (test/support/house-scan.ts says what
// counts as an import: type-only imports do, as they do for madge).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findCycles, importSpecifiers, lineCount, MAX_LINES, scanSources } from './support/house-scan.js'

const SRC = fileURLToPath(new URL('../src', import.meta.url))
const scan = scanSources(SRC)

test(`no non-test source file under src/ is longer than ${MAX_LINES} lines`, () => {
  const report = scan.tooLong.map(({ file, lines }) => `src/${file}: ${lines} lines`).join('\n')
  assert.deepEqual(scan.tooLong, [], `split these into smaller modules:\n${report}`)
})

test('src/ has no import cycle', () => {
  const cycles = findCycles(scan.graph)
  const report = cycles.map((cycle) => cycle.map((file) => `src/${file}`).join(' → ')).join('\n')
  assert.deepEqual(cycles, [], `break these import cycles:\n${report}`)
})

test('the scan sees the imports it should (a sanity check on the real tree)', () => {
  // known edges, one of each kind: if the scan missed them, "no cycle" above would mean nothing
  const edges = (file: string) => scan.graph.get(file) ?? []
  assert.ok(edges('bot.ts').includes('bot-answers.ts'), 'static import')
  assert.ok(edges('index.ts').includes('bot.ts'), 'export … from')
  assert.ok(edges('xml/fast-path.ts').includes('xml/tree.ts'), 'import with a type-only name')
  assert.ok(edges('records/message-log.ts').includes('records/sql-database.ts'), 'import type')
  assert.ok(scan.graph.size > 300, `only ${scan.graph.size} files scanned`)
  const withEdges = [...scan.graph.values()].filter((to) => to.length > 0).length
  assert.ok(withEdges > scan.graph.size / 2, `only ${withEdges} of ${scan.graph.size} files import another src/ file`)
})

test('the scan fails a tree with a type-only import cycle and a long file, and excuses long tests', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-house-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'x.ts'), "import { y } from './y.js'\nexport const x = y + 1\nexport type X = number\n")
  writeFileSync(join(dir, 'y.ts'), "import type { X } from './x.js'\nexport const y: X = 1\n")
  writeFileSync(join(dir, 'long.ts'), 'export const a = 1\n'.repeat(MAX_LINES + 1))
  writeFileSync(join(dir, 'fits.ts'), "import { x } from './x.js'\n" + 'export const b = x\n'.repeat(MAX_LINES - 1))
  writeFileSync(join(dir, 'long.test.ts'), "import { x } from './x.js'\n" + 'void x\n'.repeat(MAX_LINES * 2))
  const small = scanSources(dir)
  assert.deepEqual(small.tooLong, [{ file: 'long.ts', lines: MAX_LINES + 1 }])
  assert.deepEqual(findCycles(small.graph), [['x.ts', 'y.ts', 'x.ts']])
})

test('findCycles finds a three-module cycle, a self-import and a two-module cycle, and nothing in a DAG', () => {
  const graph = new Map<string, string[]>([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', ['e']],
    ['e', []],
    ['f', ['f']],
    ['g', ['h', 'e']],
    ['h', ['g']],
  ])
  const cycles = findCycles(graph).sort((x, y) => x[0]!.localeCompare(y[0]!))
  assert.deepEqual(cycles, [
    ['a', 'b', 'c', 'a'],
    ['f', 'f'],
    ['g', 'h', 'g'],
  ])
  const dag = new Map<string, string[]>([
    ['a', ['b', 'c']],
    ['b', ['c']],
    ['c', ['d']],
    ['d', []],
  ])
  assert.deepEqual(findCycles(dag), [])
})

test('findCycles reports one cycle per tangle, through edges to nodes missing from the map too', () => {
  // a, b and c are one tangle (a ⇄ b ⇄ c): reported once, by its shortest cycle through a
  const graph = new Map<string, string[]>([
    ['a', ['b', 'x']],
    ['b', ['a', 'c']],
    ['c', ['b']],
  ])
  assert.deepEqual(findCycles(graph), [['a', 'b', 'a']])
})

test('findCycles copes with an import chain deeper than a recursive search could go', () => {
  const chain = new Map<string, string[]>()
  const length = 15_000
  // a plain recursive function overflows the default stack before 11 000 calls
  for (let i = 0; i < length; i++) chain.set(`m${i}`, [`m${i + 1}`])
  chain.set(`m${length}`, [])
  assert.deepEqual(findCycles(chain), [])
  chain.set(`m${length}`, ['m0'])
  const [cycle, ...more] = findCycles(chain)
  assert.equal(more.length, 0)
  assert.equal(cycle!.length, length + 2)
  assert.equal(cycle![0], 'm0')
  assert.equal(cycle!.at(-1), 'm0')
})

test('importSpecifiers reads every form of import, and none in comments', () => {
  const text = [
    "import { a } from './a.js'",
    "import type { B } from './b.js'",
    "import c, { type C } from '../c.js'",
    'import {',
    '  d,',
    '  type D,',
    "} from './d.js'",
    "import * as e from './e.js'",
    "export { f } from './f.js'",
    "export * from './g.js'",
    "export type { H } from './h.js'",
    "import './side-effect.js'",
    "import { readFileSync } from 'node:fs'",
    "  const lazy = await import('./lazy.js')",
    '/**',
    " * @example import { x } from './in-a-doc-comment.js'",
    " * const y = await import('./also-in-a-comment.js')",
    ' */',
    "// const z = await import('./commented-out.js')",
    "const text = 'import { q } from ./not-an-import.js'",
    "const parsed = Buffer.from('./not-a-specifier.js')",
  ].join('\n')
  assert.deepEqual(importSpecifiers(text).sort(), [
    '../c.js',
    './a.js',
    './b.js',
    './d.js',
    './e.js',
    './f.js',
    './g.js',
    './h.js',
    './lazy.js',
    './side-effect.js',
    'node:fs',
  ])
})

test('lineCount counts lines as wc -l does, and a last line without its newline', () => {
  assert.equal(lineCount(''), 0)
  assert.equal(lineCount('a\n'), 1)
  assert.equal(lineCount('a\nb'), 2)
  assert.equal(lineCount('a\nb\n'), 2)
  assert.equal(lineCount('\n\n\n'), 3)
})
