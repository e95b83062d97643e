import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { README_FILES, resultsSection, sectionOf, withSection } from '../bench/readme-sync.js'

const root = new URL('..', import.meta.url)
const results = readFileSync(new URL('bench/RESULTS.md', root), 'utf8')

test('both READMEs show exactly the tables of bench/RESULTS.md (npm run bench:readme copies them)', () => {
  const expected = resultsSection(results)
  assert.match(expected, /^Run of \d{4}-\d\d-\d\d \d\d:\d\d UTC on .+:/)
  assert.match(expected, /\| wxmp (\(plaintext\)|as npm start runs it \(plaintext\)) \|/)
  assert.match(expected, /\| Ratio \(requests\/s\) \|/)
  for (const name of README_FILES) assert.equal(sectionOf(readFileSync(new URL(name, root), 'utf8')), expected, `${name} is out of date: run npm run bench:readme`)
})

test('the copy replaces only the marked region', () => {
  const readme = 'intro\n<!-- bench:results -->\nold table\n<!-- /bench:results -->\nafter\n'
  const updated = withSection(readme, 'Run of X on Y:\n\n| a |', 'R')
  assert.equal(updated, 'intro\n<!-- bench:results -->\nRun of X on Y:\n\n| a |\n<!-- /bench:results -->\nafter\n')
  assert.throws(() => withSection('no markers', 'x', 'README.md'), /README\.md has no/)
})
