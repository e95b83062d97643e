/**
 * The inbox in a real Chromium: a simulated message appears live without a reload; an
 * operator's answer reaches the fake WeChat as a customer-service message; 45015 is explained;
 * pausing the bot stops its answers; what a follower sends (XSS in text and link titles) stays
 * text.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { deliver, DESKTOP, PHONE, screenshot, signIn, startConsoleFixture, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page: these names are the
// page's globals (declared here, in this module only, so Node code elsewhere keeps no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLImageElement = any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLFormElement = any

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

describe('console inbox', () => {
  let fixture: ConsoleFixture
  let page: Page
  before(async () => {
    fixture = await startConsoleFixture()
    page = await fixture.browser.newPage({ viewport: DESKTOP })
    await signIn(page, fixture)
  })
  after(async () => {
    await fixture?.close()
  })

  test('a message sent with the simulator appears live, without a reload', async () => {
    await page.waitForSelector('.conv-items')
    const marker = await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = Math.random()))
    const result = await deliver(fixture, 'text', { Content: '直播消息 live one' }, 'oLiveUser0001')
    assert.equal(result.final.kind, 'reply')
    await page.waitForSelector('.conv-item[data-openid="oLiveUser0001"]', { timeout: 5000 })
    assert.match((await page.textContent('.conv-item[data-openid="oLiveUser0001"]')) ?? '', /直播消息 live one/)
    // the same page: no navigation happened
    assert.equal(await page.evaluate(() => (window as unknown as { __marker: number }).__marker), marker)
    await page.click('.conv-item[data-openid="oLiveUser0001"]')
    await page.waitForSelector('.bubble.user')
    await deliver(fixture, 'text', { Content: '第二条' }, 'oLiveUser0001')
    await page.waitForFunction(() => [...document.querySelectorAll('.bubble.user .text')].some((e) => e.textContent === '第二条'), undefined, { timeout: 5000 })
    // the bot's (echo) reply and how it left
    await page.waitForFunction(() => document.querySelectorAll('.bubble.bot .via-passive').length >= 2, undefined, { timeout: 5000 })
    await screenshot(page, 'inbox-desktop')
  })

  test('an operator answer reaches the fake WeChat as a customer-service message', async () => {
    await page.goto(`${fixture.consoleUrl}#/inbox/oLiveUser0001`)
    await page.fill('.composer textarea', '您好，这是人工客服 ✋')
    await page.click('.composer button[type=submit]')
    await page.waitForSelector('.bubble.operator .status-sent')
    const sent = fixture.fake.sent.find((s) => s.kind === 'customer-service' && s.touser === 'oLiveUser0001')
    assert.ok(sent, 'the fake received a customer-service message')
    assert.equal((sent as { msgtype?: string }).msgtype, 'text')
    assert.match(JSON.stringify(sent), /您好，这是人工客服 ✋/)
    const audit = await fixture.server.records.db.all<{ action: string; operator: string }>("SELECT action, operator FROM wxmp_console_audit WHERE action = 'answer.text'")
    assert.deepEqual(audit.map((a) => [a.action, a.operator]), [['answer.text', 'alice']])
  })

  test('outside the 48-hour window the answer is refused and 45015 is explained', async () => {
    fixture.fake.setWindow('oLiveUser0001', false)
    await page.fill('.composer textarea', '窗口外的回复')
    await page.click('.composer button[type=submit]')
    await page.waitForFunction(() => (document.querySelector('.answer-error')?.textContent ?? '').includes('45015'))
    assert.match((await page.textContent('.answer-error')) ?? '', /48 小时/)
    await page.waitForSelector('.bubble.operator.failed')
    fixture.fake.setWindow('oLiveUser0001', true)
  })

  test('pausing the bot for one conversation stops its answers until resumed', async () => {
    await page.click('.conv-head button.secondary')
    await page.waitForSelector('.conv-head button.paused')
    await page.waitForSelector('.conv-item[data-openid="oLiveUser0001"] .badge.paused')
    const paused = await deliver(fixture, 'text', { Content: '机器人别回' }, 'oLiveUser0001')
    assert.equal(paused.final.kind, 'no-reply')
    const other = await deliver(fixture, 'text', { Content: 'others still answered' }, 'oOtherUser002')
    assert.equal(other.final.kind, 'reply')
    await page.click('.conv-head button.paused')
    await page.waitForSelector('.conv-head button.secondary:not(.paused)')
    const resumed = await deliver(fixture, 'text', { Content: '恢复了吗' }, 'oLiveUser0001')
    assert.equal(resumed.final.kind, 'reply')
  })

  test('an XSS payload sent as a message and as a link title renders as text', async () => {
    await page.goto(`${fixture.consoleUrl}#/inbox/oXssUser00001`)
    await deliver(fixture, 'text', { Content: XSS }, 'oXssUser00001')
    await deliver(fixture, 'link', { Title: XSS, Description: '<b>bold?</b>', Url: 'javascript:window.__xss=3' }, 'oXssUser00001')
    await deliver(fixture, 'link', { Title: '正常链接', Description: 'd', Url: 'https://example.com/a?b=1' }, 'oXssUser00001')
    await page.waitForFunction(() => document.querySelectorAll('.card.link').length === 2, undefined, { timeout: 5000 })
    const texts = await page.$$eval('.bubble.user .text', (els) => els.map((e) => e.textContent))
    assert.ok(texts.includes('<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'))
    assert.equal(await page.$$eval('.thread img:not(.thumb), .thread script, .thread b', (els) => els.length), 0)
    const titles = await page.$$eval('.card.link .card-title', (els) => els.map((e) => e.textContent))
    assert.ok(titles.includes(XSS))
    // a javascript: URL is not a link; an https one is, opening safely
    assert.equal(await page.$$eval('.card.link a[href^="javascript"]', (els) => els.length), 0)
    assert.equal(await page.getAttribute('.card.link a[href^="https://example.com"]', 'rel'), 'noopener noreferrer')
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined)
  })

  test('images, voice, locations and events show as a person would see them', async () => {
    // a picture drawn by the browser itself, so the screenshot shows a real thumbnail
    const dataUrl = await page.evaluate(() => {
      const canvas = document.createElement('canvas')
      canvas.width = 240
      canvas.height = 160
      const g = canvas.getContext('2d')!
      const fill = g.createLinearGradient(0, 0, 240, 160)
      fill.addColorStop(0, '#07c160')
      fill.addColorStop(1, '#2563eb')
      g.fillStyle = fill
      g.fillRect(0, 0, 240, 160)
      g.fillStyle = '#fff'
      g.font = '28px sans-serif'
      g.fillText('wxmp 图片', 50, 90)
      return canvas.toDataURL('image/png')
    })
    const png = Buffer.from(dataUrl.split(',')[1]!, 'base64')
    const imageId = fixture.fake.addMedia({ type: 'image', data: png, contentType: 'image/png', filename: 'cat.png' })
    // AMR-NB: header, then 150 frames of mode 7 (32 bytes each) = 3 s
    const frame = Buffer.alloc(32)
    frame[0] = 7 << 3
    const amr = Buffer.concat([Buffer.from('#!AMR\n'), ...Array.from({ length: 150 }, () => frame)])
    const voiceId = fixture.fake.addMedia({ type: 'voice', data: amr, contentType: 'audio/amr', filename: 'v.amr' })
    await page.goto(`${fixture.consoleUrl}#/inbox/oMediaUser001`)
    await deliver(fixture, 'image', { MediaId: imageId, PicUrl: 'http://mmbiz.qpic.cn/x.jpg' }, 'oMediaUser001')
    await deliver(fixture, 'voice', { MediaId: voiceId, Format: 'amr', Recognition: '你好' }, 'oMediaUser001')
    await deliver(fixture, 'location', { Location_X: '23.134521', Location_Y: '113.358803', Scale: '20', Label: '广州塔' }, 'oMediaUser001')
    await deliver(fixture, 'event:CLICK', { EventKey: 'V1001_TODAY' }, 'oMediaUser001')
    await page.waitForSelector('.bubble.user img.thumb')
    await page.waitForFunction(() => (document.querySelector('img.thumb') as HTMLImageElement | null)?.naturalWidth === 240, undefined, { timeout: 5000 })
    await page.waitForFunction(() => document.querySelector('.voice-length')?.textContent === '0:03', undefined, { timeout: 5000 })
    assert.match((await page.textContent('.card.location')) ?? '', /广州塔.*23\.134521° N, 113\.358803° E/)
    assert.match((await page.textContent('.badge.event')) ?? '', /V1001_TODAY/)
    // the thumbnail came through the console's media route, never from mmbiz
    assert.match((await page.getAttribute('img.thumb', 'src')) ?? '', /\/console\/api\/media\//)
    await screenshot(page, 'inbox-media-desktop')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'inbox-phone')
    await page.goto(`${fixture.consoleUrl}#/inbox`)
    await page.waitForSelector('.conv-item')
    await screenshot(page, 'inbox-list-phone')
    await page.setViewportSize(DESKTOP)
  })
})
