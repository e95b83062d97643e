import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'
import { isWxmpError } from '../errors.js'
import { openRecords } from './open-records.js'

const postgresUp = await serviceAvailable('postgres')
const schema = `wxmp_batch_${randomBytes(4).toString('hex')}`
after(async () => {
  if (!postgresUp) return
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
})

const message = (n: number, key = `m:${n}`) => ({
  appId: 'wxbatch',
  msgKey: key,
  openid: `o${n % 5}`,
  msgType: 'text',
  msgId: String(n),
  createTime: 1_700_000_000,
  rawXml: `<xml>${n}</xml>`,
  receivedAt: 1_700_000_000_000 + n,
  encrypted: false,
})

describe('the message log on PostgreSQL writes one turn in one round trip', { skip: !postgresUp && 'PostgreSQL is not reachable' }, () => {
  test('1 200 messages of one turn (three statements) get their own ids; a key twice in the turn counts two deliveries on one row', async () => {
    const records = await openRecords(POSTGRES_URL, { schema })
    try {
      const ids = await Promise.all([...Array.from({ length: 1200 }, (_, n) => records.messages.recordInbound(message(n))), records.messages.recordInbound(message(7))])
      assert.equal(new Set(ids.slice(0, 1200)).size, 1200)
      assert.equal(ids[1200], ids[7], 'the retry lands on the first row')
      const row = await records.messages.get(ids[7]!)
      assert.equal(row?.deliveries, 2)
      assert.equal(row?.rawXml, '<xml>7</xml>')

      // outcomes of one turn, one of them twice (the later wins), one for a row that is not there
      const outcome = (via: 'passive' | 'none') => ({ replyXml: `<xml>${via}</xml>`, replyVia: via, latencyMs: 5 })
      const done = await Promise.allSettled([
        ...ids.slice(0, 600).map((id) => records.messages.recordOutcome(id, outcome('none'))),
        records.messages.recordOutcome(ids[3]!, outcome('passive')),
        records.messages.recordOutcome(999_999_999, outcome('passive')),
      ])
      assert.equal(done.slice(0, 601).filter((d) => d.status === 'rejected').length, 0)
      const missing = done[601]!
      assert.ok(missing.status === 'rejected' && isWxmpError(missing.reason, 'WX_ERR_STORAGE'))
      assert.equal((await records.messages.get(ids[3]!))?.replyVia, 'passive')
      assert.equal((await records.messages.get(ids[4]!))?.replyVia, 'none')
    } finally {
      await records.close()
    }
  })

  test('a row PostgreSQL refuses fails alone: the others of its turn are written', async () => {
    const records = await openRecords(POSTGRES_URL, { schema })
    try {
      const results = await Promise.allSettled([
        records.messages.recordInbound(message(5000)),
        records.messages.recordInbound({ ...message(5001), rawXml: 'NUL \u0000 is not text in PostgreSQL' }),
        records.messages.recordInbound(message(5002)),
      ])
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled'])
      const keys = (await records.messages.recent({ limit: 5 })).map((r) => r.msgKey)
      assert.ok(keys.includes('m:5000') && keys.includes('m:5002') && !keys.includes('m:5001'))
    } finally {
      await records.close()
    }
  })

  test('an outcome recorded by reference before its INSERT leaves goes in it (one write, no UPDATE); after, by key; a refused row rejects its outcome too', async () => {
    const records = await openRecords(POSTGRES_URL, { schema })
    const statements: string[] = []
    const db = records.db as unknown as { all: (sql: string, params?: unknown[]) => Promise<unknown[]>; run: (sql: string, params?: unknown[]) => Promise<number> }
    const [all, run] = [db.all.bind(db), db.run.bind(db)]
    db.all = (sql, params) => (statements.push(sql.trim().split(/\s+/)[0]!), all(sql, params))
    db.run = (sql, params) => (statements.push(sql.trim().split(/\s+/)[0]!), run(sql, params))
    try {
      const log = records.messages
      const outcome = (text: string) => ({ replyXml: `<xml>${text}</xml>`, replyVia: 'passive' as const, latencyMs: 3, error: undefined })
      const first = message(6000)
      const refused = { ...message(6001), rawXml: 'NUL \u0000 is not text in PostgreSQL' }
      const plain = message(6002)
      const ref = log.idOf!(first)
      const written = [log.recordInbound(first), log.recordOutcome(ref, outcome('at once')), log.recordInbound(refused), log.recordOutcome(log.idOf!(refused), outcome('lost')), log.recordInbound(plain)]
      const results = await Promise.allSettled(written)
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'])
      assert.ok(!statements.includes('UPDATE'), `no UPDATE for an outcome that came in time: ${statements.join(', ')}`)
      const id = (results[0] as PromiseFulfilledResult<number>).value
      const row = await log.get(id)
      assert.equal(row?.replyXml, '<xml>at once</xml>')
      assert.equal(row?.replyVia, 'passive')
      assert.equal((await log.get((results[4] as PromiseFulfilledResult<number>).value))?.replyVia, null)

      // the row has left: the outcome updates it by key; a retry's INSERT without outcome keeps it, one with an outcome takes the newer
      await log.recordOutcome(ref, outcome('later'))
      assert.equal((await log.get(id))?.replyXml, '<xml>later</xml>')
      assert.equal(await log.recordInbound(first), id)
      assert.equal((await log.get(id))?.replyXml, '<xml>later</xml>', 'a retry without its outcome keeps the outcome')
      const again = log.recordInbound(first)
      await log.recordOutcome(ref, outcome('retry'))
      assert.equal(await again, id)
      const after = await log.get(id)
      assert.equal(after?.replyXml, '<xml>retry</xml>')
      assert.equal(after?.deliveries, 3)
      await assert.rejects(log.recordOutcome(log.idOf!(message(6999)), outcome('nobody')), (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE'))
      await assert.rejects(log.recordOutcome('log@99:wx', outcome('bad')), TypeError)
    } finally {
      await records.close()
    }
  })
  test('rows that waited while a statement was on its way leave in the next one before the finished rows\' messages go on', async () => {
    const records = await openRecords(POSTGRES_URL, { schema })
    const sent: number[] = []
    const db = records.db as unknown as { all: (sql: string, params?: unknown[]) => Promise<unknown[]> }
    const all = db.all.bind(db)
    db.all = (sql, params) => (sql.trimStart().startsWith('INSERT') && sent.push(params?.length ?? 0), all(sql, params))
    try {
      const log = records.messages
      const first = log.recordInbound(message(7000))
      // the next turn: the first statement is on its way, so these two wait for it
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(sent.length, 1)
      const waiting = [log.recordInbound(message(7001)), log.recordInbound(message(7002))]
      // what the first row's message does next runs after the waiting rows' statement has left
      const sentWhenFirstWentOn = await first.then(() => sent.length)
      assert.equal(sentWhenFirstWentOn, 2, 'the next INSERT leaves before the finished row\'s waiter runs')
      assert.deepEqual(sent, [11, 22])
      const ids = await Promise.all(waiting)
      assert.equal(new Set([await first, ...ids]).size, 3)
      assert.equal((await log.get(ids[1]!))?.msgKey, 'm:7002')
    } finally {
      await records.close()
    }
  })
})
