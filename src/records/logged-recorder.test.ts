import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { LoggedRecorder } from './logged-recorder.js'
import { BULK_SQL } from './message-log.js'
import { openRecords, type Records } from './open-records.js'
import type { SqliteDatabase } from './sql-database.js'

const root = mkdtempSync(join(tmpdir(), 'wxmp-logged-'))
after(() => rmSync(root, { recursive: true, force: true }))
let files = 0

async function open(options: { loadEveryMs?: number } = {}): Promise<{ records: Records; log: LoggedRecorder; dir: string; file: string; close(): Promise<void> }> {
  const file = join(root, `m${++files}.db`)
  const records = await openRecords(`sqlite:${file}`)
  const dir = `${file}-log`
  const log = await LoggedRecorder.open(records.messages, records.db as SqliteDatabase, { dir, ...options })
  return {
    records,
    log,
    dir,
    file,
    async close() {
      await log.close()
      await records.close()
    },
  }
}

const inbound = (n: number) => ({
  appId: 'wxlogged',
  msgKey: `m:${n}`,
  openid: `o${n % 3}`,
  msgType: 'text',
  event: undefined,
  msgId: String(10_000_000_000_000_000n + BigInt(n)),
  createTime: 1_700_000_000 + n,
  rawXml: `<xml><Content><![CDATA[消息 ${n} "quoted" \\ ]]></Content></xml>`,
  receivedAt: 1_700_000_000_000 + n,
  encrypted: n % 2 === 0,
})

