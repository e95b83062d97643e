/**
 * The code of the SQLite writer thread (src/records/sqlite-writer.ts), as CommonJS source that
 * the Worker evaluates: no build step, and the same file under tsx and from dist/. It owns one
 * connection to the database file: runs each batch of statements in one transaction, loads the
 * message log's appended records in bulk, and checkpoints the WAL between batches.
 */
export const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.filename, { fileMustExist: true })
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs)
db.pragma('synchronous = NORMAL')
db.pragma('wal_autocheckpoint = 0') // this thread checkpoints, between batches
const fs = require('node:fs')
let checkpointedAt = Date.now()
// statements by the number the client gave them (the SQL text crosses once)
const texts = new Map()
const statements = new Map()
const plucked = new Map()
function prepare(id, pluck) {
  const cache = pluck ? plucked : statements
  let statement = cache.get(id)
  if (statement === undefined) {
    statement = db.prepare(texts.get(id))
    if (pluck) statement.pluck()
    cache.set(id, statement)
  }
  return statement
}
// decodes the flat wire array into ops
function decode(wire) {
  const ops = []
  for (let at = 0; at < wire.length; ) {
    const kind = wire[at++]
    if (kind === 3) {
      ops.push({ kind, sql: wire[at++] })
    } else if (kind === 5) {
      const op = { kind, insert: wire[at++], insertDone: wire[at++], outcome: wire[at++], state: wire[at++], ranges: [] }
      const count = wire[at++]
      for (let k = 0; k < count; k++) op.ranges.push([wire[at++], wire[at++], wire[at++]])
      ops.push(op)
    } else if (kind === 4) {
      const count = wire[at++]
      const steps = []
      for (let k = 0; k < count; k++) {
        const statement = wire[at++]
        const n = wire[at++]
        steps.push({ statement, params: wire.slice(at, at + n) })
        at += n
      }
      ops.push({ kind, steps })
    } else {
      const statement = wire[at++]
      const n = wire[at++]
      ops.push({ kind, statement, params: wire.slice(at, at + n) })
      at += n
    }
  }
  return ops
}
function sqlOf(op) {
  if (op === 'COMMIT') return 'COMMIT'
  if (op.kind === 3) return op.sql
  if (op.kind === 5) return texts.get(op.insert)
  return texts.get(op.kind === 4 ? op.steps[0] && op.steps[0].statement : op.statement) || 'batch'
}
// The message log's records, appended to files on the event loop (src/records/logged-recorder.ts),
// loaded here in one transaction: an inbound record and its outcome in the same load become one
// INSERT; an outcome whose inbound was loaded before updates the row by (app_id, msg_key). The
// files' offsets are saved in the same transaction, so a record is loaded exactly once.
function ingest(op) {
  const rows = []
  const byRef = new Map()
  const updates = []
  let bad = 0
  for (const [path, from, to] of op.ranges) {
    const fd = fs.openSync(path, 'r')
    const buf = Buffer.allocUnsafe(to - from)
    let done = 0
    try {
      while (done < buf.length) {
        const n = fs.readSync(fd, buf, done, buf.length - done, from + done)
        if (n === 0) break
        done += n
      }
    } finally {
      fs.closeSync(fd)
    }
    const text = buf.toString('utf8', 0, done)
    let start = 0
    for (;;) {
      const end = text.indexOf('\\n', start)
      if (end === -1) break
      const line = text.slice(start, end)
      start = end + 1
      let record
      try {
        record = JSON.parse(line)
      } catch {
        bad++
        continue
      }
      if (record[0] === 'i') {
        const row = { params: record.slice(2), outcome: undefined }
        rows.push(row)
        byRef.set(record[1], row)
      } else if (record[0] === 'o') {
        const row = byRef.get(record[1])
        const outcome = record.slice(4)
        if (row !== undefined && row.outcome === undefined) row.outcome = outcome
        else updates.push(outcome.concat([record[2], record[3]]))
      } else bad++
    }
  }
  const insert = prepare(op.insert, false)
  const insertDone = prepare(op.insertDone, false)
  const outcome = prepare(op.outcome, false)
  const state = prepare(op.state, false)
  for (const row of rows) {
    if (row.outcome === undefined) insert.run(...row.params)
    else insertDone.run(...row.params, ...row.outcome)
  }
  for (const update of updates) outcome.run(...update)
  for (const [path, , to] of op.ranges) state.run(path, to)
  return { rows: rows.length, updates: updates.length, bad }
}
function runOne(op) {
  if (op.kind === 5) return ingest(op)
  if (op.kind === 1) return prepare(op.statement, true).get(...op.params)
  if (op.kind === 0) return prepare(op.statement, false).all(...op.params)
  if (op.kind === 2) return prepare(op.statement, false).run(...op.params).changes
  db.exec('SAVEPOINT wxmp_batch')
  try {
    const changes = op.steps.map((s) => prepare(s.statement, false).run(...s.params).changes)
    db.exec('RELEASE wxmp_batch')
    return changes
  } catch (err) {
    if (db.inTransaction) {
      db.exec('ROLLBACK TO wxmp_batch')
      db.exec('RELEASE wxmp_batch')
    }
    throw err
  }
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close()
    parentPort.close()
    return
  }
  if (message.texts !== undefined) for (const [id, sql] of message.texts) texts.set(id, sql)
  const ops = decode(message.wire)
  const values = new Array(ops.length)
  let failed // index -> [message, code, sql]
  const fail = (i, err, op) => {
    failed = failed || new Map()
    failed.set(i, [String((err && err.message) || err), err && typeof err.code === 'string' ? err.code : undefined, sqlOf(op)])
  }
  let own = false
  let opened = 0 // first op of the current transaction
  const commit = (upTo) => {
    if (!own) return
    own = false
    try {
      db.exec('COMMIT')
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK')
      for (let k = opened; k < upTo; k++) if (!(failed && failed.has(k))) fail(k, err, 'COMMIT')
    }
  }
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]
    if (op.kind === 3) {
      commit(i)
      try {
        db.exec(op.sql)
      } catch (err) {
        fail(i, err, op)
      }
      continue
    }
    if (!own && !db.inTransaction && ops.length - i > 1) {
      try {
        db.exec('BEGIN IMMEDIATE')
        own = true
        opened = i
      } catch {
        own = false // the lock is busy beyond busy_timeout: each statement tries on its own
      }
    }
    try {
      values[i] = runOne(op)
    } catch (err) {
      fail(i, err, op)
      if (own && !db.inTransaction) {
        // SQLite rolled the whole transaction back (disk full, I/O error): what ran before is gone
        for (let k = opened; k < i; k++) if (!failed.has(k)) fail(k, err, ops[k])
        own = false
      }
    }
  }
  commit(ops.length)
  // the WAL back into the file, off the event loop and at most five times a second
  if (Date.now() - checkpointedAt >= 200) {
    checkpointedAt = Date.now()
    try {
      db.pragma('wal_checkpoint(PASSIVE)')
    } catch {
      // busy or failing: the next batch tries again
    }
  }
  const answer = { id: message.id, values }
  if (failed !== undefined) answer.errors = [...failed].map(([i, e]) => [i, e[0], e[1], e[2]])
  parentPort.postMessage(answer)
})
`
