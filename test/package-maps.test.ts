// Issue 18.9: the package ships dist/ without src/, so a stack trace mapped through a source
// map must find the code inside the map itself (tsconfig.build.json: inlineSources).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const dist = join(root, 'dist')

function maps(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return maps(path)
    return name.endsWith('.js.map') ? [path] : []
  })
}

test('every source map in dist/ carries the sources it names', (t) => {
  if (statSync(dist, { throwIfNoEntry: false }) === undefined) return t.skip('dist/ not built (npm run build)')
  const files: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files
  assert.ok(!files.includes('src'), 'src/ is not published, so the maps must carry the code')
  const found = maps(dist)
  assert.ok(found.length > 50, `expected the build's maps, found ${found.length}`)
  const without: string[] = []
  for (const file of found) {
    const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] }
    const ok = map.sources.length > 0 && map.sourcesContent?.length === map.sources.length &&
      map.sourcesContent.every((content) => typeof content === 'string' && content.length > 0)
    if (!ok) without.push(file.slice(root.length))
  }
  assert.deepEqual(without, [], `maps without their sources: ${without.slice(0, 5).join(', ')}`)
})
