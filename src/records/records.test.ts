import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { POSTGRES_URL, serviceAvailable } from '../../test/support/services.js'
import type { MessageRecorder } from '../bot-options.js'
import { isWxmpError } from '../errors.js'
import type { InboundMessage } from './message-log.js'
import { MIGRATIONS, runMigrations } from './migrations.js'
import { openRecords, type OpenRecordsOptions, type Records } from './open-records.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-records-'))
const postgresUp = await serviceAvailable('postgres')
const schemas: string[] = []
after(async () => {
  rmSync(dir, { recursive: true, force: true })
  if (!postgresUp || schemas.length === 0) return
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await client.end()
})

/** A fresh, empty database per call: a new SQLite file, or a new PostgreSQL schema. */
interface Backend {
  name: 'sqlite' | 'postgres'
  skip: string | false
  fresh(): { url: string; options: OpenRecordsOptions }
}
let counter = 0
const backends: Backend[] = [
  { name: 'sqlite', skip: false, fresh: () => ({ url: `sqlite:${join(dir, `r${++counter}.db`)}`, options: {} }) },
  {
    name: 'postgres',
    skip: !postgresUp && 'PostgreSQL is not reachable',
    fresh: () => {
      const schema = `wxmp_records_${randomBytes(4).toString('hex')}`
      schemas.push(schema)
      return { url: POSTGRES_URL, options: { schema } }
    },
  },
]

const T0 = 1_790_000_000_000
function inbound(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    appId: 'wx0123456789abcdef',
    msgKey: `msg:${randomBytes(6).toString('hex')}`,
    openid: 'oUser1',
    msgType: 'text',
    msgId: '23456789012345678901',
    createTime: 1_790_000_000,
    rawXml: '<xml><Content><![CDATA[你好 🌏]]></Content></xml>',
    receivedAt: T0,
    encrypted: true,
    ...overrides,
  }
}

