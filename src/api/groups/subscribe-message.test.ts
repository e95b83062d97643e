import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code
const OPENID = 'oSubscriber00001'

describe('api.subscribeMessage and the template administration', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('browse the library, add a template, send to a user who accepted it, delete it', async () => {
    const categories = await api.subscribeMessage.categories()
    assert.ok(categories.length > 0)
    const titles = await api.subscribeMessage.titles(categories.map((c) => c.id), 0, 10)
    const shipping = titles.data.find((t) => t.title === '订单发货通知')!
    const keywords = await api.subscribeMessage.keywords(String(shipping.tid))
    const id = await api.subscribeMessage.addTemplate(String(shipping.tid), keywords.slice(0, 3).map((k) => k.kid), '发货通知')
    const [template] = await api.subscribeMessage.listTemplates()
    assert.equal(template?.priTmplId, id)
    assert.match(template?.content ?? '', /\{\{thing1\.DATA\}\}/)
    const message = { touser: OPENID, template_id: id, page: 'https://example.com/order/1', data: { thing1: { value: '巧克力' }, thing2: { value: '顺丰' } } }
    await assert.rejects(api.subscribeMessage.send(message), errcode(43101))
    fake.acceptSubscription(OPENID, id)
    await api.subscribeMessage.send(message)
    assert.equal(fake.sent.at(-1)?.kind, 'subscribe')
    await assert.rejects(api.subscribeMessage.send({ ...message, data: { nope1: { value: 'x' } } }), errcode(47003))
    await api.subscribeMessage.deleteTemplate(id)
    await assert.rejects(api.subscribeMessage.deleteTemplate(id), errcode(200011))
  })

  test('library errors: unknown title, bad keywords, page size', async () => {
    await assert.rejects(api.subscribeMessage.addTemplate('9999', [1, 2]), errcode(200019))
    await assert.rejects(api.subscribeMessage.addTemplate('1234', [1, 99]), errcode(200020))
    await assert.rejects(api.subscribeMessage.titles([1]), errcode(200018))
    await assert.rejects(api.subscribeMessage.addTemplate('1234', [1]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
    await assert.rejects(api.subscribeMessage.send({ touser: OPENID, template_id: 'x', data: { a: { value: 1 as never } } }), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
  })

  test('template messages: industry get/set and adding from the library by short id', async () => {
    await api.template.setIndustry(1, 2)
    const industry = await api.template.getIndustry()
    assert.deepEqual(industry.primary_industry, { first_class: 'IT科技', second_class: '互联网/电子商务' })
    assert.equal(industry.secondary_industry.second_class, 'IT软件与服务')
    await assert.rejects(api.template.setIndustry(1, 99), errcode(47003))
    const id = await api.template.add('TM00015', ['商品名称'])
    assert.ok((await api.template.list()).some((t) => t.template_id === id))
    await assert.rejects(api.template.add('nope'), errcode(40037))
  })
})
