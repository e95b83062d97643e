import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import type { Menu, MenuButton } from '../menu-limits.js'

let fake: FakeWechat
let api: WechatApi

/** The documentation's example menu. */
const EXAMPLE: Menu = {
  button: [
    { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
    {
      name: '菜单',
      sub_button: [
        { type: 'view', name: '搜索', url: 'http://www.soso.com/' },
        { type: 'miniprogram', name: 'wxa', url: 'http://mp.weixin.qq.com', appid: 'wx286b93c14bbf93aa', pagepath: 'pages/lunar/index' },
        { type: 'click', name: '赞一下我们', key: 'V1001_GOOD' },
      ],
    },
  ],
}

const input = (pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && pattern.test((err as Error).message)

describe('api.menu', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('create, get (menuid as a string), the current self-menu info, delete', async () => {
    await assert.rejects(api.menu.get(), (err: unknown) => err instanceof WechatApiError && err.errcode === 46003)
    await api.menu.create(EXAMPLE)
    const got = await api.menu.get()
    assert.deepEqual(got.menu?.button[0], { ...EXAMPLE.button[0], sub_button: [] })
    assert.deepEqual(got.menu?.button[1]?.sub_button?.[0], { type: 'view', name: '搜索', url: 'http://www.soso.com/', sub_button: [] })
    assert.equal(typeof got.menu?.menuid, 'string')
    const info = await api.menu.getCurrentSelfMenuInfo()
    assert.equal(info.is_menu_open, 1)
    await api.menu.delete()
    await assert.rejects(api.menu.get(), (err: unknown) => err instanceof WechatApiError && err.errcode === 46003)
  })

  test('what menu/get answers (leaves with "sub_button": []) can be pushed back unchanged', async () => {
    await api.menu.create(EXAMPLE)
    const got = await api.menu.get()
    assert.deepEqual(got.menu!.button[0]?.sub_button, [])
    await api.menu.create({ button: got.menu!.button })
  })

  test('conditional menus: add (menuid string), trymatch by tag, delete; 65301 for an unknown menuid', async () => {
    const openid = 'oWxmpTestUser000000000000001'
    fake.addUser(openid)
    await api.menu.create(EXAMPLE)
    const tag = await api.tag.create('VIP')
    await api.tag.tagUsers(tag.id, [openid])
    const menuid = await api.menu.addConditional({ button: [{ type: 'click', name: 'VIP', key: 'VIP' }], matchrule: { tag_id: String(tag.id) } })
    assert.match(menuid, /^\d+$/)
    assert.deepEqual((await api.menu.tryMatch(openid)).button, [{ type: 'click', name: 'VIP', key: 'VIP' }])
    await api.menu.deleteConditional(menuid)
    assert.deepEqual((await api.menu.tryMatch(openid)).button, EXAMPLE.button)
    await assert.rejects(api.menu.deleteConditional(menuid), (err: unknown) => err instanceof WechatApiError && err.errcode === 65301)
  })

  test('a conditional menu before any default menu: 65303 with the hint to create the default one', async () => {
    await assert.rejects(api.menu.addConditional({ button: [{ type: 'click', name: 'a', key: 'a' }], matchrule: { client_platform_type: '1' } }), (err: unknown) => err instanceof WechatApiError && err.errcode === 65303 && /default menu/.test(err.message))
  })

  describe('the documented limits are checked before anything is sent', () => {
    const leaf = (name: string, extra: Partial<MenuButton> = {}): MenuButton => ({ type: 'click', name, key: 'K', ...extra })
    const cases: Array<[string, unknown, RegExp]> = [
      ['no buttons', { button: [] }, /1–3 top-level/],
      ['four top-level buttons', { button: [leaf('a'), leaf('b'), leaf('c'), leaf('d')] }, /got 4/],
      ['six sub-buttons', { button: [{ name: 'p', sub_button: Array.from({ length: 6 }, (_, i) => leaf(`s${i}`)) }] }, /1–5 buttons, got 6/],
      ['an empty sub_button list on a parent', { button: [{ name: 'p', sub_button: [] }] }, /1–5 buttons, got 0/],
      ['a top-level name of 17 bytes', { button: [leaf('一二三四五六')] }, /18 bytes, the limit is 16 at top level/],
      ['a sub-level name of 61 bytes', { button: [{ name: 'p', sub_button: [leaf('x'.repeat(61))] }] }, /61 bytes, the limit is 60 at sub level/],
      ['a key of 129 bytes', { button: [leaf('a', { key: 'k'.repeat(129) })] }, /key is 129 bytes, the limit is 128/],
      ['a url of 1025 bytes', { button: [{ type: 'view', name: 'a', url: 'http://x/' + 'u'.repeat(1016) }] }, /url is 1025 bytes/],
      ['the console-only text type', { button: [{ type: 'text', name: 'a' }] }, /"text".*console-only/],
      ['a click without key', { button: [{ type: 'click', name: 'a' }] }, /key is required/],
      ['a view without url', { button: [{ type: 'view', name: 'a' }] }, /url is required/],
      ['a miniprogram without pagepath', { button: [{ type: 'miniprogram', name: 'a', url: 'http://x', appid: 'wx1' }] }, /pagepath is required/],
      ['a parent with a type', { button: [{ type: 'click', key: 'k', name: 'p', sub_button: [leaf('s')] }] }, /both a type and sub_button/],
      ['three levels', { button: [{ name: 'p', sub_button: [{ name: 'q', sub_button: [leaf('r')] }] }] }, /two levels deep/],
      ['a button that is not an object', { button: ['click'] }, /must be an object/],
      ['not an object at all', null, /must be an object/],
    ]
    for (const [what, menu, message] of cases) {
      test(`refused: ${what}`, async () => {
        await assert.rejects(api.menu.create(menu as Menu), input(message))
        assert.equal(fake.calls.length, 0)
      })
    }

    test('16 bytes at top level and 60 at sub level are accepted', async () => {
      await api.menu.create({ button: [leaf('一二三四五a'), { name: 'p', sub_button: [leaf('x'.repeat(60))] }] })
    })

    test('matchrule: privacy fields (65320), unknown fields, an empty rule and a bad platform are refused', async () => {
      const button = [leaf('a')]
      await assert.rejects(api.menu.addConditional({ button, matchrule: { sex: '1' } as never }), input(/65320/))
      await assert.rejects(api.menu.addConditional({ button, matchrule: { group_id: '1' } as never }), input(/unknown fields group_id/))
      await assert.rejects(api.menu.addConditional({ button, matchrule: {} }), input(/needs tag_id or client_platform_type/))
      await assert.rejects(api.menu.addConditional({ button, matchrule: { client_platform_type: '4' as never } }), input(/"1" \(iOS\)/))
      assert.equal(fake.calls.length, 0)
    })
  })
})
