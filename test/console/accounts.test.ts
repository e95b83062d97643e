/**
 * The account switcher in a real Chromium: a server with two accounts (an accounts file), a
 * message simulated at each account's path; the console shows one account at a time, the
 * switcher lists both, each account's inbox and followers show its own followers only, the
 * choice survives a reload, and the API refuses an unknown account or a missing one instead of
 * mixing them. With one account there is no switcher.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { loadAccounts, type ResolvedAccount } from '../../src/accounts/config.js'
import { hashPassword } from '../../src/console/password.js'
import { startServer, type WxmpServer } from '../../src/server/app.js'
import { startFakeWechat, type FakeWechat } from '../../src/testing/fake-wechat/index.js'
import { sampleXml } from '../../src/testing/samples.js'
import { simulate } from '../../src/testing/simulator.js'
import { CHROMIUM, DESKTOP, OPERATOR, PHONE, screenshot, startConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any

const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {}, child: () => quiet, level: 'silent' }
const NEWS_APPID = 'wxnews0000000042'

describe('console with two accounts: the switcher', () => {
  let fake: FakeWechat
  let dir: string
  let server: WxmpServer
  let browser: Browser
  let page: Page
  let consoleUrl: string
  let configured: ResolvedAccount[]
  const deliver = (account: 'shop' | 'news', content: string, openid: string, event?: 'subscribe') =>
    simulate({
      url: new URL(`/wechat/${account}`, server.http.url).href,
      token: `${account}token`,
      xml: event === undefined ? sampleXml('text', { Content: content }, { openid }) : sampleXml('event:subscribe', {}, { openid }),
    })
  /** A console API call from the signed-in page (same origin, its cookie). */
  const api = (path: string) =>
    page.evaluate(async (url: string) => {
      const res = await window.fetch(url)
      return { status: res.status as number, body: (await res.json()) as Record<string, unknown> }
    }, `${consoleUrl.replace(/\/$/, '')}/api${path}`)

  before(async () => {
    fake = await startFakeWechat()
    dir = mkdtempSync(join(tmpdir(), 'wxmp-console-accounts-'))
    const file = join(dir, 'wxmp.config.json')
    writeFileSync(
      file,
      JSON.stringify({
        accounts: {
          shop: { token: 'shoptoken', appId: fake.appId, appSecret: fake.appSecret },
          news: { token: 'newstoken', appId: NEWS_APPID, appSecret: 'newssecret' },
        },
      }),
    )
    const hash = await hashPassword(OPERATOR.password, { log2N: 12, r: 8, p: 1 })
    const env = { WECHAT_API_BASE: fake.url, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_CONSOLE_USERS: `${OPERATOR.user}:${hash}`, WXMP_CONFIG_FILE: file }
    const { accounts, base } = await loadAccounts({ env, cwd: dir, dotenv: false })
    configured = accounts
    server = await startServer({ config: base, accounts, logger: quiet as never })
    consoleUrl = server.console!.url
    for (const openid of ['oShopUser0001', 'oShopUser0002']) await deliver('shop', `商店消息 ${openid}`, openid)
    await deliver('shop', '', 'oShopUser0001', 'subscribe')
    await deliver('news', '新闻号的消息', 'oNewsUser0001')
    await deliver('news', '', 'oNewsUser0001', 'subscribe')
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    page = await browser.newPage({ viewport: DESKTOP })
    await page.goto(consoleUrl)
    await page.fill('#login-user', OPERATOR.user)
    await page.fill('#login-password', OPERATOR.password)
    await page.click('form.login-card button[type=submit]')
    await page.waitForSelector('header.topbar')
  })
  after(async () => {
    await browser?.close().catch(() => undefined)
    await server?.close({ drainMs: 2000 })
    await fake?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  const openids = () => page.$$eval('.conv-item', (items: Array<{ dataset: { openid: string } }>) => items.map((i) => i.dataset.openid).sort())

  test('the switcher lists both accounts; each shows its own conversations only', async () => {
    const options = await page.$$eval('#account-switch option', (o: Array<{ value: string }>) => o.map((x) => x.value))
    assert.deepEqual(options, ['shop', 'news'])
    await page.waitForSelector('.conv-item[data-openid="oShopUser0002"]')
    assert.deepEqual(await openids(), ['oShopUser0001', 'oShopUser0002'])
    await page.selectOption('#account-switch', 'news')
    await page.waitForSelector('.conv-item[data-openid="oNewsUser0001"]')
    assert.deepEqual(await openids(), ['oNewsUser0001'])
    await page.click('.conv-item[data-openid="oNewsUser0001"]')
    await page.waitForFunction(() => [...document.querySelectorAll('.bubble.user .text')].some((e: { textContent: string }) => e.textContent === '新闻号的消息'))
    await screenshot(page, 'accounts-switcher')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'accounts-switcher-phone')
    await page.setViewportSize(DESKTOP)
  })

  test('a new message shows live in its own account only', async () => {
    await page.goto(`${consoleUrl}#/inbox`)
    await page.waitForSelector('.conv-item[data-openid="oNewsUser0001"]')
    await deliver('shop', '商店的新消息', 'oShopUser0003')
    await deliver('news', '新闻号的新消息', 'oNewsUser0002')
    await page.waitForSelector('.conv-item[data-openid="oNewsUser0002"]', { timeout: 5000 })
    assert.deepEqual(await openids(), ['oNewsUser0001', 'oNewsUser0002'])
  })

  test('followers are the account\'s own, and the choice survives a reload', async () => {
    await page.goto(`${consoleUrl}#/followers`)
    await page.waitForSelector('.followers tbody tr td.openid')
    assert.equal(await page.locator('.followers tbody tr').count(), 1)
    assert.match((await page.textContent('.followers tbody')) ?? '', /oNewsUser0001/)
    await page.reload()
    await page.waitForSelector('.followers tbody tr td.openid')
    assert.equal(await page.inputValue('#account-switch'), 'news')
    await page.selectOption('#account-switch', 'shop')
    await page.waitForFunction(() => (document.querySelector('.followers tbody')?.textContent ?? '').includes('oShopUser0001'))
    assert.doesNotMatch((await page.textContent('.followers tbody')) ?? '', /oNews/)
  })

  test('the API answers one named account: an unknown name is 404, a missing one 400, never a mix', async () => {
    const news = await api('/conversations?account=news')
    assert.equal(news.status, 200)
    assert.deepEqual((news.body.conversations as Array<{ openid: string }>).map((c) => c.openid).sort(), ['oNewsUser0001', 'oNewsUser0002'])
    // a conversation of another account, asked for under this one: nothing of it comes back
    const crossed = await api('/conversations/oShopUser0001?account=news')
    assert.deepEqual(crossed.body.messages, [])
    const unknown = await api('/conversations?account=city')
    assert.equal(unknown.status, 404)
    assert.equal((unknown.body.error as { code: string }).code, 'WX_ERR_NOT_FOUND')
    const missing = await api('/conversations')
    assert.equal(missing.status, 400)
    assert.match((missing.body.error as { message: string }).message, /add \?account=<name> \(shop, news\)/)
    const session = await api('/session?account=news')
    assert.deepEqual(session.body.account, { name: 'news', appId: NEWS_APPID, dev: false })
    assert.deepEqual(session.body.accounts, [
      { name: 'shop', path: '/wechat/shop' },
      { name: 'news', path: '/wechat/news' },
    ])
  })

  test('a reload adds and removes accounts in the console too; a refused one changes nothing', async () => {
    const names = async () => ((await api('/session')).body.accounts as Array<{ name: string }>).map((a) => a.name)
    const city = { ...configured[1]!, name: 'city', path: '/wechat/city', appId: 'wxcity0000000042', token: 'citytoken' }
    assert.equal((await server.reload([...configured, city])).ok, true)
    assert.deepEqual(await names(), ['shop', 'news', 'city'])
    assert.equal((await api('/conversations?account=city')).status, 200)
    await page.goto(`${consoleUrl}#/inbox`)
    await page.reload()
    await page.selectOption('#account-switch', 'news')
    await page.waitForSelector('.conv-item[data-openid="oNewsUser0001"]')
    // two accounts on one path: refused, the running set (and the console) stay
    const clash = { ...city, name: 'clash', appId: 'wxclash000000042' }
    assert.equal((await server.reload([...configured, city, clash])).ok, false)
    assert.deepEqual(await names(), ['shop', 'news', 'city'])
    assert.equal((await api('/conversations?account=clash')).status, 404)
    // news removed: its data is out of reach, shop's still answers
    assert.equal((await server.reload([configured[0]!, city])).ok, true)
    assert.deepEqual(await names(), ['shop', 'city'])
    assert.equal((await api('/conversations?account=news')).status, 404)
    const shop = await api('/conversations?account=shop')
    assert.ok((shop.body.conversations as Array<{ openid: string }>).some((c) => c.openid === 'oShopUser0001'))
    // the page, still on news, starts over on the first account at its next call
    await page.goto(`${consoleUrl}#/followers`)
    await page.waitForFunction(() => (document.querySelector('.followers tbody')?.textContent ?? '').includes('oShopUser0001'))
    assert.equal(await page.inputValue('#account-switch'), 'shop')
    assert.deepEqual(await page.$$eval('#account-switch option', (o: Array<{ value: string }>) => o.map((x) => x.value)), ['shop', 'city'])
  })
})

describe('console with one account', () => {
  test('has no switcher', async () => {
    const fixture = await startConsoleFixture()
    try {
      const page = await fixture.browser.newPage({ viewport: DESKTOP })
      await page.goto(fixture.consoleUrl)
      await page.fill('#login-user', OPERATOR.user)
      await page.fill('#login-password', OPERATOR.password)
      await page.click('form.login-card button[type=submit]')
      await page.waitForSelector('header.topbar nav a')
      assert.equal(await page.locator('#account-switch').count(), 0)
      // the API needs no account parameter, and names the one there is
      const body = await page.evaluate(async (url: string) => (await window.fetch(url)).json(), `${fixture.consoleUrl}api/session`)
      assert.deepEqual((body as { accounts: unknown }).accounts, [{ name: 'default', path: '/wechat' }])
    } finally {
      await fixture.close()
    }
  })
})
