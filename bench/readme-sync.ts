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

/**
 * The marked region of a README, as written by withSection, in the words of RESULTS.md: the
 * Chinese README's headers and labels are read back through the same table that translated
 * them, so a check compares the numbers whatever the language.
 */
export function sectionOf(readme: string): string | undefined {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  if (start === -1 || end === -1 || end < start) return undefined
  return untranslated(readme.slice(start + START.length, end).trim())
}

/** English → 中文 for the headers and labels of the tables (whole cells); numbers stay as they are. */
const ZH_CELLS: readonly (readonly [string, string])[] = [
  ['Server', '服务器'],
  ['Mode', '模式'],
  ['Requests/s', '请求/秒'],
  ['p50 ms', 'p50 毫秒'],
  ['p99 ms', 'p99 毫秒'],
  ['Peak RSS MB', '峰值 RSS MB'],
  ['Server CPU µs/req (kernel)', '服务端 CPU 微秒/请求 (内核)'],
  ['Server CPU', '服务端 CPU'],
  ['Generator CPU', '压测端 CPU'],
  ['Ratio (requests/s)', '比值 (请求/秒)'],
  ['Measured', '实测'],
  ['Lowest–highest repetition', '各轮最低–最高'],
  ['Ratio of medians', '中位数之比'],
  ['Goal', '目标'],
  ['plaintext', '明文'],
  ['safe (AES)', '安全模式 (AES)'],
  ['wxmp (plaintext)', 'wxmp (明文)'],
  ['wechat + Express 4 (plaintext)', 'wechat + Express 4 (明文)'],
  ['co-wechat + Koa 2 (plaintext)', 'co-wechat + Koa 2 (明文)'],
  ['bare node:http (ceiling)', '裸 node:http (上限)'],
  ['wxmp (safe mode)', 'wxmp (安全模式)'],
  ['wechat + Express 4 (safe mode)', 'wechat + Express 4 (安全模式)'],
  ['co-wechat + Koa 2 (safe mode)', 'co-wechat + Koa 2 (安全模式)'],
  ['wxmp (plaintext) + SQLite message log', 'wxmp (明文) + SQLite 消息日志'],
  ['wxmp (plaintext) + Redis + PostgreSQL log', 'wxmp (明文) + Redis + PostgreSQL 日志'],
  ['wxmp plaintext / wechat plaintext', 'wxmp 明文 / wechat 明文'],
  ['wxmp plaintext / co-wechat plaintext', 'wxmp 明文 / co-wechat 明文'],
  ['wxmp plaintext / bare node:http ceiling', 'wxmp 明文 / 裸 node:http 上限'],
  ['wxmp safe mode / wechat safe mode', 'wxmp 安全模式 / wechat 安全模式'],
  ['wxmp safe mode / co-wechat safe mode', 'wxmp 安全模式 / co-wechat 安全模式'],
  ['wxmp + SQLite log / wxmp memory (cost of durability)', 'wxmp + SQLite 日志 / wxmp 内存 (持久化的代价)'],
  ['wxmp + Redis + PostgreSQL / wxmp memory', 'wxmp + Redis + PostgreSQL / wxmp 内存'],
  // the default configuration as its own rows (issue 19)
  ['wxmp as npm start runs it (plaintext)', 'wxmp 默认配置，npm start (明文)'],
  ['wxmp as npm start runs it (safe mode)', 'wxmp 默认配置，npm start (安全模式)'],
  ['wxmp memory mode (plaintext)', 'wxmp 内存模式 (明文)'],
  ['wxmp memory mode (safe mode)', 'wxmp 内存模式 (安全模式)'],
  ['wxmp + Redis + PostgreSQL log (plaintext)', 'wxmp + Redis + PostgreSQL 日志 (明文)'],
  ['wxmp as npm start runs it, plaintext / wechat plaintext', 'wxmp 默认配置 明文 / wechat 明文'],
  ['wxmp as npm start runs it, plaintext / co-wechat plaintext', 'wxmp 默认配置 明文 / co-wechat 明文'],
  ['wxmp as npm start runs it, safe mode / wechat safe mode', 'wxmp 默认配置 安全模式 / wechat 安全模式'],
  ['wxmp as npm start runs it, safe mode / co-wechat safe mode', 'wxmp 默认配置 安全模式 / co-wechat 安全模式'],
  ['wxmp as npm start runs it / memory mode, plaintext (cost of durability)', 'wxmp 默认配置 / 内存模式，明文 (持久化的代价)'],
  ['wxmp as npm start runs it / memory mode, safe mode (cost of durability)', 'wxmp 默认配置 / 内存模式，安全模式 (持久化的代价)'],
  ['wxmp memory mode plaintext / wechat plaintext', 'wxmp 内存模式 明文 / wechat 明文'],
  ['wxmp memory mode plaintext / co-wechat plaintext', 'wxmp 内存模式 明文 / co-wechat 明文'],
  ['wxmp memory mode plaintext / bare node:http ceiling', 'wxmp 内存模式 明文 / 裸 node:http 上限'],
  ['wxmp memory mode plaintext / bare node:http ceiling, by server CPU per request', 'wxmp 内存模式 明文 / 裸 node:http 上限，按每请求服务端 CPU'],
  ['wxmp memory mode safe mode / wechat safe mode', 'wxmp 内存模式 安全模式 / wechat 安全模式'],
  ['wxmp memory mode safe mode / co-wechat safe mode', 'wxmp 内存模式 安全模式 / co-wechat 安全模式'],
  ['wxmp + Redis + PostgreSQL / memory mode, plaintext', 'wxmp + Redis + PostgreSQL / 内存模式，明文'],
  ['Limit (50 connections, under the flood)', '限值 (50 个连接，洪峰下)'],
  ['wxmp as npm start runs it, plaintext: p99 latency', 'wxmp 默认配置 明文：p99 延迟'],
  ['wxmp as npm start runs it, plaintext: peak RSS', 'wxmp 默认配置 明文：峰值 RSS'],
  ['wxmp as npm start runs it, safe mode: p99 latency', 'wxmp 默认配置 安全模式：p99 延迟'],
  ['wxmp as npm start runs it, safe mode: peak RSS', 'wxmp 默认配置 安全模式：峰值 RSS'],
  ['wxmp memory mode, plaintext: p99 latency', 'wxmp 内存模式 明文：p99 延迟'],
  ['wxmp memory mode, safe mode: p99 latency', 'wxmp 内存模式 安全模式：p99 延迟'],
]

