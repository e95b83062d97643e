import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const clock = { now: Date.UTC(2026, 0, 10) }
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)])
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code
const A = 'oMassUser0000001'
const B = 'oMassUser0000002'

describe('api.mass', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a), fake.setMassQuota(10)), { now: () => clock.now })

  test('an article to everyone: msg_id and msg_data_id; the draft is consumed; status goes SENDING → SEND_SUCCESS', async () => {
    const cover = await api.material.add('image', JPEG, 'c.jpg')
    const mediaId = await api.draft.add({ title: 't', content: '<p>x</p>', thumb_media_id: cover.mediaId })
    const sent = await api.mass.sendToAll({ type: 'mpnews', mediaId, sendIgnoreReprint: true }, { clientMsgId: 'weekly-1' })
    assert.match(sent.msgId, /^\d+$/)
    assert.ok(sent.msgDataId)
    assert.equal(fake.sent.at(-1)?.touser, '@all')
    assert.equal(fake.sent.at(-1)?.body.send_ignore_reprint, 1)
    assert.equal(await api.draft.count(), 0)
    assert.equal(await api.mass.status(sent.msgId), 'SENDING')
    clock.now += 2000
    assert.equal(await api.mass.status(sent.msgId), 'SEND_SUCCESS')
    await api.mass.delete(sent.msgId)
    assert.equal(await api.mass.status(sent.msgId), 'DELETE')
  })

  test('to a tag, to OpenIDs, text and images; clientmsgid repeats within 24 h are refused', async () => {
    const tag = await api.tag.create('VIP')
    await api.mass.sendToTag(tag.id, { type: 'text', content: '你好' }, { clientMsgId: 'c1' })
    assert.equal(fake.sent.at(-1)?.touser, `@tag:${tag.id}`)
    await assert.rejects(api.mass.sendToTag(tag.id, { type: 'text', content: '你好' }, { clientMsgId: 'c1' }), errcode(45065))
    clock.now += 86_400_000
    await api.mass.sendToTag(tag.id, { type: 'text', content: '你好' }, { clientMsgId: 'c1' })
    const image = await api.material.add('image', JPEG, 'i.jpg')
    await api.mass.sendToOpenids([A, B], { type: 'image', mediaIds: [image.mediaId], recommend: '推荐' })
    assert.deepEqual(fake.sent.at(-1)?.body.images, { media_ids: [image.mediaId], recommend: '推荐', need_open_comment: 0, only_fans_can_comment: 0 })
    await assert.rejects(api.mass.sendToTag(999, { type: 'text', content: 'x' }), errcode(40152))
    await assert.rejects(api.mass.sendToOpenids([A, B], { type: 'voice', mediaId: image.mediaId }), errcode(40007))
  })

  test('the mass quota runs out with 45028; previews do not count', async () => {
    fake.setMassQuota(1)
    await api.mass.preview(A, { type: 'text', content: 'preview' })
    await api.mass.preview({ wxname: 'someone' }, { type: 'text', content: 'preview' })
    assert.deepEqual(fake.sent.map((s) => s.kind), ['mass-preview', 'mass-preview'])
    await api.mass.sendToAll({ type: 'text', content: 'one' })
    await assert.rejects(api.mass.sendToAll({ type: 'text', content: 'two' }), errcode(45028))
  })

  test('speed get and set', async () => {
    assert.deepEqual(await api.mass.getSpeed(), { speed: 0, realspeed: 80 })
    await api.mass.setSpeed(3)
    assert.deepEqual(await api.mass.getSpeed(), { speed: 3, realspeed: 30 })
  })

  test('bad input is refused before sending; the fake refuses one OpenID with 40130', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.mass.sendToOpenids([A], { type: 'text', content: 'x' }), input)
    await assert.rejects(api.mass.sendToAll({ type: 'image', mediaIds: [] }), input)
    await assert.rejects(api.mass.sendToAll({ type: 'text', content: 'x' }, { clientMsgId: 'x'.repeat(65) }), input)
    await assert.rejects(api.mass.setSpeed(5 as never), input)
    await assert.rejects(api.call('/cgi-bin/message/mass/send', { touser: [A], msgtype: 'text', text: { content: 'x' } }), errcode(40130))
  })
})
