/**
 * Three Official Accounts in one server and one port (plaintext, safe mode, and a 订阅号
 * without customer-service permission), driven by the simulator at each path, with the fake
 * WeChat serving all three AppIDs: replies, tokens, dedup and the message log stay separate;
 * a request signed with another account's Token is 401 and logged under the account it was
 * sent to; an unknown path touches no account; one account's API outage and 48001 do not hold
 * up the others' webhooks.
 */
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { WxmpServer } from '../../src/server/app.js'
import type { RequestOutcome } from '../../src/bot.js'
import { simulate, verifyUrl } from '../../src/testing/simulator.js'
import { signedRequest } from '../../src/testing/signed-request.js'
import { nextMsgId, sampleXml } from '../../src/testing/samples.js'
import { AES_KEY, accountsHarness, capturingLogger, sharedHandler, startAccountsServer, threeAccounts, urlOf, type AccountsHarness } from './support.js'

const accounts = threeAccounts()
const [shop, bank, news] = accounts as [(typeof accounts)[0], (typeof accounts)[0], (typeof accounts)[0]]
const runs: string[] = []
const log = capturingLogger()
const outcomes = new Map<string, RequestOutcome[]>()
let h: AccountsHarness
let server: WxmpServer

before(async () => {
  h = await accountsHarness(accounts, {})
  server = await startAccountsServer(h, sharedHandler(runs), log)
  for (const [name, account] of server.accounts) {
    outcomes.set(name, [])
    account.bot.onOutcome((o) => outcomes.get(name)!.push(o))
  }
})
after(async () => {
  await server?.close({ drainMs: 3000 })
  await h?.close()
})

const send = (account: (typeof accounts)[0], content: string, msgId = nextMsgId(), openid = 'oSame') =>
  simulate({ url: urlOf(server, account.name), token: account.token, mode: account.mode, encodingAESKey: AES_KEY, appId: account.appId, xml: sampleXml('text', { Content: content }, { msgId, openid }), timeoutMs: 4000 })

test('the accounts file gives three accounts at /wechat/<name> on one port', () => {
  assert.deepEqual([...server.accounts.keys()], ['shop', 'bank', 'news'])
  assert.deepEqual([...server.accounts.values()].map((a) => a.path), ['/wechat/shop', '/wechat/bank', '/wechat/news'])
  assert.equal(new Set([...server.accounts.keys()].map((n) => new URL(urlOf(server, n)).port)).size, 1)
})

test('GET verification per account: each path with its own Token, never with another', async () => {
  for (const a of accounts) assert.equal((await verifyUrl({ url: urlOf(server, a.name), token: a.token })).ok, true, a.name)
  assert.equal((await verifyUrl({ url: urlOf(server, 'shop'), token: bank.token })).ok, false)
})

test('each account replies at its own path, in its own mode, and ctx.account names it', async () => {
  for (const a of accounts) {
    const result = await send(a, 'hello')
    assert.equal(result.final.kind, 'reply', `${a.name}: ${JSON.stringify(result.final)}`)
    assert.equal(result.final.reply?.Content, `${a.name}: hello`)
    assert.equal(result.final.encrypted, a.mode === 'safe')
  }
  // the safe-mode account refuses plaintext
  const plain = await simulate({ url: urlOf(server, 'bank'), token: bank.token, mode: 'plain', xml: sampleXml('text', { Content: 'x' }), timeoutMs: 4000 })
  assert.notEqual(plain.final.kind, 'reply')
})

test('dedup is per account: one MsgId from one user runs once in each account, a retry is answered from the first', async () => {
  const msgId = nextMsgId()
  const before = runs.length
  const first = await send(shop, 'same', msgId, 'oDup')
  const other = await send(news, 'same', msgId, 'oDup')
  assert.deepEqual([first.final.reply?.Content, other.final.reply?.Content], ['shop: same', 'news: same'])
  const xml = sampleXml('text', { Content: 'same' }, { msgId, openid: 'oDup' })
  const retry = signedRequest({ token: shop.token, xml })
  const res = await fetch(urlOf(server, 'shop') + retry.search, { method: 'POST', body: retry.body })
  assert.equal(res.status, 200)
  assert.match(await res.text(), /shop: same/)
  assert.deepEqual(runs.slice(before), [`shop:${msgId}`, `news:${msgId}`])
  assert.equal(outcomes.get('shop')!.filter((o) => o.kind === 'duplicate').length, 1)
  assert.equal(outcomes.get('news')!.filter((o) => o.kind === 'duplicate').length, 0)
})

