/**
 * "A received message is written before its reply leaves, and the log survives kill -9":
 * a child process records messages as fast as it can, printing each one only after its
 * inbound row and its outcome are committed; it is killed with SIGKILL mid-stream, and every
 * message it reported must read back complete and intact.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'
import { crashTestMessage } from './crash-test-child.js'
import { MIGRATIONS } from './migrations.js'
import { LoggedRecorder } from './logged-recorder.js'
import { retryKeyOf } from './row-ref.js'
import { openRecords, type OpenRecordsOptions } from './open-records.js'
import type { SqliteDatabase } from './sql-database.js'

const CHILD = fileURLToPath(new URL('./crash-test-child.ts', import.meta.url))
const KILL_AFTER = 300
const dir = mkdtempSync(join(tmpdir(), 'wxmp-kill-'))
const postgresUp = await serviceAvailable('postgres')
const schema = `wxmp_kill_${randomBytes(4).toString('hex')}`
after(async () => {
  rmSync(dir, { recursive: true, force: true })
  if (!postgresUp) return
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
})

/** Runs the writer child, kills it with SIGKILL once it reported KILL_AFTER messages, returns n → id. */
async function writeUntilKilled(url: string, options: { schema?: string }, run: string, mode = 'write'): Promise<Map<number, number | string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ mode, url, run, ...options })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const reported = new Map<number, number | string>()
  let buffered = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)))
  const watchdog = setTimeout(() => child.kill('SIGKILL'), 60_000)
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop()! // a line cut by the kill is not a report
    for (const line of lines) {
      const [n, id] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]
      reported.set(Number(n), /^\d+$/.test(id) ? Number(id) : id)
    }
    if (reported.size >= KILL_AFTER && child.exitCode === null) child.kill('SIGKILL')
  })
  const signal = await exited
  clearTimeout(watchdog)
  assert.equal(signal, 'SIGKILL', `the writer must die by SIGKILL mid-stream, not finish: ${stderr}`)
  assert.ok(reported.size >= KILL_AFTER, `only ${reported.size} messages reported: ${stderr}`)
  return reported
}

async function assertAllIntact(url: string, options: OpenRecordsOptions, run: string, reported: Map<number, number | string>) {
  const records = await openRecords(url, options)
  // the appended log's leftovers are loaded by the next start, as the server does
  const logged = records.kind === 'sqlite' ? await LoggedRecorder.open(records.messages, records.db as SqliteDatabase, { dir: `${(records.db as SqliteDatabase).filename}-log` }) : undefined
  try {
    for (const [n, reportedId] of reported) {
      let id = reportedId
      if (typeof reportedId === 'string') {
        const key = retryKeyOf(reportedId)
        assert.ok(key?.createTime !== undefined, `${reportedId} is a reference with its CreateTime`)
        const rows = await records.db.all<{ id: number; deliveries: number }>('SELECT id, deliveries FROM wxmp_messages WHERE app_id = ? AND create_time = ? AND msg_key = ?', [key.appId, key.createTime, key.msgKey])
        assert.equal(rows.length, 1, `message ${n} (${reportedId}) was reported written but is missing`)
        assert.equal(Number(rows[0]!.deliveries), 1, `message ${n} was loaded more than once`)
        id = Number(rows[0]!.id)
      }
      const row = await records.messages.get(id)
      const { inbound, outcome } = crashTestMessage(run, n)
      assert.ok(row !== undefined, `message ${n} (row ${id}) was reported written but is missing`)
      assert.deepEqual(
        { ...inbound, event: null, replyXml: outcome.replyXml, replyVia: outcome.replyVia, replyStatus: outcome.replyStatus, latencyMs: outcome.latencyMs },
        {
          appId: row.appId, msgKey: row.msgKey, openid: row.openid, msgType: row.msgType, msgId: row.msgId, createTime: row.createTime,
          rawXml: row.rawXml, receivedAt: row.receivedAt, encrypted: row.encrypted, event: row.event,
          replyXml: row.replyXml, replyVia: row.replyVia, replyStatus: row.replyStatus, latencyMs: row.latencyMs,
        },
        `message ${n} came back different`,
      )
    }
    // The log is still writable after the crash.
    const { inbound } = crashTestMessage(`${run}-after`, 0)
    assert.ok((await records.messages.recordInbound(inbound)) > 0)
  } finally {
    await logged?.close()
    await records.close()
  }
}

test('SQLite: every message reported written survives kill -9 of the writer, intact', { timeout: 120_000 }, async () => {
  const file = join(dir, 'log.db')
  const url = `sqlite:${file}`
  const reported = await writeUntilKilled(url, {}, 'sqlite')
  const db = new Database(file)
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  db.close()
  await assertAllIntact(url, {}, 'sqlite', reported)
})

test('SQLite through the appended log (as the server writes it): every message reported written survives kill -9, intact, loaded once', { timeout: 120_000 }, async () => {
  const file = join(dir, 'appended.db')
  const url = `sqlite:${file}`
  const reported = await writeUntilKilled(url, {}, 'appended', 'write-logged')
  const db = new Database(file)
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  db.close()
  await assertAllIntact(url, {}, 'appended', reported)
})

test(
  'PostgreSQL: every message reported written survives kill -9 of the writer, intact',
  { timeout: 120_000, skip: !postgresUp && 'PostgreSQL is not reachable' },
  async () => {
    const reported = await writeUntilKilled(POSTGRES_URL, { schema }, 'postgres')
    await assertAllIntact(POSTGRES_URL, { schema }, 'postgres', reported)
  },
)

test('three processes migrating one fresh database at once apply each migration exactly once', { timeout: 120_000 }, async () => {
  const targets: [string, { schema?: string }][] = [[`sqlite:${join(dir, 'race.db')}`, {}]]
  if (postgresUp) targets.push([POSTGRES_URL, { schema: `${schema}_race` }])
  try {
    for (const [url, options] of targets) {
      const children = Array.from({ length: 3 }, () =>
        spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ mode: 'migrate', url, ...options })], {
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      )
      const outputs = children.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = ''
            let err = ''
            child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
            child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
            child.once('close', () => resolve(out + err))
          }),
      )
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              const onData = (chunk: Buffer) => {
                if (chunk.toString().includes('ready')) {
                  child.stdout.off('data', onData)
                  resolve()
                }
              }
              child.stdout.on('data', onData)
            }),
        ),
      )
      for (const child of children) child.stdin.end('go\n')
      const results = (await Promise.all(outputs)).map((text) => {
        const json = text.split('\n').find((line) => line.startsWith('{'))
        assert.ok(json !== undefined, `a migrating process failed: ${text}`)
        return JSON.parse(json) as { applied: unknown[]; current: number }
      })
      assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, 0, MIGRATIONS.length], url)
      assert.ok(results.every((r) => r.current === MIGRATIONS.length))
    }
  } finally {
    if (postgresUp) {
      const client = new pg.Client(POSTGRES_URL)
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema}_race CASCADE`)
      await client.end()
    }
  }
})
