import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { InboundRecord, MessageRecorder, OutcomeRecord } from '../bot-options.js'
import { WxmpError } from '../errors.js'
import { openRecords, type Records } from './open-records.js'
import { SpoolingRecorder } from './spool.js'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'

const postgresUp = await serviceAvailable('postgres')

/** The real message log behind a switch: while `down`, every call fails like a lost connection. */
class SwitchableRecorder implements MessageRecorder {
  down = false
  readonly idOf: MessageRecorder['idOf']
  constructor(readonly inner: MessageRecorder) {
    this.idOf = inner.idOf?.bind(inner)
  }
  recordInbound(entry: InboundRecord) {
    return this.down ? Promise.reject(new WxmpError('WX_ERR_STORAGE', 'PostgreSQL at 127.0.0.1:5432/test failed on INSERT: connect ECONNREFUSED', { cause: new Error('ECONNREFUSED') })) : this.inner.recordInbound(entry)
  }
  recordOutcome(id: string | number, outcome: OutcomeRecord) {
    return this.down ? Promise.reject(new WxmpError('WX_ERR_STORAGE', 'connection terminated', { cause: new Error('terminated') })) : this.inner.recordOutcome(id, outcome)
  }
}

let seq = 0
function inbound(text: string): InboundRecord {
  const msgId = String(7_000_000_000_000_000_000n + BigInt(++seq))
  return { appId: 'wxspool', msgKey: `m:${msgId}`, openid: 'oSpool', msgType: 'text', event: undefined, msgId, createTime: 1_700_000_000, rawXml: `<xml><Content>${text}</Content></xml>`, receivedAt: 1_700_000_000_000, encrypted: false }
}
const outcome = (reply: string): OutcomeRecord => ({ replyXml: `<xml>${reply}</xml>`, replyVia: 'passive', latencyMs: 3, error: undefined })