function mapCells(section: string, table: ReadonlyMap<string, string>, run: (line: string) => string): string {
  return section
    .split('\n')
    .map((line) => (line.startsWith('|') ? line.split(' | ').map((cell) => {
      const lead = cell.startsWith('| ') ? '| ' : ''
      const trail = cell.endsWith(' |') ? ' |' : ''
      const inner = cell.slice(lead.length, cell.length - trail.length)
      return lead + (table.get(inner) ?? inner) + trail
    }).join(' | ') : run(line)))
    .join('\n')
}

/** The section as README.zh-CN.md shows it. */
export function translatedSection(section: string): string {
  return mapCells(section, new Map(ZH_CELLS.map(([en, zh]) => [en, zh])), (line) => line.replace(/^Run of (.+) on (.+):$/, '测试于 $1，机器：$2：'))
}

function untranslated(section: string): string {
  return mapCells(section, new Map(ZH_CELLS.map(([en, zh]) => [zh, en])), (line) => line.replace(/^测试于 (.+?)，机器：(.+)：$/, 'Run of $1 on $2:'))
}

export function syncReadmes(resultsFile = `${root}bench/RESULTS.md`): void {
  const section = resultsSection(readFileSync(resultsFile, 'utf8'))
  for (const name of README_FILES) {
    const file = `${root}${name}`
    writeFileSync(file, withSection(readFileSync(file, 'utf8'), name === 'README.zh-CN.md' ? translatedSection(section) : section, name))
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  syncReadmes()
  console.log(`README tables updated from bench/RESULTS.md: ${README_FILES.join(', ')}`)
}
