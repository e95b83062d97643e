/**
 * Copies the tables of bench/RESULTS.md into README.md and README.zh-CN.md, between the
 * `<!-- bench:results -->` and `<!-- /bench:results -->` markers, so the READMEs show the
 * latest full run and never a hand-copied one. `npm run bench` calls it after a full run;
 * `npm run bench:readme` runs it alone. test/readme-bench.test.ts checks they agree.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
export const README_FILES = ['README.md', 'README.zh-CN.md'] as const
const START = '<!-- bench:results -->'
const END = '<!-- /bench:results -->'

/** The part of RESULTS.md a README shows: date and machine, then every table. */
export function resultsSection(results: string): string {
  const lines = results.split('\n')
  const date = lines.find((l) => l.startsWith('- Date: '))?.slice('- Date: '.length)
  const machine = lines.find((l) => l.startsWith('- Machine: '))?.slice('- Machine: '.length)
  if (date === undefined || machine === undefined) throw new Error('bench/RESULTS.md has no "- Date:" or "- Machine:" line')
  const tables: string[] = []
  let current: string[] = []
  for (const line of lines) {
    if (line.startsWith('|')) current.push(line)
    else if (current.length > 0) {
      tables.push(current.join('\n'))
      current = []
    }
  }
  if (current.length > 0) tables.push(current.join('\n'))
  return [`Run of ${date} on ${machine}:`, '', ...tables.flatMap((t) => [t, ''])].join('\n').trimEnd()
}

/** `readme` with its marked region replaced by `section`. */
export function withSection(readme: string, section: string, file: string): string {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end === -1 || end < start) throw new Error(`${file} has no ${START} … ${END} region`)
  return `${readme.slice(0, start + START.length)}\n${section}\n${readme.slice(end)}`
}

/** The marked region of a README, as written by withSection. */
export function sectionOf(readme: string): string | undefined {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end === -1 || end < start) return undefined
  return readme.slice(start + START.length, end).trim()
}

export function syncReadmes(resultsFile = `${root}bench/RESULTS.md`): void {
  const section = resultsSection(readFileSync(resultsFile, 'utf8'))
  for (const name of README_FILES) {
    const file = `${root}${name}`
    writeFileSync(file, withSection(readFileSync(file, 'utf8'), section, name))
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  syncReadmes()
  console.log(`README tables updated from bench/RESULTS.md: ${README_FILES.join(', ')}`)
}
