import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteWriter, WRITER_NICE } from './sqlite-writer.js'

/** The nice value in a /proc stat line (field 19; the command name may hold spaces and parentheses, so counted from the last ')'). */
function niceOf(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
}

/** The nice value of each of this process's threads. */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => niceOf(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')))
}

test('the writer thread runs at a lower priority than the request thread', { skip: process.platform !== 'linux' && 'thread priorities are read from /proc' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-writer-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'w.db')
  const setup = new Database(file)
  setup.pragma('journal_mode = WAL')
  setup.close()
  const before = threadNices()
  const writer = SqliteWriter.start(file, 1000)
  assert.ok(writer, 'the writer thread starts')
  t.after(() => writer.close())
  const [created] = await writer.run([{ kind: 'exec', sql: 'CREATE TABLE t (v INTEGER)' }])
  assert.equal(created?.ok, true)
  const own = niceOf(readFileSync('/proc/self/stat', 'utf8'))
  const lowered = Math.min(19, own + WRITER_NICE)
  if (lowered === own) return t.skip(`this process already runs at nice ${own}: no lower priority to see`)
  assert.equal(before.filter((nice) => nice === lowered).length, 0, 'no thread at the lower priority before')
  assert.equal(threadNices().filter((nice) => nice === lowered).length, 1, 'the writer thread, and only it, lowered its priority')
})
