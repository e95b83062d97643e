import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('..', import.meta.url))

/** Every file and package reachable from `entry` through static imports (dynamic import() is not followed). */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
      const spec = match[1] ?? match[2]!
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
        if (existsSync(target)) visit(target)
      } else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
    }
  }
  visit(entry)
  return { files, packages }
}

test('the library, the server and the CLI entry never load the publishing code or its libraries', () => {
  for (const entry of ['index.ts', 'api/index.ts', 'testing/index.ts', 'cli/main.ts', 'cli/commands/serve.ts', 'cli/commands/publish.ts', 'cli/commands/draft.ts', 'cli/commands/material.ts']) {
    const { files, packages } = staticGraph(resolve(src, entry))
    assert.ok(files.size > 1, `${entry} has imports`)
    assert.deepEqual([...files].filter((f) => f.includes('/src/publish/')), [], `${entry} imports src/publish statically`)
    for (const name of ['markdown-it', 'highlight.js', 'yaml']) assert.equal(packages.has(name), false, `${entry} loads ${name}`)
  }
  // and the publishing code does use them (the check above can fail)
  const publish = staticGraph(resolve(src, 'publish/prepare-post.ts'))
  assert.ok(publish.packages.has('markdown-it') && publish.packages.has('yaml'))
})
