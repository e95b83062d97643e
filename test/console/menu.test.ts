/**
 * The menu editor in a real Chromium: WeChat's limits refuse a sixth sub-item, a name over
 * the byte limit is flagged as it is typed (the checks `wxmp menu push` runs), and a valid
 * menu is published to the fake WeChat after the diff is confirmed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { DESKTOP, PHONE, screenshot, signIn, startConsoleFixture, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page: these names are the
// page's globals (declared here, in this module only, so Node code elsewhere keeps no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLImageElement = any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLFormElement = any

describe('console menu editor', () => {
  let fixture: ConsoleFixture
  let page: Page
  before(async () => {
    fixture = await startConsoleFixture()
    page = await fixture.browser.newPage({ viewport: DESKTOP })
    await signIn(page, fixture, '#/menu')
  })
  after(async () => {
    await fixture?.close()
  })

  test('refuses a sixth sub-item', async () => {
    await page.waitForSelector('.phone .add-top')
    await page.click('.phone .add-top')
    for (let i = 0; i < 5; i++) await page.click('.phone .column .add-sub')
    assert.equal(await page.locator('.phone .item.sub').count(), 5)
    // it stays focusable and says why when pressed (Playwright's click skips aria-disabled: use the keyboard)
    await page.focus('.phone .column .add-sub')
    await page.keyboard.press('Enter')
    assert.equal(await page.locator('.phone .item.sub').count(), 5)
    assert.match((await page.textContent('.refusal')) ?? '', /最多 5 个子菜单/)
    assert.equal(await page.getAttribute('.phone .column .add-sub', 'aria-disabled'), 'true')
  })

  test('checks names as they are typed with the same limits as menu push', async () => {
    await page.click('.phone .item.sub >> nth=0')
    await page.fill('#menu-field-name', '一二三四五六七八九十一二三四五六七八九十一')
    await page.waitForFunction(() => document.querySelector('.menu-status')?.classList.contains('bad'))
    assert.match((await page.textContent('.menu-status')) ?? '', /button\[0\]\.sub_button\[0\]\.name .* is 63 bytes, the limit is 60/)
    assert.equal(await page.getAttribute('#menu-field-name', 'aria-invalid'), 'true')
    await page.fill('#menu-field-name', '今日歌曲')
    await page.waitForFunction(() => document.querySelector('.menu-status')?.classList.contains('ok'))
  })

  test('publishes a valid menu to the fake WeChat after showing the diff', async () => {
    // make it two top-level buttons: a view link and the parent with five items
    await page.click('.phone .add-top')
    await page.fill('#menu-field-name', '官网')
    await page.selectOption('#menu-field-type', 'view')
    await page.fill('#menu-field-url', 'https://example.com/home')
    await page.locator('#menu-field-url').blur()
    await page.waitForFunction(() => document.querySelector('.menu-status')?.classList.contains('ok'))
    await screenshot(page, 'menu-desktop')
    await page.click('.toolbar button.primary')
    await page.waitForSelector('.diff:not([hidden]) #menu-confirm')
    assert.ok((await page.locator('.diff-added').count()) >= 7, `every new item is listed as added: ${await page.textContent('.diff')}`)
    await screenshot(page, 'menu-diff-desktop')
    await page.click('#menu-confirm')
    await page.waitForFunction(() => document.querySelector('.notice')?.textContent?.includes('已发布'))
    const published = fixture.fake.calls.find((c) => c.path === '/cgi-bin/menu/create')
    assert.ok(published, 'menu/create reached the fake')
    const live = await fixture.server.bot.api.menu.get()
    assert.equal(live.menu?.button.length, 2)
    assert.equal(live.menu?.button[0]?.sub_button?.length, 5)
    assert.equal(live.menu?.button[0]?.sub_button?.[0]?.name, '今日歌曲')
    assert.equal(live.menu?.button[1]?.url, 'https://example.com/home')
    const audit = await fixture.server.records.db.all<{ ok: number }>("SELECT ok FROM wxmp_console_audit WHERE action = 'menu.publish'")
    assert.deepEqual(audit.map((a) => Number(a.ok)), [1])
  })

  test('pulls the live menu and shows no changes against it', async () => {
    await page.click('.toolbar button.secondary >> nth=0')
    await page.waitForFunction(() => document.querySelector('.notice')?.textContent?.includes('已拉取'))
    await page.click('.toolbar button.secondary >> nth=1')
    await page.waitForSelector('.diff:not([hidden])')
    assert.match((await page.textContent('.diff')) ?? '', /草稿与线上菜单相同/)
    await page.setViewportSize(PHONE)
    await page.click('.phone .item.sub >> nth=1')
    await screenshot(page, 'menu-phone')
    await page.setViewportSize(DESKTOP)
  })
})