describe('LoggedRecorder (the message log as the server writes it on a SQLite file)', () => {
  test('a message and its outcome become one row, visible to reads at once, with every field intact', async () => {
    const { records, log, close } = await open()
    try {
      const ref = await log.recordInbound(inbound(1))
      await log.recordOutcome(ref, { replyXml: '<xml>回复</xml>', replyVia: 'passive', replyStatus: undefined, latencyMs: 3, error: undefined })
      const [row] = await records.messages.recent({ limit: 5 })
      assert.equal(row?.msgKey, 'm:1')
      assert.equal(row?.rawXml, inbound(1).rawXml)
      assert.equal(row?.msgId, '10000000000000001')
      assert.equal(row?.encrypted, false)
      assert.equal(row?.replyXml, '<xml>回复</xml>')
      assert.equal(row?.replyVia, 'passive')
      assert.equal(row?.deliveries, 1)
    } finally {
      await close()
    }
  })

  test('text fields keep every character: ASCII and not, short and long, emoji included', async () => {
    const { records, log, close } = await open()
    try {
      const fields = [
        { openid: 'o测试😀', msgKey: `m:${'k'.repeat(96)}`, reply: '😀' },
        { openid: 'a'.repeat(95) + '😀', msgKey: `m:${'k'.repeat(95)}`, reply: 'é'.repeat(97) },
        { openid: 'x'.repeat(97), msgKey: 'm:é', reply: '' },
      ]
      for (const [i, f] of fields.entries()) {
        const ref = await log.recordInbound({ ...inbound(60 + i), openid: f.openid, msgKey: f.msgKey })
        await log.recordOutcome(ref, { replyXml: f.reply, replyVia: 'passive', replyStatus: undefined, latencyMs: 1, error: undefined })
      }
      const rows = await records.messages.recent({ limit: 10 })
      const byKey = (a: { msgKey: string }, b: { msgKey: string }) => (a.msgKey < b.msgKey ? -1 : 1)
      assert.deepEqual(rows.map((r) => ({ openid: r.openid, msgKey: r.msgKey, reply: r.replyXml })).sort(byKey), [...fields].sort(byKey))
    } finally {
      await close()
    }
  })

  test('an outcome that comes after its row was loaded updates it; a second outcome (a late reply) overwrites', async () => {
    const { records, log, close } = await open()
    try {
      const ref = await log.recordInbound(inbound(2))
      await log.flush()
      assert.equal((await records.messages.recent({ limit: 1 }))[0]?.replyVia, null)
      await log.recordOutcome(ref, { replyXml: undefined, replyVia: 'none', replyStatus: undefined, latencyMs: 4500, error: undefined })
      await log.recordOutcome(ref, { replyXml: '<xml>late</xml>', replyVia: 'customer-service', replyStatus: 'sent', latencyMs: 6000, error: undefined })
      const [row] = await records.messages.recent({ limit: 1 })
      assert.equal(row?.replyVia, 'customer-service')
      assert.equal(row?.replyStatus, 'sent')
      assert.equal(row?.replyXml, '<xml>late</xml>')
    } finally {
      await close()
    }
  })

  test('an outcome for a row loaded earlier finds it by its retry key through the index; a reference from before migration 6 (no CreateTime, as a pending answer may still hold) finds its row too', async () => {
    const { records, log, file, close } = await open()
    try {
      const refs = [await log.recordInbound(inbound(40)), await log.recordInbound(inbound(41)), await log.recordInbound(inbound(42))]
      await log.flush()
      assert.match(refs[0]!, /^log@8:wxlogged1700000040:m:40$/)
      await log.recordOutcome(refs[1]!, { replyXml: '<xml>41</xml>', replyVia: 'passive', replyStatus: undefined, latencyMs: 41, error: undefined })
      await log.recordOutcome('log:8:wxloggedm:40', { replyXml: '<xml>40</xml>', replyVia: 'customer-service', replyStatus: 'sent', latencyMs: 40, error: undefined })
      const rows = await records.messages.recent({ limit: 5 })
      assert.deepEqual(rows.map((r) => [r.msgKey, r.replyXml, r.replyVia]), [['m:40', '<xml>40</xml>', 'customer-service'], ['m:41', '<xml>41</xml>', 'passive'], ['m:42', null, null]])
      // the update by retry key must not scan the table
      const db = new Database(file, { readonly: true })
      try {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${BULK_SQL.outcomeByKey}`).all(...Array(9).fill(null)) as Array<{ detail: string }>
        assert.match(plan.map((p) => p.detail).join('; '), /USING INDEX wxmp_messages_retry/)
      } finally {
        db.close()
      }
    } finally {
      await close()
    }
  })

  test('appended in the turn: the id at once, the records written at the turn\'s end, one row', async () => {
    const { records, log, close } = await open()
    try {
      const ref = log.appendInbound(inbound(9))
      assert.equal(ref, log.idOf(inbound(9)))
      log.appendOutcome(ref, { replyXml: '<xml>回复</xml>', replyVia: 'passive', replyStatus: undefined, latencyMs: 2, error: undefined })
      assert.ok(log.pending > 0, 'in this turn\'s buffer')
      await new Promise((resolve) => setImmediate(resolve))
      const [row] = await records.messages.recent({ limit: 5 })
      assert.equal(row?.msgKey, 'm:9')
      assert.equal(row?.replyVia, 'passive')
    } finally {
      await close()
    }
  })

  test('rows keep the order the messages arrived in, whether their outcome came at once, later in the load, or not yet', async () => {
    const { records, log, close } = await open()
    try {
      const done = (replyXml: string) => ({ replyXml, replyVia: 'passive' as const, replyStatus: undefined, latencyMs: 1, error: undefined })
      const slow = log.appendInbound(inbound(20)) // its handler is still running
      const never = log.appendInbound(inbound(21)) // its outcome comes in a later load
      for (const n of [22, 23]) log.appendOutcome(log.appendInbound(inbound(n)), done(`<xml>${n}</xml>`))
      log.appendOutcome(slow, done('<xml>20</xml>'))
      log.appendOutcome(log.appendInbound(inbound(24)), done('<xml>24</xml>'))
      await log.flush()
      const rows = (await records.messages.recent({ limit: 10 })).sort((a, b) => Number(a.id) - Number(b.id))
      assert.deepEqual(rows.map((row) => row.msgKey), ['m:20', 'm:21', 'm:22', 'm:23', 'm:24'], 'ids follow arrival')
      assert.deepEqual(rows.map((row) => row.replyXml ?? null), ['<xml>20</xml>', null, '<xml>22</xml>', '<xml>23</xml>', '<xml>24</xml>'])
      log.appendOutcome(never, done('<xml>21</xml>'))
      await log.flush()
      assert.equal((await records.messages.recent({ limit: 10 })).find((row) => row.msgKey === 'm:21')?.replyXml, '<xml>21</xml>')
    } finally {
      await close()
    }
  })

  test('a retry recorded again counts a delivery on the same row', async () => {
    const { records, log, close } = await open()
    try {
      await log.recordInbound(inbound(3))
      await log.recordInbound(inbound(3))
      const rows = await records.messages.recent({ limit: 5 })
      assert.equal(rows.length, 1)
      assert.equal(rows[0]?.deliveries, 2)
    } finally {
      await close()
    }
  })

  test('bad input is refused with the field named, and nothing is written', async () => {
    const { records, log, close } = await open()
    try {
      await assert.rejects(log.recordInbound({ ...inbound(4), receivedAt: 1_700_000_000 }), /receivedAt/)
      await assert.rejects(log.recordOutcome('log:2:wxm:4', { replyXml: undefined, replyVia: 'sideways' as 'none', replyStatus: undefined, latencyMs: 1, error: undefined }), /replyVia/)
      await assert.rejects(log.recordOutcome('log:nonsense', { replyXml: undefined, replyVia: 'none', replyStatus: undefined, latencyMs: 1, error: undefined }), TypeError)
      // the appending forms (the bot's synchronous path) refuse the same, by throwing
      assert.throws(() => log.appendInbound({ ...inbound(4), receivedAt: 1_700_000_000 }), /receivedAt/)
      assert.throws(() => log.appendOutcome('log:nonsense', { replyXml: undefined, replyVia: 'none', replyStatus: undefined, latencyMs: 1, error: undefined }), TypeError)
      assert.throws(() => log.appendOutcome(7, { replyXml: undefined, replyVia: 'none', replyStatus: undefined, latencyMs: 1, error: undefined }), TypeError)
      // references cut short or with a CreateTime that is no number
      for (const bad of ['log@', 'log@x:wx', 'log@99:wx1:m:1', 'log@2:wx:m:1', 'log@2:wx17e3:m:1', 'log@2:wx-1:m:1', 'log@2:wx1700000000', 'log:'])
        assert.throws(() => log.appendOutcome(bad, { replyXml: undefined, replyVia: 'none', replyStatus: undefined, latencyMs: 1, error: undefined }), TypeError, bad)
      assert.equal(log.pending, 0, 'nothing appended')
      assert.deepEqual(await records.messages.recent({ limit: 5 }), [])
    } finally {
      await close()
    }
  })

  test('a write that fails (disk full) rejects, so that the spool can take the record', async () => {
    const { log, close } = await open()
    try {
      closeSync((log as unknown as { log: { fd: number } }).log.fd)
      await assert.rejects(log.recordInbound(inbound(5)))
    } finally {
      ;(log as unknown as { closed: boolean }).closed = true
      await close().catch(() => undefined)
    }
  })

  test('the XML columns come back as the same text, whichever statement loaded them (they are bound as bytes)', async () => {
    const { records, log, file, close } = await open()
    try {
      const odd = (tag: string) => `<xml><Content><![CDATA[${tag} 你好 😀 a\u0000b \ud800 "q" ' &amp;]]></Content></xml>`
      // inbound and outcome in one load (one INSERT), then an outcome for a row loaded earlier (an UPDATE)
      const first = await log.recordInbound({ ...inbound(7), rawXml: odd('in-7') })
      await log.recordOutcome(first, { replyXml: odd('out-7'), replyVia: 'passive', replyStatus: undefined, latencyMs: 1, error: undefined })
      const second = await log.recordInbound({ ...inbound(8), rawXml: '' })
      await log.flush()
      await log.recordOutcome(second, { replyXml: odd('out-8'), replyVia: 'passive', replyStatus: undefined, latencyMs: 1, error: undefined })
      const rows = await records.messages.recent({ limit: 5 })
      const byKey = new Map(rows.map((row) => [row.msgKey, row]))
      // a lone surrogate cannot be UTF-8: it is written as U+FFFD, as it was when bound as a string
      const stored = (text: string) => text.replace('\ud800', '\ufffd')
      assert.equal(byKey.get('m:7')?.rawXml, stored(odd('in-7')))
      assert.equal(byKey.get('m:7')?.replyXml, stored(odd('out-7')))
      assert.equal(byKey.get('m:8')?.rawXml, '')
      assert.equal(byKey.get('m:8')?.replyXml, stored(odd('out-8')))
      const db = new Database(file, { readonly: true })
      try {
        const types = db.prepare("SELECT typeof(raw_xml) AS raw, typeof(reply_xml) AS reply FROM wxmp_messages WHERE msg_key IN ('m:7', 'm:8')").all()
        assert.deepEqual(types, [{ raw: 'text', reply: 'text' }, { raw: 'text', reply: 'text' }])
      } finally {
        db.close()
      }
    } finally {
      await close()
    }
  })

  test('loaded files are deleted once finished; the folder holds only what is not loaded yet', async () => {
    const { log, dir, close } = await open()
    try {
      for (let n = 10; n < 20; n++) await log.recordInbound(inbound(n))
      await log.flush()
      assert.equal(log.pending, 0)
      assert.equal(readdirSync(dir).length, 1, 'only the file being written')
    } finally {
      await close()
    }
  })

  test('once the writes pause, another process sees the rows soon, without waiting for the periodic load', async () => {
    const { log, file, close } = await open({ loadEveryMs: 3_600_000 }) // only the load after a pause can do it
    const reader = new Database(file, { readonly: true })
    try {
      for (let n = 30; n < 35; n++) await log.recordInbound(inbound(n))
      const count = reader.prepare("SELECT COUNT(*) AS n FROM wxmp_messages WHERE msg_key LIKE 'm:3_'")
      while ((count.get() as { n: number }).n < 5) await new Promise((resolve) => setTimeout(resolve, 5))
    } finally {
      reader.close()
      await close()
    }
  })
})
