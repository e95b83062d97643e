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
// 8 MB: a load's dirty pages fit, so few are written twice. The per-follower index takes each
// row on its follower's page, so a load touches one leaf page per follower who wrote: at 4 MB a
// load from about a thousand followers no longer fit, pages spilled to the WAL mid-load and were
// written again at COMMIT (this thread's CPU per message about a third higher, bench/README.md).
db.pragma('cache_size = -8000')
db.pragma('wal_autocheckpoint = 0') // this thread checkpoints, between batches
const fs = require('node:fs')
// A bulk load can wait; the webhook's answers cannot. At a lower scheduling priority (on Linux
// a thread's nice value is its own) this thread runs on a core the request thread leaves idle
// instead of taking turns with it, so its loads stay out of the answers' tail latency.
try {
  const os = require('node:os')
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop())
  // relative, as nice(1) is: a process already started at a lower priority goes lower still
  os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.nice))
} catch {
  // not Linux, or not allowed: the thread keeps the process's priority
}
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
      const op = { kind, insert: wire[at++], insertDone: wire[at++], outcome: wire[at++], outcomeAlone: wire[at++], state: wire[at++], ranges: [] }
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
// loaded here in one transaction, streamed in 256 KiB reads with a bounded window of rows: an
// inbound record waits in the window for its outcome (usually a few records on), so that the
// two become one INSERT; an outcome whose row was inserted before updates it by (app_id,
// create_time, msg_key), or by (app_id, msg_key) when it was appended before migration 6. The
// files' offsets are saved in the same transaction: each record loads once.
// A record: u32 length (all of it), u8 kind (1 inbound, 2 outcome without CreateTime, 3 outcome),
// u8 field count, then each field as u8 tag (0 null, 1 f64, 2 u32 length + UTF-8).
let READ = Buffer.allocUnsafeSlow(256 * 1024)
const WINDOW = 2048
// The field that holds a record's XML (raw_xml of an inbound, reply_xml of an outcome), by
// kind: it stays UTF-8 bytes, copied out of READ (which the next read overwrites), and the
// bulk statements CAST it to TEXT (src/records/message-log.ts, BULK_SQL). Decoding it into a
// string for better-sqlite3 to encode back cost about a tenth of this thread's time per message.
const BYTES_FIELD = [-1, 8, 5, 6]
function decodeRecord(buf, at) {
  const fields = new Array(buf[at + 5])
  const bytesField = BYTES_FIELD[buf[at + 4]] ?? -1
  let p = at + 6
  for (let i = 0; i < fields.length; i++) {
    const tag = buf[p++]
    if (tag === 0) fields[i] = null
    else if (tag === 1) {
      fields[i] = buf.readDoubleLE(p)
      p += 8
    } else if (tag === 2) {
      const length = buf.readUInt32LE(p)
      if (i === bytesField) {
        const bytes = Buffer.allocUnsafe(length)
        buf.copy(bytes, 0, p + 4, p + 4 + length)
        fields[i] = bytes
      } else fields[i] = buf.utf8Slice(p + 4, p + 4 + length)
      p += 4 + length
    } else throw new Error('unknown field tag ' + tag)
  }
  return fields
}
function ingest(op) {
  const insert = prepare(op.insert, false)
  const insertDone = prepare(op.insertDone, false)
  const update = prepare(op.outcome, false)
  const updateAlone = prepare(op.outcomeAlone, false)
  const state = prepare(op.state, false)
  const waiting = new Map() // ref -> { params, outcome }, oldest first
  let rows = 0
  let updates = 0
  let bad = 0
  const put = (row) => {
    if (row.outcome === undefined) insert.run(...row.params)
    else insertDone.run(...row.params, ...row.outcome)
    rows++
  }
  // the oldest rows that have their outcome go in now: rows go in in arrival order (their ids
  // follow it), and a row held back in the window until the window is full lived long enough for
  // the garbage collector to promote it (most of this thread's collection work)
  const putReady = () => {
    for (const [ref, row] of waiting) {
      if (row.outcome === undefined) return
      waiting.delete(ref)
      put(row)
    }
  }
  const record = (kind, fields) => {
    if (kind === 1) {
      const ref = fields[0]
      const earlier = waiting.get(ref)
      if (earlier !== undefined) {
        waiting.delete(ref) // a retry recorded again: the first goes in first
        put(earlier)
      }
      const params = fields.slice(1)
      // appended before migration 5 (no account): the environment-variable account's
      if (params.length === 10) params.push('default')
      waiting.set(ref, { params, outcome: undefined })
      if (waiting.size > WINDOW) {
        const [oldest, row] = waiting.entries().next().value
        waiting.delete(oldest)
        put(row)
      }
    } else if (kind === 2 || kind === 3) {
      // ref, app_id, create_time (kind 3 only), msg_key, then the outcome's six values
      const row = waiting.get(fields[0])
      const outcome = fields.slice(kind + 1)
      if (row !== undefined) {
        row.outcome = outcome
        putReady()
      } else {
        if (kind === 3) update.run(...outcome, fields[1], fields[2], fields[3])
        else updateAlone.run(...outcome, fields[1], fields[2])
        updates++
      }
    } else bad++
  }
  for (const [path, from, to] of op.ranges) {
    const fd = fs.openSync(path, 'r')
    try {
      let at = from // file offset of READ[0]
      let have = 0 // bytes in READ
      while (at + have < to || have > 0) {
        if (at + have < to && have < READ.length) {
          const n = fs.readSync(fd, READ, have, Math.min(READ.length - have, to - at - have), at + have)
          if (n === 0 && have === 0) break
          have += n
        }
        let p = 0
        while (p + 6 <= have) {
          const length = READ.readUInt32LE(p)
          if (length < 6) {
            bad++
            p = have
            at = to // unreadable from here on: the rest is skipped, once
            break
          }
          if (p + length > have) break
          try {
            record(READ[p + 4], decodeRecord(READ, p))
          } catch (err) {
            if (err && err.code) throw err // SQLite failed: the load fails
            bad++
          }
          p += length
        }
        if (p === 0 && have > 0) {
          if (at + have >= to) {
            bad++ // a record cut short (the writer died mid-write)
            break
          }
          const length = READ.readUInt32LE(0)
          if (length > READ.length) {
            const grown = Buffer.allocUnsafeSlow(length)
            READ.copy(grown, 0, 0, have)
            READ = grown
          }
          continue
        }
        READ.copy(READ, 0, p, have)
        at += p
        have -= p
      }
    } finally {
      fs.closeSync(fd)
    }
  }
  for (const row of waiting.values()) put(row)
  for (const [path, , to] of op.ranges) state.run(path, to)
  return { rows, updates, bad }
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
    // a load always runs in a transaction: its rows and its saved offsets commit together
    if (!own && !db.inTransaction && (ops.length - i > 1 || op.kind === 5)) {
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
  // the WAL back into the file, off the event loop, every 5 s: a page changed by many
  // loads in between (the per-follower index) is copied once
  if (Date.now() - checkpointedAt >= 5000) {
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
