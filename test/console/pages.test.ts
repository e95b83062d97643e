/**
 * Followers, dashboard and audit log in a real Chromium, in Chinese and in English, at desktop
 * and phone width (screenshots of each), and usable from the keyboard alone.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { deliver, DESKTOP, OPERATOR, PHONE, screenshot, signIn, startConsoleFixture, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page: these names are the
// page's globals (declared here, in this module only, so Node code elsewhere keeps no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLImageElement = any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLFormElement = any

describe('console pages', () => {
  let fixture: ConsoleFixture
  let page: Page
  before(async () => {
    fixture = await startConsoleFixture()
    for (const [openid, scene] of [['oFollower0001', 'qrscene_spring'], ['oFollower0002', ''], ['oFollower0003', 'qrscene_42']] as const) {
      fixture.fake.addUser(openid)
      await deliver(fixture, 'event:subscribe', { EventKey: scene }, openid)
      await deliver(fixture, 'text', { Content: `来自 ${openid} 的消息` }, openid)
    }
    await deliver(fixture, 'event:unsubscribe', {}, 'oFollower0002')
    page = await fixture.browser.newPage({ viewport: DESKTOP })
    await signIn(page, fixture)
  })
  after(async () => {
    await fixture?.close()
  })

  test('followers: list, search, subscribe time and scene, tags', async () => {
    await page.goto(`${fixture.consoleUrl}#/followers`)
    await page.waitForSelector('.followers tbody tr td.openid')
    assert.equal(await page.locator('.followers tbody tr').count(), 3)
    await page.selectOption('.filters select >> nth=0', 'subscribed')
    await page.waitForFunction(() => document.querySelectorAll('.followers tbody tr').length === 2)
    await page.fill('.filters .search', '0003')
    await page.waitForFunction(() => document.querySelectorAll('.followers tbody tr').length === 1)
    assert.match((await page.textContent('.followers tbody')) ?? '', /oFollower0003.*42/)
    await page.click('.followers tbody a')
    await page.waitForSelector('.follower-detail dl')
    assert.match((await page.textContent('.follower-detail')) ?? '', /场景值42/)
    await page.fill('.tag-row input', 'VIP 客户')
    await page.click('.tag-row button >> nth=1')
    await page.waitForSelector('.chips .chip')
    assert.match((await page.textContent('.chips')) ?? '', /VIP 客户/)
    const tagId = (await fixture.server.bot.api.tag.list()).find((t) => t.name === 'VIP 客户')!.id
    assert.deepEqual(await fixture.server.bot.api.tag.tagsOfUser('oFollower0003'), [tagId])
    await screenshot(page, 'followers-desktop')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'followers-phone')
    await page.setViewportSize(DESKTOP)
  })

  test('dashboard: charts of the last hour and the health of database, Redis and the API token', async () => {
    await page.goto(`${fixture.consoleUrl}#/dashboard`)
    await page.waitForSelector('.chart svg rect')
    assert.equal(await page.locator('.chart').count(), 4)
    assert.match((await page.textContent('.health')) ?? '', /数据库正常 · sqlite/)
    assert.match((await page.textContent('.health')) ?? '', /接口令牌正常 · \d+ 分钟后过期/)
    assert.match((await page.textContent('.health')) ?? '', /Redis未配置/)
    const label = (await page.getAttribute('.chart svg >> nth=0', 'aria-label')) ?? ''
    assert.match(label, /共 7 条消息/)
    await screenshot(page, 'dashboard-desktop')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'dashboard-phone')
    await page.setViewportSize(DESKTOP)
  })

  test('audit log lists the operator actions', async () => {
    await page.goto(`${fixture.consoleUrl}#/audit`)
    await page.waitForSelector('.audit tbody tr')
    const text = (await page.textContent('.audit tbody')) ?? ''
    assert.match(text, /alice.*登录/)
    assert.match(text, /添加标签.*oFollower0003/)
    await screenshot(page, 'audit-desktop')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'audit-phone')
    await page.setViewportSize(DESKTOP)
  })

  test('English is one click away and is remembered', async () => {
    await page.goto(`${fixture.consoleUrl}#/inbox`)
    await page.click('.topbar .lang')
    await page.waitForSelector('nav >> text=Inbox')
    assert.equal(await page.getAttribute('html', 'lang'), 'en')
    await page.reload()
    await page.waitForSelector('nav >> text=Followers')
    await page.click('.conv-item >> nth=0')
    await page.waitForSelector('.composer')
    await screenshot(page, 'inbox-english-desktop')
    await page.click('.topbar .lang')
    await page.waitForSelector('nav >> text=消息')
  })

  test('keyboard alone: sign in, open a conversation, answer', async () => {
    const context = await fixture.browser.newContext({ viewport: DESKTOP })
    const k = await context.newPage()
    await k.goto(fixture.consoleUrl)
    await k.waitForSelector('#login-user:focus')
    await k.keyboard.type(OPERATOR.user)
    await k.keyboard.press('Tab')
    await k.keyboard.type(OPERATOR.password)
    await k.keyboard.press('Enter')
    await k.waitForSelector('.conv-item')
    // tab to the first conversation and open it
    for (let i = 0; i < 30 && !(await k.evaluate(() => document.activeElement?.classList.contains('conv-item'))); i++) await k.keyboard.press('Tab')
    assert.ok(await k.evaluate(() => document.activeElement?.classList.contains('conv-item')), 'a conversation is reachable with Tab')
    await k.keyboard.press('Enter')
    await k.waitForSelector('.composer textarea')
    await k.focus('.composer textarea')
    await k.keyboard.type('键盘发送')
    await k.keyboard.press('Control+Enter')
    await k.waitForSelector('.bubble.operator .status-sent')
    assert.ok(fixture.fake.sent.some((s) => JSON.stringify(s).includes('键盘发送')))
    await context.close()
  })
})
