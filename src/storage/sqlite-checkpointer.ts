/**
 * WAL checkpoints off the event loop. SQLite copies the write-ahead log back into the database
 * file every 1000 pages by default, inside whichever COMMIT crosses the mark: with
 * synchronous=NORMAL that COMMIT also fsyncs the log and the file, and the event loop stood
 * still meanwhile (the profile of the default configuration: more time in COMMIT than in every
 * INSERT together, and the p99 of every request that arrived during it). Here the connections
 * of this process write the log only (wal_autocheckpoint=0) and a worker thread with its own
 * connection checkpoints it (PASSIVE: it never blocks a writer, and the next writer restarts
 * the log from the top once it has all been copied). Durability is unchanged: a committed
 * transaction is in the log either way.
 *
 * One checkpointer per database file per process, shared by its connections (the records and
 * the key-value store), started with the first and ended with the last. If the worker cannot
 * start or dies, the connections go back to SQLite's own checkpoints.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'

/** Minimum time between two checkpoints requested after commits. */
const INTERVAL_MS = 100
/** SQLite's default auto-checkpoint, restored when the worker is gone. */
const AUTO_PAGES = 1000

// CommonJS, evaluated in the worker: opens the file and checkpoints when asked.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.filename, { fileMustExist: true })
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs)
db.pragma('wal_autocheckpoint = 0')
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close()
    parentPort.close()
    return
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage({ ok: true, result })
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) })
  }
})
`

interface Entry {
  worker: Worker | undefined
  connections: Set<Database.Database>
  busy: boolean
  lastAt: number
  failed: boolean
}

const checkpointers = new Map<string, Entry>()

/**
 * Hands the connection's checkpoints to the file's worker. Returns what to call after each
 * commit (cheap: at most one message per INTERVAL_MS) and what to call before closing it.
 */
export function shareCheckpointer(filename: string, db: Database.Database, busyTimeoutMs: number): { committed(): void; release(): Promise<void> } {
  let entry = checkpointers.get(filename)
  if (entry === undefined) {
    entry = { worker: undefined, connections: new Set(), busy: false, lastAt: 0, failed: false }
    checkpointers.set(filename, entry)
    entry.worker = startWorker(filename, busyTimeoutMs, entry)
  }
  const current = entry
  current.connections.add(db)
  if (current.worker !== undefined) db.pragma('wal_autocheckpoint = 0')
  return {
    committed() {
      const worker = current.worker
      if (worker === undefined || current.busy) return
      const now = Date.now()
      if (now - current.lastAt < INTERVAL_MS) return
      current.lastAt = now
      current.busy = true
      worker.postMessage('checkpoint')
    },
    async release() {
      current.connections.delete(db)
      if (current.connections.size > 0) return
      checkpointers.delete(filename)
      const worker = current.worker
      current.worker = undefined
      if (worker === undefined) return
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
      worker.ref() // an unref'd worker would let the event loop end before it is gone
      worker.postMessage('close')
      await exited
    },
  }
}

function startWorker(filename: string, busyTimeoutMs: number, entry: Entry): Worker | undefined {
  let worker: Worker
  try {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { filename, busyTimeoutMs, driver }, stdout: false, stderr: false })
  } catch {
    return undefined
  }
  worker.on('message', (message: { ok: boolean }) => {
    entry.busy = false
    if (!message.ok) backToSqlite(entry)
  })
  const gone = () => {
    if (entry.worker === worker) backToSqlite(entry)
  }
  worker.on('error', gone)
  worker.on('exit', gone)
  // after the listeners: adding a 'message' listener refs the worker again
  worker.unref()
  return worker
}

/** The worker failed: every connection checkpoints for itself again. */
function backToSqlite(entry: Entry): void {
  if (entry.failed) return
  entry.failed = true
  const worker = entry.worker
  entry.worker = undefined
  for (const db of entry.connections) {
    try {
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`)
    } catch {
      // closing meanwhile
    }
  }
  void worker?.terminate().catch(() => undefined)
}
