import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import { WechatApi } from '../client.js'

let fake: FakeWechat
let api: WechatApi
const lastBody = () => fake.calls.filter((c) => c.path === '/cgi-bin/qrcode/create').at(-1)?.body

describe('api.qrcode', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

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

  test('ticket → image URL on mp.weixin.qq.com (also with another WeChat API host), the ticket URL-encoded', () => {
    for (const baseUrl of [undefined, 'https://sh.api.weixin.qq.com']) {
      const real = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, ...(baseUrl === undefined ? {} : { baseUrl }) })
      assert.equal(real.qrcode.imageUrl('gQH4+jo/AA=='), 'https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQH4%2Bjo%2FAA%3D%3D')
    }
    const proxied = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url, mpBaseUrl: 'https://mp.example.com/' })
    assert.equal(proxied.qrcode.imageUrl('t'), 'https://mp.example.com/cgi-bin/showqrcode?ticket=t')
  })

  test('against the fake, the image URL answers an image for a live ticket and 404 for an unknown or expired one', async () => {
    const { ticket } = await api.qrcode.createTemporary({ sceneId: 7 }, 60)
    const res = await fetch(api.qrcode.imageUrl(ticket))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'image/gif')
    assert.equal((await fetch(api.qrcode.imageUrl('unknown'))).status, 404)
  })
})
