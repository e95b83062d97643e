import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Bot } from '../bot.js'
import { WxmpError } from '../errors.js'
import { botAtPath, mountAccounts } from './table.js'
import { signedRequest } from '../testing/signed-request.js'
import { sampleXml } from '../testing/samples.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const bot = (account: string, token = `${account}token`) => {
  const b = new Bot({ token, account, logger: quiet })
  b.on('text', (ctx) => ctx.reply(`${ctx.account}`))
  return b
}

test('match: the exact path or one trailing slash; nothing else', () => {
  const table = mountAccounts([{ name: 'shop', path: '/wechat/shop/', bot: bot('shop') }, { name: 'news', path: '/wx/news', bot: bot('news') }])
  assert.equal(table.match('/wechat/shop')?.name, 'shop')
  assert.equal(table.match('/wechat/shop/')?.name, 'shop')
  assert.equal(table.match('/wx/news/')?.name, 'news')
  for (const path of ['/wechat', '/wechat/shop//', '/wechat/shop/x', '/WX/news', '/', '']) assert.equal(table.match(path), undefined, path)
  assert.deepEqual(table.accounts.map((a) => a.path), ['/wechat/shop', '/wx/news'])
})

test('replace: a bad set (same path, same name, no leading slash) changes nothing', () => {
  const shop = bot('shop')
  const table = mountAccounts([{ name: 'shop', path: '/a', bot: shop }])
  assert.throws(() => table.replace([{ name: 'shop', path: '/a', bot: shop }, { name: 'news', path: '/a/', bot: shop }]), /same path \/a/)
  assert.throws(() => table.replace([{ name: 'shop', path: '/a', bot: shop }, { name: 'shop', path: '/b', bot: shop }]), /two accounts are named "shop"/)
  assert.throws(() => table.replace([{ name: 'x', path: 'b', bot: shop }]), (err: unknown) => err instanceof WxmpError && err.code === 'WX_ERR_CONFIG')
  assert.deepEqual(table.accounts.map((a) => a.name), ['shop'])
})

test('botAtPath follows a replacement and pins a request to the bot that admitted it', async () => {
  const before = bot('shop', 'tok')
  const table = mountAccounts([{ name: 'shop', path: '/s', bot: before }])
  const at = botAtPath(table, '/s')
  const req = signedRequest({ token: 'tok', xml: sampleXml('text', { Content: 'x' }) })
  const inbound = { method: 'POST', query: new URLSearchParams(req.search.slice(1)), headers: {}, body: Buffer.from(req.body) }
  assert.equal(at.admit?.(inbound), undefined)
  const after = bot('shop', 'tok')
  table.replace([{ name: 'shop', path: '/s', bot: after }])
  const response = await at.handle(inbound)
  assert.equal(response.status, 200)
  assert.equal(at.options, after.options, 'new requests go to the bot now at the path')
  table.replace([])
  assert.throws(() => at.options, /no account is served at \/s/)
})
