import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)])
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code

/** An article sent by mass send: its msg_data_id. */
async function sentArticle(): Promise<string> {
  const cover = await api.material.add('image', JPEG, 'c.jpg')
  const mediaId = await api.draft.add({ title: 't', content: '<p>x</p>', thumb_media_id: cover.mediaId, need_open_comment: 1 })
  const { msgDataId } = await api.mass.sendToAll({ type: 'mpnews', mediaId })
  return msgDataId!
}

describe('api.comment', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('list, elect, reply, delete reply, delete', async () => {
    const msgDataId = await sentArticle()
    const first = fake.addComment(msgDataId, { openid: 'oReader0000001', content: '写得好' })
    fake.addComment(msgDataId, { openid: 'oReader0000002', content: '第二条' })
    const article = { msgDataId }
    const { total, comments } = await api.comment.list(article, { count: 10 })
    assert.equal(total, 2)
    assert.equal(comments[0]?.content, '写得好')
    await api.comment.markElect(article, first)
    assert.deepEqual((await api.comment.list(article, { type: 2 })).comments.map((c) => c.user_comment_id), [first])
    await api.comment.unmarkElect(article, first)
    assert.equal((await api.comment.list(article, { type: 2 })).total, 0)
    await api.comment.reply(article, first, '谢谢!')
    assert.equal((await api.comment.list(article)).comments[0]?.reply?.content, '谢谢!')
    await assert.rejects(api.comment.reply(article, first, '再谢'), errcode(88005))
    await api.comment.deleteReply(article, first)
    await assert.rejects(api.comment.deleteReply(article, first), errcode(88009))
    await api.comment.delete(article, first)
    assert.equal((await api.comment.list(article)).total, 1)
    await assert.rejects(api.comment.markElect(article, first), errcode(88008))
  })

  test('closed comments answer 88000 until opened again; unknown articles 88001', async () => {
    const msgDataId = await sentArticle()
    await api.comment.close({ msgDataId })
    await assert.rejects(api.comment.list({ msgDataId }), errcode(88000))
    await api.comment.open({ msgDataId })
    assert.equal((await api.comment.list({ msgDataId })).total, 0)
    await assert.rejects(api.comment.list({ msgDataId: '123' }), errcode(88001))
    await assert.rejects(api.comment.list({ msgDataId, index: 1 }), errcode(88001))
  })

  test('page size and reply length are checked before sending', async () => {
    await assert.rejects(api.comment.list({ msgDataId: '1' }, { count: 50 }), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
    await assert.rejects(api.comment.reply({ msgDataId: '1' }, 1, ''), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
    await assert.rejects(api.call('/cgi-bin/comment/list', { msg_data_id: '1', begin: 0, count: 50, type: 0 }), errcode(88001))
  })
})
