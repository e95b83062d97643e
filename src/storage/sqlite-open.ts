import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { loadDriver } from './load-driver.js'
import { storageError } from './storage-error.js'

/**
 * Opens a SQLite file the way every wxmp connection does: parent directory created, a busy
 * timeout for other processes' locks, WAL journal and synchronous=NORMAL — durable against
 * `kill -9` of the process (not against a power cut), with no fsync per commit.
 */
export function openSqlite(filename: string, busyTimeoutMs: number): Database.Database {
  const where = `SQLite ${filename}`
  const Sqlite = loadDriver('better-sqlite3')
  let db: Database.Database | undefined
  try {
    if (filename !== ':memory:' && filename !== '') mkdirSync(dirname(filename), { recursive: true })
    db = new Sqlite(filename)
    db.pragma(`busy_timeout = ${busyTimeoutMs}`)
    switchToWal(db, busyTimeoutMs)
    db.pragma('synchronous = NORMAL')
    return db
  } catch (err) {
    db?.close()
    throw storageError(where, 'open', err, 'is the directory writable and the file a SQLite database?')
  }
}

/**
 * Switching a fresh file to WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
 * (no busy handler) when another process is opening the same new file. Retried until the
 * timeout; this runs once, at startup, so a short synchronous wait is acceptable.
 */
function switchToWal(db: Database.Database, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err
      Atomics.wait(pause, 0, 0, 10 + Math.random() * 20)
    }
  }
}
