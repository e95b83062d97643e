import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../../errors.js'
import { openRecords } from '../../records/open-records.js'
import { MIGRATIONS } from '../../records/migrations.js'
import type { InboundMessage } from '../../records/message-log.js'
import { formatMessage, runDbMigrate, runFollowers, runLogTail } from './db.js'

const LATEST = Math.max(...MIGRATIONS.map((m) => m.version))

const dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-db-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0
const freshConfig = () => ({ databaseUrl: `sqlite:${join(dir, `cli${++counter}.db`)}` })
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0)

function message(n: number, overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    appId: 'wxA',
    msgKey: `k${n}`,
    openid: `oUser${n}`,
    msgType: 'text',
    msgId: String(10_000_000_000_000_000_000n + BigInt(n)),
    createTime: Math.floor(T0 / 1000) + n,
    rawXml: `<xml><Content><![CDATA[hello ${n}]]></Content></xml>`,
    receivedAt: T0 + n * 1000,
    encrypted: false,
    ...overrides,
  }
}

function collect(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = []
  return { lines, print: (line) => lines.push(line) }
}

test('db migrate applies the schema once, then reports it up to date', async () => {
  const config = freshConfig()
  const first = collect()
  assert.equal(await runDbMigrate(config, first.print), 0)
  assert.match(first.lines[0]!, /^database: SQLite .*cli\d+\.db$/)
  assert.match(first.lines[1]!, /^applied migration 1: message log and followers$/)
  const latest = Math.max(...MIGRATIONS.map((m) => m.version))
  assert.equal(first.lines.at(-1)!, `schema is now at version ${latest}`)
  const second = collect()
  assert.equal(await runDbMigrate(config, second.print), 0)
  assert.deepEqual(second.lines.slice(1), [`schema is up to date (version ${latest})`])
})

test('db migrate with a DATABASE_URL that is not SQL is WX_ERR_CONFIG naming it', async () => {
  await assert.rejects(runDbMigrate({ databaseUrl: 'redis://127.0.0.1:6379/0' }, () => {}), (err: unknown) =>
    isWxmpError(err, 'WX_ERR_CONFIG') && err.message.startsWith('DATABASE_URL'),
  )
})

test('log tail --once prints the latest messages oldest first, filtered and as JSON', async () => {
  const config = freshConfig()
  const records = await openRecords(config.databaseUrl)
  for (let n = 1; n <= 5; n++) {
    const id = await records.messages.recordInbound(message(n, n === 5 ? { appId: 'wxB' } : {}))
    if (n !== 3) await records.messages.recordOutcome(id, { replyVia: 'passive', replyXml: `<xml>${n}</xml>`, latencyMs: n })
  }
  await records.close()

  const plain = collect()
  assert.equal(await runLogTail(['-n', '3', '--once'], config, plain.print), 0)
  assert.equal(plain.lines.length, 3)
  assert.equal(plain.lines[0], '2026-11-24T12:00:03.000Z  #3  oUser3  text  "hello 3"  → pending')
  assert.equal(plain.lines[1], '2026-11-24T12:00:04.000Z  #4  oUser4  text  "hello 4"  → passive 4ms')

  const filtered = collect()
  await runLogTail(['--app', 'wxB', '--once'], config, filtered.print)
  assert.deepEqual(filtered.lines.map((l) => l.split('  ')[1]), ['#5'])

  const json = collect()
  await runLogTail(['--openid', 'oUser2', '--json', '--once'], config, json.print)
  assert.equal(json.lines.length, 1)
  assert.equal(JSON.parse(json.lines[0]!).msgId, '10000000000000000002')

  const xml = collect()
  await runLogTail(['-n', '1', '--xml', '--once'], config, xml.print)
  assert.match(xml.lines[0]!, /\n {2}in : <xml><Content><!\[CDATA\[hello 5\]\]><\/Content><\/xml>\n {2}out: <xml>5<\/xml>$/)
})

test('log tail follows new messages, prints a pending one once it completes, and stops on abort', async () => {
  const config = freshConfig()
  const records = await openRecords(config.databaseUrl)
  const first = await records.messages.recordInbound(message(1, { receivedAt: Date.now() }))
  await records.messages.recordOutcome(first, { replyVia: 'passive', latencyMs: 1 })
  const out = collect()
  const controller = new AbortController()
  const seen = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        if (out.lines.length >= count) return resolve()
        if (Date.now() - started > 10_000) return reject(new Error(`only ${out.lines.length} lines: ${out.lines.join('\n')}`))
        setTimeout(check, 20)
      }
      check()
    })
  const tail = runLogTail(['--interval', '100'], config, out.print, { signal: controller.signal })
  try {
    await seen(1)
    const pending = await records.messages.recordInbound(message(2, { receivedAt: Date.now() }))
    const done = await records.messages.recordInbound(message(3, { receivedAt: Date.now() }))
    await records.messages.recordOutcome(done, { replyVia: 'customer-service', replyStatus: 'sent', latencyMs: 4800 })
    await seen(2)
    assert.match(out.lines[1]!, /#3 .*→ customer-service\/sent 4800ms/, 'a completed message is not held back by a pending one before it')
    await records.messages.recordOutcome(pending, { replyVia: 'none', latencyMs: 7, error: 'handler threw' })
    await seen(3)
    assert.match(out.lines[2]!, /#2 .*→ none 7ms  error: handler threw$/)
  } finally {
    controller.abort()
    assert.equal(await tail, 0)
    await records.close()
  }
  assert.equal(out.lines.length, 3, 'each message exactly once')
})

