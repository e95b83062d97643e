import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteDatabase } from '../records/sql-database.js'
import { DurableArenaStore } from './durable-arena-store.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-journal-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

/** Opens the store on a database file; `reopen` gives the same file as after a restart. */
async function openOn(file: string, options: { now?: () => number; budgetBytes?: number } = {}) {
  const db = new SqliteDatabase(file)
  const store = await DurableArenaStore.open(db, options)
  return {
    db,
    store,
    async close() {
      await store.close()
      await db.close()
    },
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

describe('DurableArenaStore', () => {
  test('what the replay guard and the deduper wrote is there again after a restart; deletions hold too', async () => {
    const file = join(dir, `a${++files}.db`)
    const first = await openOn(file)
    const answer = { state: 'done', response: { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '<xml>你好</xml>' } }
    assert.equal(first.store.local.addLocal('replay:abc', 'digest-1', 600_000), true)
    assert.equal(first.store.local.addLocal('dedup:m:1', { state: 'pending', since: 1, owner: 'x' }, 300_000), true)
    first.store.local.setLocal('dedup:m:1', answer, 300_000) // replaces the claim in place
    first.store.local.addLocal('dedup:m:2', { state: 'pending', since: 1, owner: 'x' }, 300_000)
    await turn()
    first.store.local.deleteLocalIf('dedup:m:2', { state: 'pending', since: 1, owner: 'x' })
    await turn()
    await first.close()

    const second = await openOn(file)
    assert.equal(second.store.local.getLocal('replay:abc'), 'digest-1')
    assert.deepEqual(second.store.local.getLocal('dedup:m:1'), answer)
    assert.equal(second.store.local.getLocal('dedup:m:2'), undefined)
    assert.equal(second.store.local.addLocal('replay:abc', 'digest-2', 600_000), false, 'a query seen before the restart is not new')
    await second.close()
  })

  test('a new journal has forgotten nothing; a journal write that fails moves the horizon, and a restart keeps it', async () => {
    let now = 1_800_000_000_000
    const file = join(dir, `b${++files}.db`)
    const first = await openOn(file, { now: () => now })
    assert.equal(first.store.wouldRemember('any', 1), true)
    first.store.local.addLocal('replay:1', 'd', 600_000)
    await turn()
    // the journal table goes away under the store: its next write fails
    await first.db.exec('ALTER TABLE wxmp_store_journal RENAME TO gone')
    now += 1000
    first.store.local.addLocal('replay:2', 'd', 600_000)
    await turn()
    await turn()
    assert.equal(first.store.wouldRemember('replay:2', now), false, 'what the failed write held may be missing after a restart')
    assert.equal(first.store.wouldRemember('replay:2', now + 1), true)
    await first.db.exec('ALTER TABLE gone RENAME TO wxmp_store_journal')
    now += 1000
    first.store.local.addLocal('replay:3', 'd', 600_000) // this row carries the horizon
    await turn()
    await first.close()
    const second = await openOn(file, { now: () => now })
    assert.equal(second.store.wouldRemember('replay:9', now - 1000), false)
    assert.equal(second.store.wouldRemember('replay:9', now - 999), true)
    await second.close()
  })

  test('records that expired are not loaded, and their rows are deleted', async () => {
    let now = 1_800_000_000_000
    const file = join(dir, `c${++files}.db`)
    const first = await openOn(file, { now: () => now })
    first.store.local.addLocal('short', 'x', 1000)
    first.store.local.addLocal('long', 'y', 600_000)
    await turn()
    now += 5000
    first.store.local.addLocal('later', 'z', 600_000) // a write also prunes (at most once a second)
    await turn()
    await turn()
    const rows = await first.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM wxmp_store_journal')
    assert.equal(Number(rows[0]!.n), 2, 'the row of the expired record is gone')
    await first.close()
    const second = await openOn(file, { now: () => now })
    assert.equal(second.store.local.getLocal('short'), undefined)
    assert.equal(second.store.local.getLocal('long'), 'y')
    await second.close()
  })

  test('under a flood the journal stays near two budgets, and what the ring let go moves the horizon past a restart', async () => {
    let now = 1_800_000_000_000
    const file = join(dir, `d${++files}.db`)
    const budgetBytes = 64 * 1024
    const first = await openOn(file, { now: () => now, budgetBytes })
    for (let t = 0; t < 400; t++) {
      now += 3
      for (let i = 0; i < 20; i++) first.store.local.addLocal(`replay:${t}:${i}`, 'x'.repeat(60), 600_000)
      await turn()
    }
    assert.equal(first.store.local.getLocal('replay:0:0'), undefined, 'the small budget overwrote live records')
    assert.equal(first.store.wouldRemember('replay:0:0', 1_800_000_000_003), false)
    const [size] = await first.db.all<{ bytes: number }>('SELECT COALESCE(SUM(LENGTH(records)), 0) AS bytes FROM wxmp_store_journal')
    assert.ok(Number(size!.bytes) <= 3 * budgetBytes, `journal holds ${size!.bytes} bytes`)
    await first.close()
    const second = await openOn(file, { now: () => now, budgetBytes })
    assert.equal(second.store.wouldRemember('replay:0:0', 1_800_000_000_003), false, 'after the restart, by the horizon the journal kept')
    assert.equal(second.store.local.getLocal('replay:399:19'), 'x'.repeat(60), 'the newest records are back')
    await second.close()
  })

  test('a journal write rides the group commit of the same turn: one transaction with the other statements', async () => {
    const file = join(dir, `e${++files}.db`)
    const { db, store, close } = await openOn(file)
    await db.exec('CREATE TABLE t (x INTEGER)')
    let commits = 0
    const raw = (db as unknown as { db: { exec(sql: string): unknown } }).db
    const exec = raw.exec.bind(raw)
    raw.exec = (sql: string) => {
      if (sql === 'COMMIT') commits++
      return exec(sql)
    }
    const inserted = db.run('INSERT INTO t (x) VALUES (1)')
    store.local.addLocal('replay:q', 'd', 600_000)
    await inserted
    assert.equal(commits, 1, 'one COMMIT for the row and the journal')
    const [row] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM wxmp_store_journal')
    assert.equal(Number(row!.n), 1)
    await close()
  })
})
