import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { WechatApi } from '../client.js'

let fake: FakeWechat
let api: WechatApi
const lastBody = () => fake.calls.filter((c) => c.path === '/cgi-bin/qrcode/create').at(-1)?.body

describe('api.qrcode', () => {
  before(async () => {
    fake = await startFakeWechat()
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.reset()
    api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
  })

  test('temporary codes with a number or a string scene, nested under action_info.scene', async () => {
    const a = await api.qrcode.createTemporary({ sceneId: 123 }, 604800)
    assert.deepEqual(lastBody(), { expire_seconds: 604800, action_name: 'QR_SCENE', action_info: { scene: { scene_id: 123 } } })
    assert.equal(a.expire_seconds, 604800)
    assert.ok(a.ticket.length > 0 && a.url.startsWith('http://weixin.qq.com/q/'))
    await api.qrcode.createTemporary({ sceneStr: 'invite-42' })
    assert.deepEqual(lastBody(), { expire_seconds: 2_592_000, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: 'invite-42' } } })
  })

  test('permanent codes have no expiry', async () => {
    const p = await api.qrcode.createPermanent({ sceneId: 100_000 })
    assert.deepEqual(lastBody(), { action_name: 'QR_LIMIT_SCENE', action_info: { scene: { scene_id: 100_000 } } })
    assert.equal(p.expire_seconds, undefined)
    await api.qrcode.createPermanent({ sceneStr: 's' })
    assert.equal((lastBody() as { action_name: string }).action_name, 'QR_LIMIT_STR_SCENE')
  })

  test('ranges are checked before sending: permanent id 1–100 000, string 1–64, expiry ≤ 30 days', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.qrcode.createPermanent({ sceneId: 100_001 }), input)
    await assert.rejects(api.qrcode.createPermanent({ sceneId: 0 }), input)
    await assert.rejects(api.qrcode.createTemporary({ sceneId: 1.5 }), input)
    await assert.rejects(api.qrcode.createTemporary({ sceneStr: 'x'.repeat(65) }), input)
    await assert.rejects(api.qrcode.createTemporary({ sceneStr: '' }), input)
    await assert.rejects(api.qrcode.createTemporary({ sceneId: 1 }, 2_592_001), input)
    await assert.rejects(api.qrcode.createTemporary({} as never), input)
    assert.equal(fake.calls.length, 0)
  })

  test('ticket → image URL on mp.weixin.qq.com, the ticket URL-encoded', () => {
    assert.equal(api.qrcode.imageUrl('gQH4+jo/AA=='), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH4%2Bjo%2FAA%3D%3D')
  })
})