test('log tail refuses bad option values as usage errors', async () => {
  const config = freshConfig()
  for (const args of [['-n', '0'], ['-n', 'ten'], ['--interval', '5'], ['-n', '1e3']]) {
    await assert.rejects(runLogTail(args, config, () => {}), (err: unknown) => (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', args.join(' '))
  }
  await assert.rejects(runLogTail(['--bogus'], config, () => {}), (err: unknown) => (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
})

test('followers prints counts, the window and the latest changes', async () => {
  const config = freshConfig()
  const now = T0 + 48 * 3600_000
  const records = await openRecords(config.databaseUrl)
  await records.followers.record({ appId: 'wxA', openid: 'o1', event: 'subscribe', at: now - 30 * 3600_000 })
  await records.followers.record({ appId: 'wxA', openid: 'o2', event: 'subscribe', at: now - 3600_000, scene: 'qrscene_poster' })
  await records.followers.record({ appId: 'wxA', openid: 'o1', event: 'unsubscribe', at: now - 1800_000 })
  await records.close()

  const out = collect()
  assert.equal(await runFollowers(['--app', 'wxA', '--recent', '2'], config, out.print, { now: () => now }), 0)
  assert.deepEqual(out.lines, [
    'followers of wxA: 1 subscribed, 1 unsubscribed',
    'last 24 h: +1 subscribe, -1 unsubscribe',
    'recent changes:',
    `  ${new Date(now - 1800_000).toISOString()}  - o1`,
    `  ${new Date(now - 3600_000).toISOString()}  + o2  qrscene_poster`,
  ])
  const json = collect()
  await runFollowers(['--json', '--hours', '72'], config, json.print, { now: () => now })
  const stats = JSON.parse(json.lines[0]!)
  assert.equal(stats.window.subscribe, 2)
  await assert.rejects(runFollowers(['--hours', '0'], config, () => {}), /--hours must be a whole number from 1/)
})

test('a message line survives hostile XML and long text', () => {
  const base = {
    id: 7, appId: 'wxA', msgKey: 'k', openid: 'o\u001b[31mred', msgType: 'event', event: 'CLICK', msgId: null, createTime: 1,
    rawXml: `<xml><EventKey><![CDATA[${'键'.repeat(100)}]]></EventKey></xml>`, encrypted: true, receivedAt: T0, deliveries: 3,
    replyVia: null, replyStatus: null, replyXml: null, latencyMs: null, error: null, completedAt: null,
  }
  const line = formatMessage(base)
  assert.match(line, /event:CLICK {2}"键{60}…" {2}→ pending {2}\(3 deliveries\) {2}\[aes\]$/)
  assert.match(line, /#7 {2}o\\u001b\[31mred {2}/, 'a terminal escape in a field is shown, not sent to the terminal')
  assert.doesNotMatch(formatMessage({ ...base, rawXml: '<xml>\u001b]0;pwned\u0007</xml>' }, true), /[\u0000-\u0009\u000b-\u001f]/)
  assert.doesNotThrow(() => formatMessage({ ...base, rawXml: '<<<not xml' }))
  assert.doesNotMatch(formatMessage({ ...base, rawXml: '<xml><Content>a\nb</Content></xml>' }), /\n/, 'content newlines stay escaped')
})

test('log tail --once on an empty database says so and names the database', async () => {
  const config = freshConfig()
  const out = collect()
  assert.equal(await runLogTail(['--once'], config, out.print), 0)
  assert.equal(out.lines.length, 1)
  assert.match(out.lines[0]!, /^no messages in SQLite .*cli\d+\.db yet$/)
  const filtered = collect()
  assert.equal(await runLogTail(['--once', '--openid', 'oNobody'], config, filtered.print), 0)
  assert.match(filtered.lines[0]!, /no messages matching the filter in SQLite/)
  const json = collect()
  assert.equal(await runLogTail(['--once', '--json'], config, json.print), 0)
  assert.deepEqual(json.lines, [], '--json prints rows only')
})

test('followers of a server without an AppID prints no empty ()', async () => {
  const config = freshConfig()
  const records = await openRecords(config.databaseUrl)
  await records.followers.record({ appId: '', openid: 'oNoApp', event: 'subscribe', at: T0 })
  await records.followers.record({ appId: 'wxB', openid: 'oWithApp', event: 'subscribe', at: T0 + 1000 })
  await records.close()
  const out = collect()
  assert.equal(await runFollowers([], config, out.print, { now: () => T0 + 2000 }), 0)
  const noApp = out.lines.find((l) => l.includes('oNoApp'))
  assert.ok(noApp !== undefined && !noApp.includes('()'), noApp)
  assert.ok(out.lines.some((l) => l.includes('oWithApp') && l.includes('(wxB)')))
})
