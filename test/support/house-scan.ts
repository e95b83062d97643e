/**
 * The static scan behind test/house.test.ts: the size of each source file and the graph of
 * relative imports between them, with the cycles in it. No parser and no dependency: a few
 * anchored regular expressions over the text, enough for the way this code base writes imports
 * (one statement per import, starting at the beginning of its line).
 *
 * What counts as an edge, as `madge --circular --extensions ts src` counts it:
 * - `import … from './x.js'`, `export … from './x.js'` and side-effect `import './x.js'`;
 * - `import type …` / `export type … from` too: madge lists type-only cycles as well (they cost
 *   nothing at run time but still tangle the modules), so they are not excused here;
 * - `import('./x.js')` with a literal specifier: madge follows dynamic imports, and a lazily
 *   loaded module that imports its loader back is still a cycle.
 * Only relative specifiers that resolve to a .ts/.tsx file under src/ make edges: packages and
 * `node:` built-ins cannot be part of a cycle in src/, and neither can test/support (madge
 * follows src/ tests into it, but no src/ module imports a test helper). Checked against
 * `madge --json --extensions ts src`: the same edges inside src/, bar one to a .css file.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/** The longest a non-test source file may be, in lines. */
export const MAX_LINES = 400

/** Static imports and re-exports; the clause between keyword and `from` holds only names, braces, commas and `*`. */
const STATIC = /^[ \t]*(?:import|export)\s+(?:type\s+)?[\w\s{},*$]*?\bfrom\s*['"]([^'"\n]+)['"]/gm
/** `import './x.js'`, for its side effects. */
const SIDE_EFFECT = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm
/** `import('./x.js')` with a literal specifier. */
const DYNAMIC = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g
/** A line that is a comment (`//`, or inside a block comment's ` * ` lines): its `import(…)` is prose. */
const COMMENT_LINE = /^\s*(?:\/\/|\/?\*)/

/** The module specifiers a file's text imports or re-exports from (every specifier, relative or not). */
export function importSpecifiers(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(STATIC)) found.push(match[1]!)
  for (const match of text.matchAll(SIDE_EFFECT)) found.push(match[1]!)
  for (const line of text.split('\n')) {
    if (COMMENT_LINE.test(line)) continue
    for (const match of line.matchAll(DYNAMIC)) found.push(match[1]!)
  }
  return found
}

/** Lines as `wc -l` counts them, plus a last line without its newline. */
export function lineCount(text: string): number {
  let lines = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++
  return text.length > 0 && !text.endsWith('\n') ? lines + 1 : lines
}

export function isTestFile(path: string): boolean {
  return /\.test\.tsx?$/.test(path)
}

/** Every .ts/.tsx file under `root`, absolute paths, sorted. */
export function sourceFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
    }
  }
  walk(resolve(root))
  return out.sort()
}

/** The file a relative specifier names, among `files` (`./x.js` is `./x.ts`, a folder its index), or undefined. */
export function resolveSpecifier(from: string, specifier: string, files: ReadonlySet<string>): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined
  const base = resolve(dirname(from), specifier)
  const stem = base.replace(/\.(?:js|jsx|ts|tsx|mjs)$/, '')
  for (const candidate of [`${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (files.has(candidate)) return candidate
  }
  return undefined
}

export interface SourceScan {
  /** Non-test files over MAX_LINES, relative to the root, with their length. */
  tooLong: Array<{ file: string; lines: number }>
  /** file → the files it imports, relative to the root (test files included, as madge includes them). */
  graph: Map<string, string[]>
}

export function scanSources(root: string): SourceScan {
  const absolute = resolve(root)
  const files = sourceFiles(absolute)
  const known = new Set(files)
  const tooLong: SourceScan['tooLong'] = []
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const name = relative(absolute, file)
    const lines = lineCount(text)
    if (!isTestFile(file) && lines > MAX_LINES) tooLong.push({ file: name, lines })
    const targets = new Set<string>()
    for (const specifier of importSpecifiers(text)) {
      const target = resolveSpecifier(file, specifier, known)
      if (target !== undefined) targets.add(relative(absolute, target))
    }
    graph.set(name, [...targets].sort())
  }
  return { tooLong, graph }
}

/**
 * One cycle for each strongly connected component of `graph` that has one (Tarjan's
 * algorithm, iterative so a deep chain of imports cannot overflow the stack). A cycle is listed
 * as a path that starts and ends at the same node: ['a', 'b', 'a'].
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const components: string[][] = []
  let next = 0
  const edges = (node: string) => graph.get(node) ?? []
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue
    const work: Array<{ node: string; edge: number }> = [{ node: start, edge: 0 }]
    index.set(start, next)
    low.set(start, next++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const out = edges(frame.node)
      if (frame.edge < out.length) {
        const to = out[frame.edge++]!
        if (!index.has(to)) {
          index.set(to, next)
          low.set(to, next++)
          stack.push(to)
          onStack.add(to)
          work.push({ node: to, edge: 0 })
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!))
      if (low.get(frame.node) !== index.get(frame.node)) continue
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== frame.node)
      const selfLoop = component.length === 1 && edges(frame.node).includes(frame.node)
      if (component.length > 1 || selfLoop) components.push(component)
    }
  }
  return components.map((component) => cycleWithin(graph, new Set(component)))
}

/** A shortest cycle through the component's first node (in name order), by breadth-first search inside it. */
function cycleWithin(graph: ReadonlyMap<string, readonly string[]>, component: ReadonlySet<string>): string[] {
  const start = [...component].sort()[0]!
  const cameFrom = new Map<string, string>()
  const queue = [start]
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!
    for (const to of graph.get(node) ?? []) {
      if (!component.has(to)) continue
      if (to === start) {
        // node is reached from start through cameFrom: walk back to it
        const back: string[] = []
        for (let at: string | undefined = node; at !== undefined; at = cameFrom.get(at)) back.push(at)
        return [...back.reverse(), start]
      }
      if (cameFrom.has(to)) continue
      cameFrom.set(to, node)
      queue.push(to)
    }
  }
  // every node of a strongly connected component that has a cycle lies on one
  throw new Error(`no cycle through ${start} inside its component: ${[...component].join(', ')}`)
}
