import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const OPENID = 'oWxmpTestUser000000000000001'
const TEMPLATE_ID = 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY'

describe('api.template', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('send returns the msgid exactly, as a string (it exceeds 2^53)', async () => {
    const msgids = [
      await api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, data: { keyword1: { value: '巧克力' } } }),
      await api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, data: { keyword1: { value: '39.8元' } } }),
    ]
    assert.deepEqual(msgids, ['3487542469355618313', '3487542469355618314'])
    assert.deepEqual(
      fake.sent.map((s) => s.msgid),
      msgids,
    )
  })

  test('url, miniprogram and client_msg_id go out as given; undefined fields are left out', async () => {
    await api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, url: 'http://weixin.qq.com/download', miniprogram: { appid: 'wxa', pagepath: 'index?foo=bar' }, client_msg_id: 'MSG_000001', data: { k: { value: 'v' } } })
    await api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, url: undefined, data: { k: { value: 'v' } } })
    const [first, second] = fake.sent
    assert.deepEqual(first?.body, { touser: OPENID, template_id: TEMPLATE_ID, url: 'http://weixin.qq.com/download', miniprogram: { appid: 'wxa', pagepath: 'index?foo=bar' }, client_msg_id: 'MSG_000001', data: { k: { value: 'v' } } })
    assert.ok(!('url' in (second?.body ?? {})))
  })

  test('an unknown template_id is 40037 with a hint', async () => {
    await assert.rejects(api.template.send({ touser: OPENID, template_id: 'nope', data: {} }), (err: unknown) => err instanceof WechatApiError && err.errcode === 40037 && /template library/.test(err.message))
  })

  test('list and delete the account’s templates', async () => {
    fake.addTemplate('T2', { title: '到货提醒' })
    assert.deepEqual(
      (await api.template.list()).map((t) => t.template_id),
      [TEMPLATE_ID, 'T2'],
    )
    await api.template.delete('T2')
    assert.deepEqual(
      (await api.template.list()).map((t) => t.template_id),
      [TEMPLATE_ID],
    )
  })

  test('bad input fails before sending: touser, template_id, data shape, non-string values', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.template.send({ touser: '', template_id: TEMPLATE_ID, data: {} }), input)
    await assert.rejects(api.template.send({ touser: OPENID, template_id: '', data: {} }), input)
    await assert.rejects(api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, data: [] as never }), input)
    await assert.rejects(api.template.send({ touser: OPENID, template_id: TEMPLATE_ID, data: { k: { value: 1 as never } } }), input)
    await assert.rejects(api.template.send(undefined as never), input)
    assert.equal(fake.calls.length, 0)
  })
})
