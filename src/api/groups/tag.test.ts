import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const openid = (n: number) => `oWxmpTestUser${String(n).padStart(15, '0')}`

describe('api.tag', () => {
  before(async () => {
    fake = await startFakeWechat()
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.reset()
    api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
    for (let i = 1; i <= 3; i++) fake.addUser(openid(i))
  })

  test('create, list with counts, rename, delete', async () => {
    const tag = await api.tag.create('广东')
    assert.equal(tag.name, '广东')
    assert.ok(tag.id >= 100)
    await api.tag.tagUsers(tag.id, [openid(1), openid(2)])
    assert.deepEqual(
      (await api.tag.list()).map((t) => [t.name, t.count]),
      [
        ['星标组', 0],
        ['广东', 2],
      ],
    )
    await api.tag.update(tag.id, '广东人')
    assert.equal((await api.tag.list()).find((t) => t.id === tag.id)?.name, '广东人')
    await api.tag.delete(tag.id)
    assert.equal((await api.tag.list()).length, 1)
    assert.deepEqual(await api.tag.tagsOfUser(openid(1)), [])
  })

  test('tag and untag users, the members of a tag, the tags of a user', async () => {
    const tag = await api.tag.create('VIP')
    await api.tag.tagUsers(tag.id, [openid(1), openid(3)])
    assert.deepEqual((await api.tag.members(tag.id)).openids, [openid(1), openid(3)])
    assert.deepEqual(await api.tag.tagsOfUser(openid(3)), [tag.id])
    await api.tag.untagUsers(tag.id, [openid(3)])
    assert.deepEqual((await api.tag.members(tag.id)).openids, [openid(1)])
  })

  test('WeChat’s refusals come back as WechatApiError: duplicate name 45157, reserved tag 45058, unknown tag 45159', async () => {
    await api.tag.create('dup')
    await assert.rejects(api.tag.create('dup'), (err: unknown) => err instanceof WechatApiError && err.errcode === 45157)
    await assert.rejects(api.tag.update(2, 'mine'), (err: unknown) => err instanceof WechatApiError && err.errcode === 45058)
    await assert.rejects(api.tag.delete(99_999), (err: unknown) => err instanceof WechatApiError && err.errcode === 45159)
  })

  test('limits checked before sending: name over 30 characters, more than 50 OpenIDs, a non-integer id', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.tag.create('名'.repeat(31)), input)
    await assert.rejects(api.tag.create(''), input)
    await assert.rejects(api.tag.tagUsers(2, Array.from({ length: 51 }, (_, i) => openid(i))), (err: unknown) => input(err) && /40032/.test((err as Error).message))
    await assert.rejects(api.tag.tagUsers(2, []), input)
    await assert.rejects(api.tag.delete(1.5), input)
    assert.equal(fake.calls.length, 0)
  })
})
