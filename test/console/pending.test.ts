/**
 * Answering by hand on an account without customer-service permission (the fake WeChat answers
 * 48001, as an unverified 订阅号 gets): the operator's answer waits and reaches the user as the
 * passive reply of their next simulated message; the page says which way an answer goes and
 * follows the answer from pending to delivered; the bot's own answers that waited for the next
 * message show how they left, live.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { deliver, DESKTOP, PHONE, screenshot, signIn, startConsoleFixture, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page (see inbox.test.ts)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any

const USER = 'oPendingUser01'
const textOf = (result: Awaited<ReturnType<typeof deliver>>) => String(result.final.reply?.Content ?? '')

describe('console answers on an account without customer service', () => {
  let fixture: ConsoleFixture
  let page: Page
  before(async () => {
    fixture = await startConsoleFixture()
    fixture.fake.setCustomerService(false)
    page = await fixture.browser.newPage({ viewport: DESKTOP })
    await signIn(page, fixture)
  })
  after(async () => {
    await fixture?.close()
  })

  test('an operator answer refused with 48001 is delivered as the passive reply of the user next simulated message', async () => {
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '有人吗？' }, USER)), '有人吗？')
    await page.goto(`${fixture.consoleUrl}#/inbox/${USER}`)
    await page.waitForSelector('.bubble.user')
    // nothing learned yet: the answer box offers customer service, with the 48-hour countdown
    await page.waitForSelector('.window .open')
    await page.fill('.composer textarea', '您好，我是人工客服小王。')
    await page.click('.composer button[type=submit]')
    await page.waitForSelector('.bubble.operator[data-via="next-message"] .status-pending')
    assert.match((await page.textContent('.bubble.operator .reply-note')) ?? '', /48001/)
    // from now on the page says answers wait for the next message
    await page.waitForSelector('.window .next-message')
    assert.match((await page.textContent('.window')) ?? '', /下次发消息时.*24 小时内有效.*48001/)
    assert.equal(await page.getAttribute('.composer textarea', 'placeholder'), '输入回复内容（Ctrl+Enter 发送），在用户下次发消息时送达')
    await screenshot(page, 'inbox-pending-desktop')

    const next = await deliver(fixture, 'text', { Content: '在吗' }, USER)
    assert.equal(next.final.kind, 'reply')
    assert.equal(textOf(next), '您好，我是人工客服小王。', 'the operator answer is the passive reply')
    // the page follows it live: delivered
    await page.waitForSelector('.bubble.operator[data-via="next-message"] .status-sent', { timeout: 5000 })
    // shown where the user saw it: as the reply to the message that fetched it
    await page.waitForFunction(() => [...document.querySelectorAll('.turn')].some((e) => e.querySelector('.bubble.user .text')?.textContent === '在吗' && e.querySelector('.bubble.operator .status-sent') !== null))
    const [row] = await fixture.server.records.db.all<{ status: string; errcode: number }>('SELECT status, errcode FROM wxmp_console_replies')
    assert.deepEqual({ ...row }, { status: 'next-message:sent', errcode: 48001 })
    // and the message after that is the bot's again
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '谢谢' }, USER)), '谢谢')
  })

  test('once 48001 is known, answers wait for the next message without trying customer service', async () => {
    const attempts = () => fixture.fake.calls.filter((c) => c.path.includes('/message/custom/send')).length
    const before = attempts()
    await page.fill('.composer textarea', '第二条人工回复')
    await page.keyboard.press('Control+Enter')
    await page.waitForFunction(() => document.querySelectorAll('.bubble.operator[data-via="next-message"] .status-pending').length === 1)
    assert.equal(attempts(), before, 'no customer-service call was made')
    const [, second] = await fixture.server.records.db.all<{ errcode: number | null }>('SELECT errcode FROM wxmp_console_replies ORDER BY id')
    assert.equal(second!.errcode, null)
    const audit = await fixture.server.records.db.all<{ detail: string }>("SELECT detail FROM wxmp_console_audit WHERE action = 'answer.text' ORDER BY id")
    assert.deepEqual(audit.map((a) => JSON.parse(a.detail).via), ['next-message', 'next-message'])
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '？' }, USER)), '第二条人工回复')
    await page.waitForFunction(() => document.querySelectorAll('.bubble.operator[data-via="next-message"] .status-sent').length === 2, undefined, { timeout: 5000 })
    await page.setViewportSize(PHONE)
    await screenshot(page, 'inbox-pending-phone')
    await page.setViewportSize(DESKTOP)
  })

  test("the bot's own answers that wait for the next message show how they left, and move on live", async () => {
    const openid = 'oPendingUser02'
    await page.goto(`${fixture.consoleUrl}#/inbox/${openid}`)
    // a slow answer that became a pending answer (as the core records it), then its delivery
    const records = fixture.server.records.messages
    const id = await records.recordInbound({ appId: fixture.fake.appId, msgKey: `${openid}:slow`, openid, msgType: 'text', createTime: Math.floor(Date.now() / 1000), rawXml: `<xml><ToUserName><![CDATA[gh_wxmp_sample]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[写一首长诗]]></Content><MsgId>1</MsgId></xml>`, receivedAt: Date.now(), encrypted: false })
    const replyXml = '<xml><ToUserName><![CDATA[x]]></ToUserName><FromUserName><![CDATA[y]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[一首长诗]]></Content></xml>'
    await records.recordOutcome(id, { replyVia: 'next-message', replyStatus: 'pending', replyXml, latencyMs: 15_000 })
    await page.waitForSelector(`.bubble.bot[data-reply-for="${id}"] .status-pending`, { timeout: 5000 })
    assert.match((await page.textContent(`.bubble.bot[data-reply-for="${id}"]`)) ?? '', /下条消息时送达.*等待用户发消息/)
    // the user writes again: the core records the delivery, and the page shows it without a reload
    await records.recordOutcome(id, { replyVia: 'next-message', replyStatus: 'sent', replyXml, latencyMs: 40_000 })
    await deliver(fixture, 'text', { Content: '继续' }, openid)
    await page.waitForSelector(`.bubble.bot[data-reply-for="${id}"] .status-sent`, { timeout: 5000 })
  })

  test('a row the live feed sends while the conversation is still loading stays on screen', async () => {
    const openid = 'oPendingUser03'
    // the conversation is read by the server now, and its answer held until the row below has come by the live feed
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    await page.route(`**/conversations/${openid}`, async (route) => {
      const response = await route.fetch()
      await held
      await route.fulfill({ response })
    })
    try {
      await page.goto(`${fixture.consoleUrl}#/inbox/${openid}`)
      const records = fixture.server.records.messages
      const id = await records.recordInbound({ appId: fixture.fake.appId, msgKey: `${openid}:early`, openid, msgType: 'text', createTime: Math.floor(Date.now() / 1000), rawXml: `<xml><ToUserName><![CDATA[gh_wxmp_sample]]></ToUserName><FromUserName><![CDATA[${openid}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[加载时到的消息]]></Content><MsgId>3</MsgId></xml>`, receivedAt: Date.now(), encrypted: false })
      await records.recordOutcome(id, { replyVia: 'passive', replyXml: '<xml><ToUserName><![CDATA[x]]></ToUserName><FromUserName><![CDATA[y]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[回声]]></Content></xml>', latencyMs: 3 })
      // the list shows it: the live feed has sent it while the conversation was loading
      await page.waitForFunction((o: string) => document.querySelector(`.conv-item[data-openid="${o}"] .conv-preview`)?.textContent?.includes('加载时到的消息') === true, openid, { timeout: 10_000 })
      release()
      await page.waitForSelector(`.bubble.user >> text=加载时到的消息`, { timeout: 5000 })
    } finally {
      release()
      // the page may have asked for the conversation again meanwhile: wait for that handler too,
      // or its fulfill would meet a route the removal already let through (an unhandled rejection)
      await page.unrouteAll({ behavior: 'wait' })
    }
  })
})
