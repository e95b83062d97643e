/**
 * Reloading the accounts file while the accounts answer: a fourth account is added while the
 * other three keep answering (every request sent during the reload is counted: none fails),
 * a changed account is replaced without dropping its request in flight, a removed one stops
 * answering, and a bad file keeps the running configuration with the error naming the account.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { Bot } from '../../src/bot.js'
import type { WxmpServer } from '../../src/server/app.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, accountsHarness, capturingLogger, fileEntry, startAccountsServer, threeAccounts, urlOf, type AccountsHarness, type TestAccount } from './support.js'

const accounts = threeAccounts()
const city: TestAccount = { name: 'city', token: 'citytoken' + randomBytes(3).toString('hex'), appId: 'wx' + randomBytes(8).toString('hex'), appSecret: randomBytes(16).toString('hex'), mode: 'plain' }
const log = capturingLogger()
let gate: Promise<void> = Promise.resolve()
let slowStarted: () => void = () => {}
// long enough that the request held in flight across a reload is still answered passively
const SLOW = { replyTimeoutMs: 4000 }
let h: AccountsHarness
let server: WxmpServer

function setup(bot: Bot) {
  bot.on('text', async (ctx) => {
    if (ctx.message.Content === 'slow') {
      slowStarted()
      await gate
    }
    return ctx.reply(`${ctx.account}: ${ctx.message.Content}`)
  })
}

before(async () => {
  h = await accountsHarness(accounts, {}, undefined, SLOW)
  server = await startAccountsServer(h, setup, log)
})
after(async () => {
  await server?.close({ drainMs: 3000 })
  await h?.close()
})

function writeAccounts(list: TestAccount[], extra: Record<string, Record<string, unknown>> = {}) {
  writeFileSync(h.file, JSON.stringify({ accounts: Object.fromEntries(list.map((a) => [a.name, { ...fileEntry(a, SLOW), ...extra[a.name] }])) }, null, 2))
}

/** One plaintext or safe-mode message to an account; the reply text, or the status when it failed. */
async function ask(account: TestAccount, content: string): Promise<{ ok: boolean; status: number; body: string }> {
  const req = signedRequest({ token: account.token, xml: sampleXml('text', { Content: content }, { msgId: nextMsgId() }), mode: account.mode, encodingAESKey: AES_KEY, appId: account.appId })
  const res = await fetch(urlOf(server, account.name) + req.search, { method: 'POST', body: req.body })
  const body = await res.text()
  return { ok: res.status === 200 && body.includes('<xml>'), status: res.status, body }
}

test('a fourth account is added while the three keep answering: no request fails during the reload', async (t) => {
  let reloading = false
  let stop = false
  const counts = { total: 0, duringReload: 0, failed: 0 }
  const failures: string[] = []
  // three clients, one per account, each sending back to back until the reload is over
  const clients = accounts.map(async (a) => {
    while (!stop) {
      const during = reloading
      const result = await ask(a, 'ping').catch((err: Error) => ({ ok: false, status: 0, body: err.message }))
      counts.total++
      if (during || reloading) counts.duringReload++
      if (!result.ok) {
        counts.failed++
        failures.push(`${a.name}: ${result.status} ${result.body.slice(0, 100)}`)
      }
    }
  })
  while (counts.total < 30) await new Promise((r) => setTimeout(r, 5))
  h.env.CITY_TOKEN = city.token
  h.env.CITY_APPSECRET = city.appSecret
  writeAccounts([...accounts, city])
  reloading = true
  const result = await server.reload()
  reloading = false
  const after = counts.total
  while (counts.total < after + 30) await new Promise((r) => setTimeout(r, 5))
  stop = true
  await Promise.all(clients)
  const figure = `reload added "city": ${counts.duringReload} requests sent during the reload, ${counts.total} in all, ${counts.failed} failed`
  t.diagnostic(figure)
  console.log(`  ${figure}`)
  assert.deepEqual(result, { ok: true, added: ['city'], changed: [], removed: [], unchanged: ['shop', 'bank', 'news'] })
  assert.deepEqual(failures, [])
  assert.equal(counts.failed, 0)
  assert.ok(counts.duringReload > 0, 'requests were sent while the reload ran')
  const reply = await ask(city, 'new here')
  assert.ok(reply.ok && reply.body.includes('city: new here'), reply.body)
})

test('a changed account is replaced without dropping its request in flight; the others keep their bot', async () => {
  const [shop, bank, news] = accounts as [TestAccount, TestAccount, TestAccount]
  const bankBot = server.accounts.get('bank')!.bot
  let open!: () => void
  gate = new Promise((resolve) => (open = resolve))
  const started = new Promise<void>((resolve) => (slowStarted = resolve))
  const inFlight = ask(shop, 'slow')
  await started
  const newToken = 'shopnewtoken' + randomBytes(3).toString('hex')
  h.env.SHOP_TOKEN = newToken
  writeAccounts([...accounts, city])
  const result = await server.reload()
  assert.deepEqual([result.ok, result.changed, result.unchanged], [true, ['shop'], ['bank', 'news', 'city']])
  assert.equal(server.accounts.get('bank')!.bot, bankBot, 'an unchanged account keeps its bot')
  open()
  const slow = await inFlight
  assert.ok(slow.ok && slow.body.includes('shop: slow'), `the request in flight got its reply: ${slow.status} ${slow.body}`)
  // the new Token signs from now on, the old one no longer
  assert.equal((await ask(shop, 'old token')).status, 401)
  const fresh = await ask({ ...shop, token: newToken }, 'new token')
  assert.ok(fresh.ok && fresh.body.includes('shop: new token'))
  assert.ok((await ask(bank, 'still')).ok && (await ask(news, 'still')).ok)
})

test('a bad file at reload keeps the running accounts and logs the error naming the account', async () => {
  const before = readFileSync(h.file, 'utf8')
  const running = [...server.accounts.keys()]
  delete h.env.CITY_APPSECRET
  const result = await server.reload()
  assert.equal(result.ok, false)
  assert.match(result.error ?? '', /account "city", appSecret: the environment variable CITY_APPSECRET is not set/)
  const line = log.lines.find((l) => l.level === 'error' && typeof l.msg === 'string' && l.msg.startsWith('reload refused'))
  assert.match(String(line?.msg), /account "city"/)
  assert.deepEqual([...server.accounts.keys()], running)
  assert.ok((await ask(city, 'still here')).ok)
  writeFileSync(h.file, '{"accounts": {')
  assert.match((await server.reload()).error ?? '', /not valid JSON/)
  writeFileSync(h.file, before)
  h.env.CITY_APPSECRET = city.appSecret
})

test('a removed account stops answering (404); the others go on', async () => {
  const [, bank, news] = accounts as [TestAccount, TestAccount, TestAccount]
  writeAccounts([bank, news, city])
  const result = await server.reload()
  assert.deepEqual([result.ok, result.removed], [true, ['shop']])
  const req = signedRequest({ token: 'whatever', xml: sampleXml('text', { Content: 'gone' }) })
  assert.equal((await fetch(new URL('/wechat/shop', server.http.url).href + req.search, { method: 'POST', body: req.body })).status, 404)
  assert.ok((await ask(bank, 'on')).ok && (await ask(news, 'on')).ok && (await ask(city, 'on')).ok)
})
