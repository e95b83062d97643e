import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { WechatApi } from '../api/client.js'
import { validateMenu } from '../api/menu-limits.js'
import { consoleSettings, permanentMaterial, sampleConsoleSettings, setConsoleSettings } from '../testing/fake-wechat/handlers/console.js'
import { startFakeWechat, type FakeWechat } from '../testing/fake-wechat/index.js'
import { apiConsoleMedia, importConsole, readConsole } from './console-import.js'
import { openRuleStore, type RuleStore } from './store.js'

let fake: FakeWechat
let api: WechatApi
before(async () => {
  fake = await startFakeWechat()
  api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
})
after(() => fake.close())

async function fresh(): Promise<RuleStore> {
  fake.reset()
  setConsoleSettings(fake.state, sampleConsoleSettings())
  permanentMaterial(fake.state).clear()
  return openRuleStore('memory:', { appId: fake.appId })
}

const run = async (store: RuleStore, dryRun = false) => importConsole(await readConsole(api), store, apiConsoleMedia(api), { dryRun })
const addMaterialCalls = () => fake.calls.filter((c) => c.path === '/cgi-bin/material/add_material').length

describe('importing the console settings', () => {
  test('the fake serves the documented shapes: new temporary media ids on every read', async () => {
    await fresh()
    const a = await api.autoReply.current()
    const b = await api.autoReply.current()
    assert.equal(a.is_add_friend_reply_open, 1)
    const modes = new Set(a.keyword_autoreply_info!.list.flatMap((r) => r.keyword_list_info.map((k) => k.match_mode)))
    assert.deepEqual([...modes].sort(), ['contain', 'equal'])
    assert.deepEqual(new Set(a.keyword_autoreply_info!.list.map((r) => r.reply_mode)), new Set(['random_one', 'reply_all']))
    const img = (x: typeof a) => x.keyword_autoreply_info!.list.flatMap((r) => r.reply_list_info).find((r) => r.type === 'img')!.content
    assert.notEqual(img(a), img(b), 'temporary media ids change on each call')
    const menu = await api.autoReply.currentMenu()
    assert.equal(menu.is_menu_open, 1)
    assert.deepEqual(menu.selfmenu_info!.button.map((b) => b.type ?? 'parent'), ['parent', 'news', 'parent'])
  })

  test('dry run: the plan, what cannot be converted, and nothing stored or uploaded', async () => {
    const store = await fresh()
    const plan = await run(store, true)
    const ids = plan.rules.map((r) => r.id)
    assert.deepEqual(ids.filter((id) => id!.startsWith('console-menu')), ['console-menu-1-1', 'console-menu-1-3', 'console-menu-2', 'console-menu-3-3'])
    assert.ok(ids.includes('console-follow') && ids.includes('console-default'))
    assert.equal(ids.filter((id) => id!.startsWith('console-keyword')).length, 5, 'the video-only rule is not converted')
    assert.deepEqual(
      plan.notConverted.map((n) => n.what),
      ['menu button 「服务 / 视频介绍」', 'keyword rule 「视频介绍」 reply 1', 'keyword rule 「视频介绍」'],
    )
    assert.match(plan.notConverted[0]!.why, /download link, not a media id/)
    assert.ok(plan.notes.some((n) => /「新品」.*1 article.*「新品试用活动」/.test(n)), plan.notes.join('\n'))
    assert.ok(plan.notes.some((n) => /视频介绍.*click button with key console-menu-3-1/.test(n)))
    assert.equal(plan.result.created.length, plan.rules.length)
    assert.equal(plan.media.toCopy, 3)
    assert.deepEqual(await store.list(), [])
    assert.equal(addMaterialCalls(), 0)
    validateMenu(plan.menu)
    assert.deepEqual(plan.menu!.button[2]!.sub_button!.map((b) => [b.type, b.key ?? b.url]), [
      ['click', 'console-menu-3-1'],
      ['miniprogram', 'https://www.example.com/shop'],
      ['click', 'console-menu-3-3'],
    ])
    await store.close()
  })

  test('import: rules as the console had them, media copied once, and a second run changes nothing', async () => {
    const store = await fresh()
    const first = await run(store)
    assert.equal(first.media.copied, 3)
    assert.equal(addMaterialCalls(), 3)
    const stored = await store.list()
    assert.equal(stored.length, first.rules.length)
    const price = stored.find((r) => r.name === '价格')!
    assert.deepEqual(price.trigger, { type: 'keyword', contains: ['价格', '多少钱'] })
    assert.equal(price.reply.type, 'all')
    const image = (price.reply as { replies: Array<{ type: string; mediaId?: string }> }).replies[1]!
    assert.ok(permanentMaterial(fake.state).has(image.mediaId!), 'the image points at permanent material')
    const hours = stored.find((r) => r.name === '营业时间')!
    assert.deepEqual(hours.trigger, { type: 'keyword', exact: ['营业时间'], contains: ['几点开门'] })
    assert.deepEqual(stored.find((r) => r.id === 'console-follow')!.reply, { type: 'text', content: '感谢关注{{小店}}！回复「营业时间」「价格」「新品」试试。' })
    assert.equal(stored.find((r) => r.id === 'console-default')!.cooldownSec, 3600)
    // newest keyword rule first, all below the priorities people pick themselves
    const keywordOrder = stored.filter((r) => r.id.startsWith('console-keyword')).map((r) => r.name)
    assert.deepEqual(keywordOrder, ['新品', '客服', '价格', '听歌', '营业时间'])

    const version = await store.version()
    const second = await run(store)
    assert.deepEqual([second.result.created, second.result.updated, second.result.changed], [[], [], false])
    assert.equal(second.media.copied, 0)
    assert.equal(addMaterialCalls(), 3, 'no media uploaded again')
    assert.equal(await store.version(), version)
    await store.close()
  })

  test('a change in the console updates only that rule; rules of your own keep ranking above', async () => {
    const store = await fresh()
    await store.create({ id: 'mine', trigger: { type: 'keyword', contains: ['价格'] }, reply: { type: 'text', content: '我的价格规则' } })
    await run(store)
    const settings = consoleSettings(fake.state)
    settings.keywordRules.find((r) => r.rule_name === '营业时间')!.replies = [{ type: 'text', content: '营业时间：每天 10:00–22:00' }]
    settings.keywordRules.splice(settings.keywordRules.findIndex((r) => r.rule_name === '听歌'), 1)
    const again = await run(store)
    assert.deepEqual(again.result.updated, ['console-keyword-1760000100'])
    assert.equal(again.media.copied, 0)
    assert.deepEqual(again.stale, ['console-keyword-1760000200'], 'a rule the console dropped is listed, not deleted')
    assert.ok(await store.get('console-keyword-1760000200'))
    assert.equal((await store.test({ text: '价格' })).rule?.id, 'mine')
    await store.close()
  })

  test('after the converted menu is published, the console shows the API menu and a new import keeps the menu rules', async () => {
    const store = await fresh()
    const plan = await run(store)
    await api.menu.create(plan.menu!)
    const again = await run(store)
    assert.equal(again.menuHasConsoleButtons, false)
    assert.deepEqual(again.stale, [])
    assert.deepEqual(again.menu, plan.menu)
    assert.equal(again.result.changed, false)
    await store.close()
  })
})