for (const backend of backends) {
  describe(`records on ${backend.name}`, { skip: backend.skip === false ? undefined : backend.skip }, () => {
    let records: Records
    let now = T0 + 5000
    before(async () => {
      const { url, options } = backend.fresh()
      records = await openRecords(url, { ...options, now: () => now })
    })
    after(async () => {
      await records?.close()
    })

    test('opening applies the schema once and reopening applies nothing', async () => {
      const { url, options } = backend.fresh()
      const first = await openRecords(url, options)
      assert.deepEqual(first.migration?.applied.map((m) => m.version), MIGRATIONS.map((m) => m.version))
      await first.close()
      const second = await openRecords(url, options)
      assert.deepEqual(second.migration, { applied: [], current: MIGRATIONS.length, unknown: [] })
      assert.deepEqual(await second.migrate(), { applied: [], current: MIGRATIONS.length, unknown: [] })
      await second.close()
    })

    test('two opens at the same moment both succeed and the schema is applied once', async () => {
      const { url, options } = backend.fresh()
      const both = await Promise.all([openRecords(url, options), openRecords(url, options)])
      const applied = both.map((r) => r.migration?.applied.length)
      assert.deepEqual(applied.sort(), [0, MIGRATIONS.length])
      await Promise.all(both.map((r) => r.close()))
    })

    test('a version recorded by a newer wxmp is reported, not an error', async () => {
      const { url, options } = backend.fresh()
      const opened = await openRecords(url, options)
      await opened.close()
      const reopened = await openRecords(url, { ...options, migrate: false })
      // Reach the database through a migration that only records itself.
      const { SqliteDatabase, PostgresDatabase } = await import('./sql-database.js')
      const db =
        backend.name === 'sqlite'
          ? new SqliteDatabase(url.slice('sqlite:'.length))
          : new PostgresDatabase(url, { schema: options.schema! })
      const future = [...MIGRATIONS, { version: 99, name: 'from the future', sql: 'CREATE TABLE wxmp_future (x INTEGER)' }]
      assert.deepEqual((await runMigrations(db, Date.now, future)).applied, [{ version: 99, name: 'from the future' }])
      await db.close()
      assert.deepEqual(await reopened.migrate(), { applied: [], current: 99, unknown: [99] })
      await reopened.close()
    })

    test('a database an older wxmp made (migrations 1–5, with a row) takes migration 6: the row kept, its retry still counted on it', async () => {
      const { url, options } = backend.fresh()
      const { SqliteDatabase, PostgresDatabase } = await import('./sql-database.js')
      const db = backend.name === 'sqlite' ? new SqliteDatabase(url.slice('sqlite:'.length)) : new PostgresDatabase(url, { schema: options.schema! })
      await runMigrations(db, Date.now, MIGRATIONS.filter((m) => m.version <= 5))
      const old = inbound()
      await db.run(
        'INSERT INTO wxmp_messages (app_id, msg_key, openid, msg_type, msg_id, create_time, raw_xml, encrypted, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [old.appId, old.msgKey, old.openid, old.msgType, old.msgId ?? null, old.createTime, old.rawXml, 1, old.receivedAt],
      )
      await db.close()
      const upgraded = await openRecords(url, options)
      try {
        assert.deepEqual(upgraded.migration?.applied.map((m) => m.version), [6])
        const id = await upgraded.messages.recordInbound(old)
        assert.equal((await upgraded.messages.get(id))?.deliveries, 2)
        assert.equal((await upgraded.messages.recent({ limit: 10 })).length, 1)
        // SQLite's retry key begins with CreateTime; PostgreSQL keeps the one older instances name
        const indexes =
          backend.name === 'sqlite'
            ? await upgraded.db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'wxmp_messages' AND name LIKE 'wxmp_messages_%'")
            : await upgraded.db.all<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE schemaname = ? AND tablename = 'wxmp_messages'", [options.schema!])
        const names = indexes.map((i) => i.name)
        if (backend.name === 'sqlite') assert.ok(names.includes('wxmp_messages_retry') && !names.includes('wxmp_messages_msg_key'), names.join(', '))
        else assert.ok(names.includes('wxmp_messages_msg_key') && !names.includes('wxmp_messages_retry'), names.join(', '))
      } finally {
        await upgraded.close()
      }
    })

    test('the message log satisfies the bot’s MessageRecorder', () => {
      const recorder: MessageRecorder = records.messages
      assert.equal(typeof recorder.recordInbound, 'function')
    })

    test('a message reads back exactly as it was recorded', async () => {
      const message = inbound({
        event: undefined,
        rawXml: `<xml><Content><![CDATA[a]]]]><![CDATA[>b ' " ; DROP TABLE wxmp_messages; -- ${'长'.repeat(20_000)}]]></Content></xml>`,
      })
      const id = await records.messages.recordInbound(message)
      assert.ok(Number.isSafeInteger(id) && id > 0)
      const row = await records.messages.get(id)
      assert.deepEqual(row, {
        id,
        appId: message.appId,
        account: 'default',
        msgKey: message.msgKey,
        openid: 'oUser1',
        msgType: 'text',
        event: null,
        msgId: '23456789012345678901',
        createTime: 1_790_000_000,
        rawXml: message.rawXml,
        encrypted: true,
        receivedAt: T0,
        deliveries: 1,
        replyVia: null,
        replyStatus: null,
        replyXml: null,
        latencyMs: null,
        error: null,
        completedAt: null,
      })
    })

    test('the outcome records the reply, how it left, the latency and the error', async () => {
      const id = await records.messages.recordInbound(inbound({ msgType: 'event', event: 'CLICK', msgId: undefined }))
      now = T0 + 9000
      await records.messages.recordOutcome(id, {
        replyXml: '<xml><MsgType><![CDATA[text]]></MsgType></xml>',
        replyVia: 'customer-service',
        replyStatus: 'out-of-window',
        latencyMs: 4712.6,
        error: Object.assign(new Error('response out of time limit'), { code: 'WX_ERR_API' }),
      })
      const row = await records.messages.get(String(id))
      assert.equal(row?.event, 'CLICK')
      assert.equal(row?.msgId, null)
      assert.equal(row?.replyVia, 'customer-service')
      assert.equal(row?.replyStatus, 'out-of-window')
      assert.equal(row?.latencyMs, 4713)
      assert.equal(row?.error, 'Error [WX_ERR_API]: response out of time limit')
      assert.equal(row?.completedAt, T0 + 9000)
      await records.messages.recordOutcome(id, { replyVia: 'none', latencyMs: 1, error: 'x'.repeat(10_000) })
      const again = await records.messages.get(id)
      assert.equal(again?.replyVia, 'none')
      assert.equal(again?.replyXml, null)
      assert.match(again?.error ?? '', /^x{4000}… \(10000 characters\)$/)
    })

    test('a retry of the same message counts a delivery on the same row', async () => {
      const message = inbound()
      const first = await records.messages.recordInbound(message)
      const retry = await records.messages.recordInbound({ ...message, receivedAt: T0 + 5000 })
      assert.equal(retry, first)
      const row = await records.messages.get(first)
      assert.equal(row?.deliveries, 2)
      assert.equal(row?.receivedAt, T0, 'the first delivery’s time is kept')
      const otherAccount = await records.messages.recordInbound({ ...message, appId: 'wxother' })
      assert.notEqual(otherAccount, first, 'the same key under another AppID is another message')
    })

    test('an outcome for an unknown id is WX_ERR_STORAGE; a malformed id is refused', async () => {
      await assert.rejects(
        records.messages.recordOutcome(987_654_321, { replyVia: 'none', latencyMs: 0 }),
        (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE') && /no row with id 987654321/.test(err.message),
      )
      for (const bad of [0, -1, 1.5, 'abc', '1; DROP TABLE x', Number.NaN]) {
        await assert.rejects(records.messages.recordOutcome(bad as number, { replyVia: 'none', latencyMs: 0 }), RangeError, String(bad))
      }
    })

    test('malformed inbound fields are refused by name and nothing is written', async () => {
      const before = (await records.messages.recent({ limit: 1000 })).length
      const cases: [Partial<Record<keyof InboundMessage, unknown>>, RegExp][] = [
        [{ appId: undefined }, /appId must be a string/],
        [{ openid: 42 }, /openid must be a string/],
        [{ msgKey: '' }, /msgKey must not be empty/],
        [{ msgId: 12345678901234567890 }, /msgId must be a string/],
        [{ createTime: '1790000000' }, /createTime/],
        [{ createTime: -5 }, /createTime/],
        [{ receivedAt: 1_790_000_000 }, /looks like seconds/],
        [{ receivedAt: Number.NaN }, /receivedAt/],
        [{ encrypted: 'yes' }, /encrypted must be a boolean/],
        [{ rawXml: Buffer.from('<xml/>') }, /rawXml must be a string/],
      ]
      for (const [override, message] of cases) {
        await assert.rejects(records.messages.recordInbound({ ...inbound(), ...override } as InboundMessage), message)
      }
      assert.equal((await records.messages.recent({ limit: 1000 })).length, before)
    })

    test('malformed outcomes are refused by name', async () => {
      const id = await records.messages.recordInbound(inbound())
      await assert.rejects(records.messages.recordOutcome(id, { replyVia: 'email' as 'none', latencyMs: 1 }), /replyVia must be one of/)
      await assert.rejects(
        records.messages.recordOutcome(id, { replyVia: 'passive', replyStatus: 'ok' as 'sent', latencyMs: 1 }),
        /replyStatus must be one of/,
      )
      await assert.rejects(records.messages.recordOutcome(id, { replyVia: 'passive', latencyMs: Number.NaN }), /latencyMs/)
      await assert.rejects(records.messages.recordOutcome(id, { replyVia: 'passive', replyXml: 5 as unknown as string, latencyMs: 1 }), /replyXml/)
      assert.equal((await records.messages.get(id))?.completedAt, null)
    })

    test('recent lists the latest rows oldest first, follows after an id, and filters', async () => {
      const { url, options } = backend.fresh()
      const log = await openRecords(url, options)
      const ids: number[] = []
      for (let i = 0; i < 6; i++) {
        ids.push(await log.messages.recordInbound(inbound({ openid: i % 2 === 0 ? 'oEven' : 'oOdd', appId: i < 5 ? 'wxA' : 'wxB' })))
      }
      assert.deepEqual((await log.messages.recent({ limit: 3 })).map((r) => r.id), ids.slice(3))
      assert.deepEqual((await log.messages.recent({ afterId: ids[1]!, limit: 2 })).map((r) => r.id), ids.slice(2, 4))
      assert.deepEqual((await log.messages.recent({ afterId: ids[5]! })).map((r) => r.id), [])
      assert.deepEqual((await log.messages.recent({ openid: 'oOdd' })).map((r) => r.id), [ids[1], ids[3], ids[5]])
      assert.deepEqual((await log.messages.recent({ appId: 'wxB' })).map((r) => r.id), [ids[5]])
      assert.deepEqual((await log.messages.recent({ appId: "wxA' OR '1'='1" })).map((r) => r.id), [])
      const shopId = await log.messages.recordInbound(inbound({ appId: 'wxS', msgKey: 'shop-1', account: 'shop' }))
      assert.deepEqual((await log.messages.recent({ account: 'shop' })).map((r) => [r.id, r.account]), [[shopId, 'shop']])
      assert.ok((await log.messages.recent({ account: 'default' })).every((r) => r.account === 'default'))
      for (const limit of [0, 1001, 2.5, -1]) await assert.rejects(log.messages.recent({ limit }), RangeError)
      await log.close()
    })

    test('prune deletes rows received before a time', async () => {
      const { url, options } = backend.fresh()
      const log = await openRecords(url, options)
      await log.messages.recordInbound(inbound({ receivedAt: T0 }))
      const kept = await log.messages.recordInbound(inbound({ receivedAt: T0 + 10_000 }))
      assert.equal(await log.messages.prune(T0 + 1), 1)
      assert.deepEqual((await log.messages.recent()).map((r) => r.id), [kept])
      await assert.rejects(log.messages.prune(1_790_000_000), /looks like seconds/)
      await log.close()
    })

    test('followers: state follows the latest event, retries are ignored, stats count and list', async () => {
      const { url, options } = backend.fresh()
      const clock = T0 + 48 * 3600_000
      const db = await openRecords(url, { ...options, now: () => clock })
      const f = db.followers
      const hour = 3600_000
      assert.equal(await f.record({ appId: 'wxA', openid: 'o1', event: 'subscribe', at: clock - 30 * hour, scene: 'qrscene_spring' }), true)
      assert.equal(await f.record({ appId: 'wxA', openid: 'o1', event: 'subscribe', at: clock - 30 * hour, scene: 'qrscene_spring' }), false, 'a retry')
      await f.record({ appId: 'wxA', openid: 'o2', event: 'subscribe', at: clock - 2 * hour })
      await f.record({ appId: 'wxA', openid: 'o3', event: 'subscribe', at: clock - 3 * hour })
      await f.record({ appId: 'wxA', openid: 'o3', event: 'unsubscribe', at: clock - hour })
      // An older event delivered late must not flip o3 back.
      await f.record({ appId: 'wxA', openid: 'o3', event: 'subscribe', at: clock - 5 * hour, scene: 'late' })
      await f.record({ appId: 'wxB', openid: 'o1', event: 'subscribe', at: clock - hour })

      assert.deepEqual(await f.get('wxA', 'o1'), {
        appId: 'wxA', openid: 'o1', subscribed: true, scene: 'qrscene_spring', subscribedAt: clock - 30 * hour, unsubscribedAt: null,
      })
      assert.deepEqual(await f.get('wxA', 'o3'), {
        appId: 'wxA', openid: 'o3', subscribed: false, scene: null, subscribedAt: clock - 3 * hour, unsubscribedAt: clock - hour,
      })
      assert.equal(await f.get('wxA', 'nobody'), undefined)

      const stats = await f.stats({ appId: 'wxA', recent: 2 })
      assert.equal(stats.subscribed, 2)
      assert.equal(stats.unsubscribed, 1)
      assert.deepEqual(stats.window, { since: clock - 24 * hour, subscribe: 3, unsubscribe: 1 })
      assert.deepEqual(stats.recent, [
        { appId: 'wxA', openid: 'o3', event: 'unsubscribe', at: clock - hour, scene: null, account: 'default' },
        { appId: 'wxA', openid: 'o2', event: 'subscribe', at: clock - 2 * hour, scene: null, account: 'default' },
      ])
      const all = await f.stats({ recent: 0, since: 0 })
      assert.equal(all.subscribed, 3)
      assert.deepEqual(all.window, { since: 0, subscribe: 5, unsubscribe: 1 })
      assert.deepEqual(all.recent, [])
      // several accounts: each change carries its account, and the stats filter by it
      await f.record({ appId: 'wxB', openid: 'o9', event: 'subscribe', at: clock - hour, account: 'shop' })
      const shop = await f.stats({ account: 'shop', since: 0 })
      assert.deepEqual([shop.subscribed, shop.recent.map((r) => [r.openid, r.account])], [1, [['o9', 'shop']]])
      assert.equal((await f.stats({ account: 'default', since: 0 })).subscribed, 3)
      await db.close()
    })

    test('followers: malformed changes are refused by name', async () => {
      const ok = { appId: 'wxA', openid: 'o1', event: 'subscribe' as const, at: T0 }
      await assert.rejects(records.followers.record({ ...ok, event: 'SCAN' as 'subscribe' }), /event must be one of subscribe, unsubscribe/)
      await assert.rejects(records.followers.record({ ...ok, at: 1_790_000_000 }), /looks like seconds/)
      await assert.rejects(records.followers.record({ ...ok, openid: '' }), /openid must not be empty/)
      await assert.rejects(records.followers.record({ ...ok, scene: 7 as unknown as string }), /scene must be a string/)
      await assert.rejects(records.followers.stats({ recent: 5000 }), RangeError)
      assert.equal(await records.followers.get('wxA', 'o1'), undefined)
    })
  })
}

test('a DATABASE_URL that is not SQLite or PostgreSQL is WX_ERR_CONFIG naming the variable', async () => {
  for (const bad of ['redis://127.0.0.1:6379/0', 'mysql://db/wxmp', '', './wxmp.db']) {
    await assert.rejects(
      openRecords(bad),
      (err: unknown) => isWxmpError(err, 'WX_ERR_CONFIG') && err.message.startsWith('DATABASE_URL ') && err.message.includes('sqlite:<file>'),
      bad,
    )
  }
})

test('memory: opens a throwaway SQLite database', async () => {
  const records = await openRecords('memory:')
  assert.equal(records.kind, 'sqlite')
  assert.ok((await records.messages.recordInbound(inbound())) > 0)
  await records.close()
})

test('a schema name that is not a plain identifier is refused', async () => {
  await assert.rejects(openRecords(POSTGRES_URL, { schema: 'x; DROP SCHEMA public' }), TypeError)
})

test('an unreachable PostgreSQL fails to open with WX_ERR_STORAGE naming it', async () => {
  await assert.rejects(
    openRecords('postgres://wxmp:pw@127.0.0.1:1/wxmp'),
    (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE') && err.message.includes('127.0.0.1:1') && !err.message.includes(':pw@'),
  )
})

test('PostgreSQL over its Unix socket, in the form node-postgres documents (postgres://user@/db?host=<folder>)', { skip: !postgresUp && 'PostgreSQL is not reachable' }, async () => {
  // where this server keeps its socket, asked over TCP (Debian: /var/run/postgresql)
  const client = new pg.Client(POSTGRES_URL)
  await client.connect()
  const folder = String((await client.query<{ unix_socket_directories: string }>('SHOW unix_socket_directories')).rows[0]?.unix_socket_directories).split(',')[0]!.trim()
  await client.end()
  const tcp = new URL(POSTGRES_URL)
  const socketUrl = `postgres://${tcp.username}@${tcp.pathname}?host=${encodeURIComponent(folder)}&port=${tcp.port || '5432'}`
  const schema = `wxmp_records_${randomBytes(4).toString('hex')}`
  schemas.push(schema)
  const records = await openRecords(socketUrl, { schema })
  try {
    const message = inbound()
    assert.ok((await records.messages.recordInbound(message)) > 0)
    assert.equal((await records.messages.recent({ limit: 5 })).find((row) => row.msgKey === message.msgKey)?.openid, 'oUser1')
  } finally {
    await records.close()
  }
})

test('a PostgreSQL socket URL that cannot connect names the socket folder in WX_ERR_STORAGE, never the password', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'wxmp-no-socket-'))
  try {
    await assert.rejects(
      openRecords(`postgres://wxmp:pw@/wxmp?host=${encodeURIComponent(folder)}`),
      (err: unknown) => isWxmpError(err, 'WX_ERR_STORAGE') && err.message.includes(`PostgreSQL at ${folder}/wxmp`) && !err.message.includes('pw'),
    )
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
})