test("a request for shop signed with bank's Token is 401 and logged under shop", async () => {
  const req = signedRequest({ token: bank.token, xml: sampleXml('text', { Content: 'forged' }) })
  const res = await fetch(urlOf(server, 'shop') + req.search, { method: 'POST', body: req.body })
  assert.equal(res.status, 401)
  assert.match(await res.text(), /WX_ERR_SIGNATURE_INVALID/)
  const line = log.lines.find((l) => l.code === 'WX_ERR_SIGNATURE_INVALID')
  assert.equal(line?.account, 'shop')
  assert.equal(outcomes.get('shop')!.at(-1)?.code, 'WX_ERR_SIGNATURE_INVALID')
  assert.equal(outcomes.get('bank')!.some((o) => o.code === 'WX_ERR_SIGNATURE_INVALID'), false)
})

test('an unknown path is 404 and reaches no account', async () => {
  const counts = [...outcomes.values()].map((o) => o.length)
  const req = signedRequest({ token: shop.token, xml: sampleXml('text', { Content: 'lost' }) })
  for (const path of ['/wechat/nope', '/wechat', '/wechat/shop/extra', '/wechat/SHOP']) {
    const res = await fetch(new URL(path, server.http.url).href + req.search, { method: 'POST', body: req.body })
    assert.equal(res.status, 404, path)
  }
  assert.deepEqual([...outcomes.values()].map((o) => o.length), counts)
})

test('tokens: one fetch per account from its own AppID; news gets 48001 without touching the others', async () => {
  for (const a of accounts) {
    for (let i = 0; i < 2; i++) {
      const result = await send(a, 'send', nextMsgId(), `oSend${i}`)
      const want = a.name === 'news' ? 'news sent: no-permission 48001' : `${a.name} sent: sent`
      assert.equal(result.final.reply?.Content, want, `${a.name}: ${JSON.stringify(result.final)}`)
    }
  }
  for (const a of accounts) {
    const fake = h.fake.app(a.appId)
    assert.equal(fake.tokenFetches(), 1, `${a.name} fetched its token once`)
    assert.ok(fake.tokensIssued.every((t) => t.appId === a.appId))
  }
  assert.equal(h.fake.app(shop.appId).sent.length, 2)
  assert.equal(h.fake.app(bank.appId).sent.length, 2)
  assert.equal(h.fake.app(news.appId).sent.length, 0)
})

test("one account's WeChat outage does not hold up another account's webhook", async () => {
  const release = h.fake.hold(news.appId)
  let newsDone = false
  try {
    // news's handler waits on its API (held), past its passive deadline
    const msgId = nextMsgId()
    const waiting = send(news, 'send', msgId, 'oOutage').finally(() => (newsDone = true))
    while (!runs.includes(`news:${msgId}`)) await new Promise((r) => setTimeout(r, 20))
    // shop calls its own WeChat API meanwhile, and answers
    const quick = await send(shop, 'send', nextMsgId(), 'oOutage')
    assert.equal(quick.final.reply?.Content, 'shop sent: sent')
    assert.equal(newsDone, false, "shop answered while news's handler was still waiting on WeChat")
    release()
    await waiting
  } finally {
    release()
  }
})

test('the message log keeps each account apart (account column) and metrics carry the account', async () => {
  for (const a of accounts) {
    const rows = await server.records.messages.recent({ account: a.name, limit: 1000 })
    assert.ok(rows.length >= 3, `${a.name} has its rows`)
    assert.ok(rows.every((r) => r.account === a.name && r.appId === a.appId), `${a.name}'s rows are its own`)
  }
  const text = await server.metrics.render()
  for (const a of accounts) assert.match(text, new RegExp(`wxmp_requests_total\\{[^}]*account="${a.name}"`))
})
