import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteDatabase } from './sql-database.js'
import { isWxmpError } from '../errors.js'

function freshDatabase(): { db: SqliteDatabase; file: string; done: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-sqldb-'))
  const file = join(dir, 'test.db')
  const db = new SqliteDatabase(file)
  return { db, file, done: async () => (await db.close(), rmSync(dir, { recursive: true, force: true })) }
}

test('statements of one turn are committed together, each promise settled after the commit', async (t) => {
  const { db, file, done } = freshDatabase()
  t.after(done)
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)')
  const inserted = await Promise.all(Array.from({ length: 50 }, (_, i) => db.all<{ id: number }>('INSERT INTO t (v) VALUES (?) RETURNING id', [`v${i}`])))
  assert.deepEqual(
    inserted.map((rows) => rows[0]!.id),
    Array.from({ length: 50 }, (_, i) => i + 1),
  )
  // another connection sees every row as soon as the promises resolved: committed, not pending
  const other = new SqliteDatabase(file)
  t.after(() => other.close())
  assert.deepEqual(await other.all('SELECT count(*) AS n FROM t'), [{ n: 50 }])
})

test('order is kept within a turn, and a failing statement rejects only its own promise', async (t) => {
  const { db, done } = freshDatabase()
  t.after(done)
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)')
  const first = db.run('INSERT INTO t (v) VALUES (?)', ['a'])
  const duplicate = db.run('INSERT INTO t (v) VALUES (?)', ['a'])
  const update = db.run('UPDATE t SET v = ? WHERE v = ?', ['b', 'a'])
  const read = db.all('SELECT v FROM t')
  assert.equal(await first, 1)
  await assert.rejects(duplicate, (err) => isWxmpError(err, 'WX_ERR_STORAGE') && /UNIQUE/.test((err as Error).message))
  assert.equal(await update, 1)
  assert.deepEqual(await read, [{ v: 'b' }])
})

test('exec and batch run after what was queued before them; close settles the queue first', async (t) => {
  const { db, done } = freshDatabase()
  t.after(done)
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  const queued = db.run('INSERT INTO t (v) VALUES (?)', ['queued'])
  await db.batch([{ sql: 'UPDATE t SET v = ? WHERE v = ?', params: ['batched', 'queued'] }])
  assert.equal(await queued, 1)
  assert.deepEqual(await db.all('SELECT v FROM t'), [{ v: 'batched' }])
  const last = db.run('INSERT INTO t (v) VALUES (?)', ['last'])
  await db.close()
  assert.equal(await last, 1)
  await assert.rejects(db.run('INSERT INTO t (v) VALUES (?)', ['after close']), (err) => isWxmpError(err, 'WX_ERR_STORAGE'))
})

test('inside exclusive() queued statements join its transaction', async (t) => {
  const { db, done } = freshDatabase()
  t.after(done)
  await db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)')
  await assert.rejects(
    db.exclusive(async (tx) => {
      await tx.run('INSERT INTO t (v) VALUES (?)', ['rolled back'])
      throw new Error('abort')
    }),
    /abort/,
  )
  assert.deepEqual(await db.all('SELECT v FROM t'), [])
  await db.exclusive(async (tx) => tx.run('INSERT INTO t (v) VALUES (?)', ['kept']))
  assert.deepEqual(await db.all('SELECT v FROM t'), [{ v: 'kept' }])
})
