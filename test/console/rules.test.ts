/**
 * 自动回复 (replies without code) in a real Chromium, through the real server, the simulator and
 * the fake WeChat: a rule created in the UI answers the next simulated message; a rule with a
 * bad field is refused with the CLI's very message, naming the field; editing, switching off,
 * testing and deleting; a paused conversation gets no rule reply either; keyboard only; and
 * screenshots at desktop and phone width.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { deliver, DESKTOP, PHONE, screenshot, signIn, startConsoleFixture, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page (see inbox.test.ts)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any

const BIN = fileURLToPath(new URL('../../bin/wxmp.js', import.meta.url))
const textOf = (result: Awaited<ReturnType<typeof deliver>>) => String(result.final.reply?.Content ?? '')

describe('console rules (replies without code)', () => {
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

  test('a rule created in the UI answers the next simulated message', async () => {
    // before: the echo bot answers
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '请问营业时间？' }, 'oRulesUser001')), '请问营业时间？')
    await page.click('nav a[href="#/rules"]')
    await page.waitForSelector('.rule-items .empty')
    await page.click('#rule-new')
    await page.waitForSelector('.rule-editor')
    await page.fill('[data-field="name"]', '营业时间')
    await page.fill('[data-field="trigger.contains"]', '营业时间\n几点开门')
    await page.fill('[data-field="reply.content"]', '我们每天 9:00–18:00 营业。您问的是：{text}')
    await page.click('.rule-editor button[type=submit]')
    await page.waitForSelector('.rule-item[data-rule] .rule-name')
    assert.match((await page.textContent('.rule-item .rule-when')) ?? '', /包含 “营业时间” 或 “几点开门”/)
    const reply = await deliver(fixture, 'text', { Content: '请问营业时间？' }, 'oRulesUser001')
    assert.equal(textOf(reply), '我们每天 9:00–18:00 营业。您问的是：请问营业时间？')
    const audit = await fixture.server.records.db.all<{ action: string; operator: string; ok: number }>("SELECT action, operator, ok FROM wxmp_console_audit WHERE action LIKE 'rule.%'")
    assert.deepEqual(audit.map((a) => [a.action, a.operator, Number(a.ok)]), [['rule.create', 'alice', 1]])
  })

  test('a rule with a bad field is refused with the CLI message naming the field, and nothing is stored', async () => {
    const before = (await fixture.server.rules!.store.list()).length
    await page.goto(`${fixture.consoleUrl}#/rules/new`)
    await page.waitForSelector('.rule-editor')
    await page.selectOption('[data-field="trigger"]', 'regex')
    await page.fill('[data-field="trigger.pattern"]', '(a+)+$')
    await page.fill('[data-field="reply.content"]', 'aaa')
    const sent = page.waitForRequest((r) => r.url().endsWith('/console/api/rules') && r.method() === 'POST')
    await page.click('.rule-editor button[type=submit]')
    const body = (await sent).postData()!
    await page.waitForSelector('[data-field="trigger.pattern"][aria-invalid="true"]')
    const shown = (await page.textContent('.rule-refusal .cli-message')) ?? ''
    const beside = (await page.textContent('.field[data-for="trigger.pattern"] .field-error')) ?? ''
    assert.match(beside, /^rule #1 trigger\.pattern: can backtrack catastrophically/)
    assert.match((await page.textContent('.rule-refusal')) ?? '', /规则未保存/)
    // the CLI, given the very rule the page sent, says the same
    const cli = spawnSync(process.execPath, [BIN, 'rules', 'add', '--json', body], { env: { ...process.env, DATABASE_URL: 'memory:', WXMP_LOG_LEVEL: 'silent' }, encoding: 'utf8' })
    assert.equal(cli.status, 1)
    assert.equal(cli.stderr.trim(), `wxmp: WX_ERR_RULE_INVALID: ${shown}`)
    assert.ok(shown.includes(beside))
    assert.equal((await fixture.server.rules!.store.list()).length, before)
    await page.evaluate(() => document.querySelector('.rule-side').scrollTo(0, 0))
    await screenshot(page, 'rules-refused-desktop')
  })

  test('edit, test, switch off and on, and delete', async () => {
    const [rule] = await fixture.server.rules!.store.list()
    await page.goto(`${fixture.consoleUrl}#/rules/${rule!.id}`)
    await page.waitForSelector('.rule-editor [data-field="reply.content"]')
    await page.fill('[data-field="reply.content"]', '营业时间：工作日 9:00–18:00')
    await page.click('.rule-editor button[type=submit]')
    await page.waitForFunction(() => (document.querySelector('.rule-item .rule-what')?.textContent ?? '').includes('工作日'))
    // the test box: which rule answers, and with what
    await page.fill('#rule-test-value', '几点开门呀')
    await page.click('.rule-test button[type=submit]')
    await page.waitForSelector(`.rule-test-result [data-rule="${rule!.id}"]`)
    assert.match((await page.textContent('.rule-test-result')) ?? '', /营业时间：工作日 9:00–18:00/)
    // off: the echo bot answers again; on: the rule does
    await page.click(`.rule-item[data-rule="${rule!.id}"] input.switch`)
    await page.waitForSelector(`.rule-item.off[data-rule="${rule!.id}"]`)
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '几点开门' }, 'oRulesUser001')), '几点开门')
    await page.click(`.rule-item[data-rule="${rule!.id}"] input.switch`)
    await page.waitForSelector(`.rule-item:not(.off)[data-rule="${rule!.id}"]`)
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '几点开门' }, 'oRulesUser001')), '营业时间：工作日 9:00–18:00')
    const actions = await fixture.server.records.db.all<{ action: string }>("SELECT action FROM wxmp_console_audit WHERE action LIKE 'rule.%' AND ok = 1 ORDER BY id")
    assert.deepEqual(actions.map((a) => a.action), ['rule.create', 'rule.update', 'rule.disable', 'rule.enable'])
  })

  test('a conversation an operator paused gets no rule reply either', async () => {
    await page.goto(`${fixture.consoleUrl}#/inbox/oRulesUser001`)
    await page.click('.conv-head button.secondary')
    await page.waitForSelector('.conv-head button.paused')
    const paused = await deliver(fixture, 'text', { Content: '营业时间？' }, 'oRulesUser001')
    assert.equal(paused.final.kind, 'no-reply', 'neither the rule nor the echo bot answered')
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '营业时间？' }, 'oRulesUser002')), '营业时间：工作日 9:00–18:00', 'others still get the rule')
    await page.click('.conv-head button.paused')
    await page.waitForSelector('.conv-head button.secondary:not(.paused)')
    assert.equal(textOf(await deliver(fixture, 'text', { Content: '营业时间？' }, 'oRulesUser001')), '营业时间：工作日 9:00–18:00')
  })

  test('the API names what is wrong: an unknown rule, a changed id, a bad test message', async () => {
    const rule = { trigger: { type: 'keyword', exact: ['x'] }, reply: { type: 'text', content: 'x' } }
    const requests: Array<[string, string, unknown]> = [['PUT', '/rules/no-such-rule', rule], ['DELETE', '/rules/no-such-rule', {}], ['POST', '/rules/no-such-rule/enabled', { enabled: 'yes' }], ['POST', '/rules/test', { kind: 'message', msgType: 'text' }]]
    // (no named functions inside: the callback runs in the page as written)
    const answers = await page.evaluate(
      async ([base, list]) => {
        const { csrf } = (await (await fetch(`${base}/api/session`)).json()) as { csrf: string }
        const out: Array<{ status: number; error: { code: string; message: string } }> = []
        for (const [method, path, body] of list) {
          const res = await fetch(`${base}/api${path}`, { method, headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) })
          out.push({ status: res.status, error: ((await res.json()) as { error: { code: string; message: string } }).error })
        }
        return out
      },
      [new URL(fixture.consoleUrl).pathname.replace(/\/$/, ''), requests] as const,
    )
    assert.deepEqual(answers.map((a) => [a.status, a.error.code]), [[404, 'WX_ERR_NOT_FOUND'], [404, 'WX_ERR_NOT_FOUND'], [400, 'WX_ERR_API_INPUT'], [400, 'WX_ERR_API_INPUT']])
    assert.match(answers[0]!.error.message, /no rule with id "no-such-rule"/)
    assert.match(answers[3]!.error.message, /msgType must be one of image/)
  })

  test('keyboard alone: a new rule typed and saved with Enter, then deleted', async () => {
    await page.goto(`${fixture.consoleUrl}#/rules`)
    await page.waitForSelector('.rule-item')
    await page.focus('#rule-new')
    await page.keyboard.press('Enter')
    await page.waitForSelector('.rule-editor [data-field="name"]')
    await page.focus('[data-field="name"]')
    await page.keyboard.type('关注欢迎')
    await page.focus('[data-field="trigger"]')
    await page.keyboard.press('ArrowDown') // keyword → regex
    await page.keyboard.press('ArrowDown') // → follow
    await page.waitForSelector('[data-field="trigger.scene"]')
    await page.focus('[data-field="reply.content"]')
    await page.keyboard.type('欢迎关注！')
    await page.focus('[data-field="name"]')
    await page.keyboard.press('Enter') // Enter in a text field submits the form
    await page.waitForFunction(() => [...document.querySelectorAll('.rule-item .rule-name')].some((e) => (e.textContent ?? '').includes('关注欢迎')))
    const follow = await deliver(fixture, 'event:subscribe', {}, 'oRulesUser003')
    assert.equal(textOf(follow), '欢迎关注！')
    const id = (await fixture.server.rules!.store.list()).find((r) => r.name === '关注欢迎')!.id
    await page.goto(`${fixture.consoleUrl}#/rules/${id}`)
    await page.waitForSelector('.rule-editor button.danger')
    await page.focus('.rule-editor button.danger')
    await page.keyboard.press('Enter')
    await page.keyboard.press('Enter') // the second press confirms
    await page.waitForFunction(() => ![...document.querySelectorAll('.rule-item .rule-name')].some((e) => (e.textContent ?? '').includes('关注欢迎')))
    assert.equal(await fixture.server.rules!.store.get(id), undefined)
  })

  test('a page of rules as operators keep them, at desktop and phone width (screenshots)', async () => {
    await fixture.server.rules!.store.import([
      { id: 'welcome', name: '关注欢迎', trigger: { type: 'follow' }, reply: { type: 'news', articles: [{ title: '欢迎关注！新人礼包在这里', url: 'https://example.com/gift' }, { title: '门店地址与营业时间', url: 'https://example.com/shops' }] } },
      { id: 'today', name: '今日推荐', trigger: { type: 'click', key: 'V1001_TODAY' }, reply: { type: 'random', replies: [{ type: 'text', content: '今天推荐：桂花拿铁' }, { type: 'text', content: '今天推荐：生椰拿铁' }] } },
      { id: 'agent', name: '转人工', trigger: { type: 'keyword', exact: ['人工', '客服'] }, reply: { type: 'pass' } },
      { id: 'night', name: '夜间留言', enabled: false, trigger: { type: 'keyword', contains: ['在吗'] }, reply: { type: 'text', content: '客服下班了，明早 9 点回复您' }, schedule: { windows: [{ from: '18:00', to: '09:00' }] } },
      { id: 'default', name: '收到消息回复', trigger: { type: 'default' }, reply: { type: 'text', content: '收到，我们会尽快回复您' }, cooldownSec: 3600 },
    ])
    await page.goto(`${fixture.consoleUrl}#/rules/today`)
    await page.waitForSelector('.rule-editor [data-field="reply.replies[1].content"]')
    await page.fill('#rule-test-value', '人工')
    await page.click('.rule-test button[type=submit]')
    // 人工 is handed on to the code; only if the code leaves it unanswered does the default rule answer
    await page.waitForSelector('.rule-test-result [data-outcome="default"][data-rule="default"]')
    await page.evaluate(() => document.querySelector('main').scrollTo(0, 0))
    await screenshot(page, 'rules-desktop')
    await page.setViewportSize(PHONE)
    await page.goto(`${fixture.consoleUrl}#/rules`)
    await page.waitForSelector('.rule-item[data-rule="welcome"]')
    await screenshot(page, 'rules-phone')
    await page.goto(`${fixture.consoleUrl}#/rules/night`)
    await page.waitForSelector('.rule-editor [data-field="schedule.windows[0].from"]')
    await page.locator('.rule-editor [data-field="reply.content"]').scrollIntoViewIfNeeded()
    await page.evaluate(() => document.querySelector('[data-field="reply.content"]').scrollIntoView({ block: 'start' }))
    await screenshot(page, 'rules-editor-phone')
    await page.setViewportSize(DESKTOP)
  })
})

describe('console rules when the server runs without them', () => {
  test('WXMP_RULES=off: no 自动回复 page, and the API says why', async () => {
    const fixture = await startConsoleFixture({ WXMP_RULES: 'off' })
    try {
      const page = await fixture.browser.newPage({ viewport: DESKTOP })
      await signIn(page, fixture)
      assert.equal(await page.locator('nav a[href="#/rules"]').count(), 0)
      await page.goto(`${fixture.consoleUrl}#/rules`)
      await page.waitForSelector('.rule-items .empty')
      assert.match((await page.textContent('.rule-items')) ?? '', /WXMP_RULES=off/)
    } finally {
      await fixture.close()
    }
  })
})
