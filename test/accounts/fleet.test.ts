/**
 * The three accounts on two instances sharing Redis and PostgreSQL (real engines, a database
 * and AppIDs of this run's own, both removed afterwards): a retry that lands on the other
 * instance is answered from the first run, per account; one token fetch per account for both
 * instances; the PostgreSQL log keeps each account's rows under its name.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { WxmpServer } from '../../src/server/app.js'
import { simulate } from '../../src/testing/simulator.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { REDIS_URL, createTestDatabase, deleteRedisKeys, serviceAvailable } from '../support/services.js'
import { AES_KEY, accountsHarness, capturingLogger, sharedHandler, startAccountsServer, threeAccounts, type AccountsHarness, type TestAccount } from './support.js'

const accounts = threeAccounts()
const runs: string[] = []
let available = false
let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined
let h: AccountsHarness | undefined
const servers: WxmpServer[] = []

before(async () => {
  available = (await serviceAvailable('redis')) && (await serviceAvailable('postgres'))
  if (!available) return
  database = await createTestDatabase('wxmp_accounts')
  h = await accountsHarness(accounts, { DATABASE_URL: database.url, REDIS_URL })
  for (let i = 0; i < 2; i++) servers.push(await startAccountsServer(h, sharedHandler(runs), capturingLogger(), join(h.dir, `spool-${i}`)))
})
after(async () => {
  await Promise.all(servers.map((s) => s.close({ drainMs: 2000 })))
  await database?.drop()
  if (available) for (const a of accounts) await deleteRedisKeys(REDIS_URL, `wxmp:${a.appId}:*`)
  await h?.close()
})

/** One delivery (signed afresh, like each of WeChat's retries) to an account on an instance: the reply's Content. */
async function deliver(server: WxmpServer, account: TestAccount, content: string, msgId: string, openid: string): Promise<string> {
  const url = new URL(server.accounts.get(account.name)!.path, server.http.url).href
  const result = await simulate({ url, token: account.token, mode: account.mode, encodingAESKey: AES_KEY, appId: account.appId, xml: sampleXml('text', { Content: content }, { msgId, openid }), timeoutMs: 4000 })
  assert.equal(result.final.kind, 'reply', `${account.name}: ${JSON.stringify(result.final)}`)
  return String(result.final.reply?.Content)
}

test('a retry on the other instance is answered from the first run, separately per account', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const msgId = nextMsgId()
  for (const a of accounts) {
    const first = await deliver(servers[0]!, a, 'fleet', msgId, 'oFleet')
    const retry = await deliver(servers[1]!, a, 'fleet', msgId, 'oFleet')
    assert.equal(first, `${a.name}: fleet`)
    assert.equal(retry, `${a.name}: fleet`, 'the retry gets the same reply')
  }
  assert.deepEqual(runs.filter((r) => r.endsWith(`:${msgId}`)), accounts.map((a) => `${a.name}:${msgId}`), 'one run per account')
})

test('one token fetch per account for both instances (shared through Redis)', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  for (const a of accounts) {
    for (const server of servers) {
      const reply = await deliver(server, a, 'send', nextMsgId(), 'oToken')
      assert.equal(reply, a.name === 'news' ? 'news sent: no-permission 48001' : `${a.name} sent: sent`)
    }
    assert.equal(h!.fake.app(a.appId).tokenFetches(), 1, `${a.name}: one fetch`)
  }
})

test('the PostgreSQL log holds each account under its name, a retry as a second delivery', async (t) => {
  if (!available) return t.skip('Redis and PostgreSQL are needed')
  const records = servers[0]!.records
  for (const a of accounts) {
    const rows = await records.messages.recent({ account: a.name, limit: 100 })
    assert.equal(rows.length, 3, `${a.name}: the fleet message and two sends`)
    assert.ok(rows.every((r) => r.appId === a.appId && r.account === a.name))
    assert.equal(rows.find((r) => r.rawXml.includes('fleet'))?.deliveries, 2)
  }
})
