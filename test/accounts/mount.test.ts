/**
 * The library API for several accounts: `mountAccounts([...])` given to the node, Express,
 * Koa, Fastify and fetch adapters. Each account answers at its path with its own Token, a
 * request signed with the other's Token is 401 at the first's path, an unknown path is 404 (or
 * the framework's next route) and reaches no bot, and replacing an account is followed.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import express from 'express'
import Koa from 'koa'
import Fastify from 'fastify'
import { Bot, type RequestOutcome } from '../../src/bot.js'
import { mountAccounts, type AccountTable } from '../../src/accounts/table.js'
import { serve, webhookCallback } from '../../src/adapters/node.js'
import { wechatExpress } from '../../src/adapters/express.js'
import { wechatKoa } from '../../src/adapters/koa.js'
import { wechatFastify } from '../../src/adapters/fastify.js'
import { wechatFetch } from '../../src/adapters/fetch.js'
import { readReply, signedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { listen, type Driver } from '../support/adapter-suite.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

function accountBot(name: string, token: string, outcomes: RequestOutcome[]) {
  const bot = new Bot({ token, account: name, logger: quiet })
  bot.on('text', (ctx) => ctx.reply(`${ctx.account}: ${ctx.message.Content}`))
  bot.onOutcome((o) => outcomes.push(o))
  return bot
}

function twoAccounts() {
  const outcomes: RequestOutcome[] = []
  const table = mountAccounts([
    { name: 'shop', path: '/wechat/shop', bot: accountBot('shop', 'shoptoken', outcomes) },
    { name: 'news', path: '/wechat/news', bot: accountBot('news', 'newstoken', outcomes) },
  ])
  return { table, outcomes }
}

async function ask(driver: Driver, path: string, token: string, content: string) {
  const req = signedRequest({ token, xml: sampleXml('text', { Content: content }) })
  const res = await driver.fetch(path + req.search, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
  const body = await res.text()
  return { status: res.status, body, content: res.status === 200 ? String(readReply({ status: res.status, body }, { token }).reply?.Content) : undefined }
}

const mounts: Array<[string, (table: AccountTable) => Promise<Driver>, number]> = [
  ['node: serve(accounts)', async (table) => {
    const running = await serve(table, { port: 0, host: '127.0.0.1', drainOnSignals: false })
    return { port: running.port, fetch: (path, init) => fetch(`http://127.0.0.1:${running.port}${path}`, init), close: () => running.close() }
  }, 404],
  ['node: createServer(webhookCallback(accounts))', (table) => listen(createServer(webhookCallback(table))), 404],
  ['Express: app.use(wechatExpress(accounts))', (table) => {
    const app = express()
    app.use(wechatExpress(table))
    app.use((_req, res) => res.status(418).send('next'))
    return listen(app as unknown as Parameters<typeof listen>[0])
  }, 418],
  ['Koa: app.use(wechatKoa(accounts))', (table) => {
    const app = new Koa().use(wechatKoa(table)).use((ctx) => {
      ctx.status = 418
      ctx.body = 'next'
    })
    return listen(app.callback())
  }, 418],
  ['Fastify: app.register(wechatFastify(accounts))', async (table) => {
    const app = Fastify()
    await app.register(wechatFastify(table))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const port = (app.server.address() as { port: number }).port
    return { port, fetch: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init), close: () => app.close() }
  }, 404],
  ['fetch: wechatFetch(accounts)', (table) => {
    const handler = wechatFetch(table)
    return listen(async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const response = await handler(new Request(`http://localhost${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}) }))
      res.writeHead(response.status, Object.fromEntries(response.headers))
      res.end(await response.text())
    })
  }, 404],
]

for (const [name, mount, otherStatus] of mounts) {
  describe(name, () => {
    test('each account at its path with its Token; the other Token is 401; an unknown path reaches no bot', async () => {
      const { table, outcomes } = twoAccounts()
      const driver = await mount(table)
      try {
        assert.equal((await ask(driver, '/wechat/shop', 'shoptoken', 'hi')).content, 'shop: hi')
        assert.equal((await ask(driver, '/wechat/news', 'newstoken', 'hi')).content, 'news: hi')
        assert.equal((await ask(driver, '/wechat/shop', 'newstoken', 'forged')).status, 401)
        const seen = outcomes.length
        assert.equal((await ask(driver, '/wechat/blog', 'shoptoken', 'lost')).status, otherStatus)
        assert.equal(outcomes.length, seen, 'no bot saw the unknown path')
        // a replaced account (a reload) is followed at the same path
        const replaced: RequestOutcome[] = []
        table.replace([table.get('shop')!, { name: 'news', path: '/wechat/news', bot: accountBot('news', 'newstoken2', replaced) }])
        assert.equal((await ask(driver, '/wechat/news', 'newstoken2', 'again')).content, 'news: again')
        assert.equal(replaced.length, 1)
      } finally {
        await driver.close()
      }
    })
  })
}

test('mountAccounts refuses two accounts at one path', () => {
  const bot = accountBot('a', 'tok', [])
  assert.throws(() => mountAccounts([{ name: 'a', path: '/w/', bot }, { name: 'b', path: '/w', bot }]), /accounts "a" and "b" have the same path \/w/)
})
