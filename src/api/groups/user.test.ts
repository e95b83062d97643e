import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { WechatApi } from '../client.js'

let fake: FakeWechat
let api: WechatApi
const openid = (n: number) => `oWxmpTestUser${String(n).padStart(15, '0')}`

describe('api.user', () => {
  before(async () => {
    fake = await startFakeWechat({ userPageSize: 2 })
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.reset()
    api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
  })

  test('info of a follower, and of someone who does not follow (subscribe 0, nothing else)', async () => {
    fake.addUser(openid(1), { unionid: 'o6_bmasdasdsad6_2sgVt7hMZOPfL', subscribe_scene: 'ADD_SCENE_QR_CODE', qr_scene: 98765 })
    const info = await api.user.info(openid(1))
    assert.equal(info.subscribe, 1)
    assert.equal(info.unionid, 'o6_bmasdasdsad6_2sgVt7hMZOPfL')
    assert.equal(info.qr_scene, 98765)
    assert.deepEqual(await api.user.info(openid(2)), { subscribe: 0, openid: openid(2) })
    assert.equal(fake.calls.at(-1)?.query.lang, 'zh_CN')
  })

  test('batchInfo: up to 100 in one call, more refused before sending', async () => {
    fake.addUser(openid(1))
    const list = await api.user.batchInfo([openid(1), openid(2)], 'en')
    assert.deepEqual(
      list.map((u) => [u.openid, u.subscribe]),
      [
        [openid(1), 1],
        [openid(2), 0],
      ],
    )
    await assert.rejects(api.user.batchInfo(Array.from({ length: 101 }, (_, i) => openid(i))), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /split the list/.test((err as Error).message))
    await assert.rejects(api.user.batchInfo([]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
  })

  test('list pages with next_openid; all() walks every page once', async () => {
    for (let i = 1; i <= 5; i++) fake.addUser(openid(i))
    fake.addUser(openid(6), { subscribe: 0 })
    const first = await api.user.list()
    assert.deepEqual(first, { total: 5, count: 2, openids: [openid(1), openid(2)], nextOpenid: openid(2) })
    const second = await api.user.list(first.nextOpenid)
    assert.deepEqual(second.openids, [openid(3), openid(4)])
    const all: string[] = []
    for await (const o of api.user.all()) all.push(o)
    assert.deepEqual(all, [1, 2, 3, 4, 5].map(openid))
    assert.equal(fake.calls.filter((c) => c.path === '/cgi-bin/user/get').length, 2 + 3)
  })

  test('all() stops on a cursor that does not move, instead of looping', async () => {
    // WeChat misbehaving: every page answers the same cursor
    fake.inject({ json: { total: 3, count: 1, data: { openid: [openid(1)] }, next_openid: openid(1) }, path: '/cgi-bin/user/get', times: 100 })
    const seen: string[] = []
    for await (const o of api.user.all()) seen.push(o)
    assert.deepEqual(seen, [openid(1), openid(1)])
    assert.equal(fake.calls.filter((c) => c.path === '/cgi-bin/user/get').length, 2)
  })

  test('updateRemark sets the remark; over 30 characters is refused before sending', async () => {
    fake.addUser(openid(1))
    await api.user.updateRemark(openid(1), '老客户')
    assert.equal((await api.user.info(openid(1))).remark, '老客户')
    await assert.rejects(api.user.updateRemark(openid(1), '长'.repeat(31)), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /31 characters/.test((err as Error).message))
  })

  test('a malformed OpenID is refused before sending', async () => {
    for (const bad of ['', 'has space', 'a/b', 'x'.repeat(65)]) {
      await assert.rejects(api.user.info(bad), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'), bad)
    }
    assert.equal(fake.calls.length, 0)
  })
})
