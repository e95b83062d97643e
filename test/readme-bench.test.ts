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

test('every row and ratio a full run can produce reads in Chinese in README.zh-CN.md, and reads back the same', async () => {
  const { renderMarkdown } = await import('../bench/report.js')
  const { TARGETS } = await import('../bench/targets.js')
  const { translatedSection } = await import('../bench/readme-sync.js')
  const run = (rps: number) => ({ rps, p50Ms: 2, p99Ms: 8, peakRssBytes: 140 * 2 ** 20, serverCpuUsPerReq: 50, serverSystemUsPerReq: 8, serverCpuShare: 1, generatorCpuShare: 0.4 })
  const summaries = TARGETS.filter((t) => t.group === 'core' || t.group === 'storage').map((target, i) => ({ target, runs: [run(10_000 + i * 1000)] }))
  const section = resultsSection(renderMarkdown(summaries, { cpu: 'CPU', cores: 2, memoryGiB: 24, os: 'linux', node: 'v20' } as never, { quick: false, connections: 50, durationSec: 10, repetitions: 3 }, new Date()))
  assert.match(section, /\| Limit \(50 connections, under the flood\) \|/)
  const zh = translatedSection(section)
  const english = zh
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .flatMap((line) => line.split(' | ').map((cell) => cell.replace(/^\| /, '').replace(/ \|$/, '')))
    .filter((cell) => /[a-z]{4,}/.test(cell.replace(/wxmp|wechat|co-wechat|node:http|Express|Koa|Redis|PostgreSQL|npm start/g, '')))
  assert.deepEqual(english, [], 'labels left in English in README.zh-CN.md: add them to ZH_CELLS in bench/readme-sync.ts')
  assert.equal(sectionOf(withSection('<!-- bench:results -->\n<!-- /bench:results -->', zh, 'README.zh-CN.md')), section)
})