const quiet = { info() {}, warn() {}, error() {} }
function capture() {
  const lines: string[] = []
  const log = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`)
  return { lines, logger: { info: log('info'), warn: log('warn'), error: log('error') } }
}

async function setup(): Promise<{ dir: string; records: Records; db: SwitchableRecorder }> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-spool-'))
  const records = await openRecords(`sqlite:${join(dir, 'log.db')}`)
  return { dir, records, db: new SwitchableRecorder(records.messages) }
}

/** The real followers behind the same kind of switch. */
class SwitchableFollowers {
  down = false
  constructor(readonly inner: Records['followers']) {}
  record(change: Parameters<Records['followers']['record']>[0]) {
    return this.down ? Promise.reject(new WxmpError('WX_ERR_STORAGE', 'PostgreSQL at 127.0.0.1:5432/test failed on INSERT: connect ECONNREFUSED')) : this.inner.record(change)
  }
}

describe('message log spool', () => {
  test('a subscribe and an unsubscribe made while the database is down are spooled in order with the messages and written when it is back', async () => {
    const { dir, records, db } = await setup()
    const followers = new SwitchableFollowers(records.followers)
    const spool = await SpoolingRecorder.open(db, { dir: join(dir, 'spool'), logger: quiet, retryMs: 60_000, followers })
    try {
      assert.equal(await spool.recordFollower({ appId: 'wxspool', openid: 'oEarly', event: 'subscribe', at: 1_700_000_000_000, scene: null }), true)
      db.down = true
      followers.down = true
      await spool.recordFollower({ appId: 'wxspool', openid: 'oFan', event: 'subscribe', at: 1_700_000_001_000, scene: 'poster' })
      await spool.recordInbound(inbound('hello while down'))
      await spool.recordFollower({ appId: 'wxspool', openid: 'oEarly', event: 'unsubscribe', at: 1_700_000_002_000, scene: null })
      assert.equal(spool.pending, 3)
      assert.match(readFileSync(spool.file, 'utf8'), /"op":"follower".*"oFan"/, 'the change is on disk before the call returns')

      db.down = false
      followers.down = false
      assert.equal(await spool.flush(), true)
      assert.deepEqual(await records.followers.get('wxspool', 'oFan'), { appId: 'wxspool', openid: 'oFan', subscribed: true, scene: 'poster', subscribedAt: 1_700_000_001_000, unsubscribedAt: null })
      assert.equal((await records.followers.get('wxspool', 'oEarly'))?.subscribed, false)
      const stats = await records.followers.stats({ appId: 'wxspool', since: 0 })
      assert.deepEqual([stats.window.subscribe, stats.window.unsubscribe], [2, 1])
    } finally {
      await spool.close()
      await records.close()
    }
  })


  test('while the database is down records go to the spool at once; they are written later, in order, nothing lost', async () => {
    const { dir, records, db } = await setup()
    const { lines, logger } = capture()
    const spool = await SpoolingRecorder.open(db, { dir: join(dir, 'spool'), logger, retryMs: 60_000 })
    try {
      const before = await spool.recordInbound(inbound('before'))
      assert.equal(typeof before, 'number', 'a healthy database gets the write directly')
      await spool.recordOutcome(before, outcome('r-before'))

      db.down = true
      const ids: Array<string | number> = []
      for (let i = 0; i < 30; i++) {
        const id = await spool.recordInbound(inbound(`down-${i}`))
        ids.push(id)
        await spool.recordOutcome(id, outcome(`r-down-${i}`))
      }
      assert.match(String(ids[0]), /^spool:/)
      assert.equal(spool.pending, 60)
      assert.equal(readFileSync(spool.file, 'utf8').trim().split('\n').length, 60, 'every record is on disk before the call returns')
      assert.equal(statSync(spool.file).mode & 0o777, 0o600, 'users\' messages are readable by this user only')
      assert.equal(lines.filter((l) => l.startsWith('warn')).length, 1, 'one warning for the outage')

      db.down = false
      assert.equal(await spool.flush(), true)
      assert.equal(existsSync(spool.file), false, 'an empty spool leaves no file')
      const rows = await records.messages.recent({ limit: 100 })
      assert.deepEqual(rows.map((r) => r.rawXml.match(/<Content>(.*)<\/Content>/)?.[1]), ['before', ...Array.from({ length: 30 }, (_, i) => `down-${i}`)])
      for (const row of rows) {
        assert.equal(row.replyXml, `<xml>r-${row.rawXml.match(/<Content>(.*)<\/Content>/)?.[1]}</xml>`, 'each outcome is tied to its own row')
        assert.equal(row.deliveries, 1)
      }
      assert.equal(spool.replayed, 60)
      assert.ok(lines.some((l) => l.startsWith('info message log spool drained')))
    } finally {
      await spool.close()
      await records.close()
    }
  })

  test('an outcome that arrives after its inbound record was replayed reaches the right row', async () => {
    const { dir, records, db } = await setup()
    const spool = await SpoolingRecorder.open(db, { dir: join(dir, 'spool'), logger: quiet, retryMs: 60_000 })
    try {
      db.down = true
      const ref = await spool.recordInbound(inbound('late'))
      db.down = false
      await spool.flush()
      await spool.recordOutcome(ref, outcome('late-reply')) // a late customer-service reply
      const [row] = await records.messages.recent({ limit: 1 })
      assert.equal(row?.replyXml, '<xml>late-reply</xml>')
    } finally {
      await spool.close()
      await records.close()
    }
  })

  test('on PostgreSQL, an outcome recorded by the row\'s reference reaches its row, straight in or through the spool, even spooled before its message', { skip: !postgresUp && 'PostgreSQL is not reachable' }, async () => {
    const schema = `wxmp_spool_${randomBytes(4).toString('hex')}`
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-spool-'))
    const records = await openRecords(POSTGRES_URL, { schema })
    const db = new SwitchableRecorder(records.messages)
    const spool = await SpoolingRecorder.open(db, { dir: join(dir, 'spool'), logger: quiet, retryMs: 60_000 })
    try {
      assert.equal(typeof spool.idOf, 'function', 'the spool hands out the log\'s references')
      const healthy = inbound('healthy')
      const written = spool.recordInbound(healthy)
      await spool.recordOutcome(spool.idOf!(healthy), outcome('r-healthy'))
      assert.equal((await records.messages.get(await written))?.replyXml, '<xml>r-healthy</xml>')

      db.down = true
      const spooled = inbound('spooled')
      assert.match(String(await spool.recordInbound(spooled)), /^spool:/)
      await spool.recordOutcome(spool.idOf!(spooled), outcome('r-spooled'))
      assert.equal(spool.pending, 2)
      db.down = false
      assert.equal(await spool.flush(), true)
      const rows = await records.messages.recent({ limit: 5 })
      assert.deepEqual(rows.map((r) => r.replyXml), ['<xml>r-healthy</xml>', '<xml>r-spooled</xml>'])
      // both writes failed together and the outcome's failure was spooled first: it still reaches its row
      db.down = true
      const reversed = inbound('reversed')
      await spool.recordOutcome(spool.idOf!(reversed), outcome('r-reversed'))
      await spool.recordInbound(reversed)
      db.down = false
      assert.equal(await spool.flush(), true)
      assert.deepEqual((await records.messages.recent({ limit: 5 })).map((r) => r.replyXml), ['<xml>r-healthy</xml>', '<xml>r-spooled</xml>', '<xml>r-reversed</xml>'])
      // a message the log refuses gets no reference: no outcome is recorded for a row that never comes
      assert.throws(() => spool.idOf!({ ...inbound('bad'), createTime: -1 }), RangeError)
    } finally {
      await spool.close()
      await records.close()
      const client = new pg.Client(POSTGRES_URL)
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await client.end()
    }
  })

  test('a spool left by a killed instance is adopted and written at the next start', async () => {
    const { dir, records, db } = await setup()
    const spoolDir = join(dir, 'spool')
    db.down = true
    const first = await SpoolingRecorder.open(db, { dir: spoolDir, logger: quiet, retryMs: 60_000 })
    const ref = await first.recordInbound(inbound('survives'))
    await first.recordOutcome(ref, outcome('survives-reply'))
    // the process "dies": its file stays, renamed as if written by a pid that no longer runs
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!
    const orphan = join(spoolDir, `spool-${deadPid}-dead0001@${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}.jsonl`)
    writeFileSync(orphan, readFileSync(first.file, 'utf8') + '{"op":"inbound","ref":"spool:cut') // torn last line
    await first.close({ flushMs: 0 })
    db.down = false
    const second = await SpoolingRecorder.open(db, { dir: spoolDir, logger: quiet, retryMs: 60_000 })
    try {
      assert.equal(second.pending, 0, 'adopted and written during open')
      assert.equal(existsSync(orphan), false)
      const rows = await records.messages.recent({ limit: 10 })
      assert.equal(rows.length, 1, 'the two copies (the dead file and the closed one) make one row')
      assert.equal(rows[0]?.replyXml, '<xml>survives-reply</xml>')
      assert.match(readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8'), /unreadable spool line/, 'the torn line is kept aside')
    } finally {
      await second.close()
      await records.close()
    }
  })

  test('two live spools in one folder never take each other\'s file', async () => {
    const { dir, records, db } = await setup()
    const spoolDir = join(dir, 'spool')
    db.down = true
    const a = await SpoolingRecorder.open(db, { dir: spoolDir, logger: quiet, retryMs: 60_000 })
    await a.recordInbound(inbound('a'))
    const b = await SpoolingRecorder.open(db, { dir: spoolDir, logger: quiet, retryMs: 60_000 })
    try {
      assert.equal(a.pending, 1)
      assert.equal(b.pending, 0)
      assert.equal(readdirSync(spoolDir).filter((n) => n.endsWith('.jsonl')).length, 1)
    } finally {
      await a.close({ flushMs: 0 })
      await b.close({ flushMs: 0 })
      await records.close()
    }
  })

  test('a record the database refuses while it answers is set aside after a few tries and does not block the rest', async () => {
    const { dir, records, db } = await setup()
    const spoolDir = join(dir, 'spool')
    const { lines, logger } = capture()
    const spool = await SpoolingRecorder.open(db, { dir: spoolDir, logger, retryMs: 60_000, maxAttempts: 2, probe: () => records.messages.recent({ limit: 1 }) })
    try {
      db.down = true
      await spool.recordOutcome(987654, outcome('for a row that was pruned'))
      const id = await spool.recordInbound(inbound('fine'))
      await spool.recordOutcome(id, outcome('fine-reply'))
      db.down = false
      assert.equal(await spool.flush(), false, 'first try: the refusal might be an outage')
      assert.equal(await spool.flush(), true, 'second try with the database answering: set aside')
      assert.match(readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8'), /no row with id 987654/)
      const [row] = await records.messages.recent({ limit: 1 })
      assert.equal(row?.replyXml, '<xml>fine-reply</xml>')
      assert.ok(lines.some((l) => l.startsWith('error message log refused a record')))
    } finally {
      await spool.close()
      await records.close()
    }
  })

  test('a hanging database counts as down after the write timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-spool-'))
    const hanging: MessageRecorder = { recordInbound: () => new Promise(() => {}), recordOutcome: () => new Promise(() => {}) }
    const spool = await SpoolingRecorder.open(hanging, { dir, logger: quiet, writeTimeoutMs: 20, retryMs: 60_000 })
    try {
      assert.match(String(await spool.recordInbound(inbound('hang'))), /^spool:/)
      assert.equal(spool.pending, 1)
    } finally {
      await spool.close({ flushMs: 0 })
    }
  })

  test('a record with a wrong field is the caller\'s bug: kept in the rejected file and thrown, not spooled', async () => {
    const { dir, records, db } = await setup()
    const spoolDir = join(dir, 'spool')
    const spool = await SpoolingRecorder.open(db, { dir: spoolDir, logger: quiet })
    try {
      await assert.rejects(spool.recordInbound({ ...inbound('x'), receivedAt: 1_700_000_000 }), /looks like seconds/)
      assert.equal(spool.pending, 0)
      assert.match(readFileSync(join(spoolDir, 'rejected.jsonl'), 'utf8'), /looks like seconds/)
    } finally {
      await spool.close()
      await records.close()
    }
  })
})
