import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import { DRAFT_LIMITS, type DraftArticle } from './draft.js'

let fake: FakeWechat
let api: WechatApi
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)])
const input = (pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && pattern.test((err as Error).message)
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code

async function article(fields: Partial<DraftArticle> = {}): Promise<DraftArticle> {
  const cover = await api.material.add('image', JPEG, 'cover.jpg')
  return { title: '标题', author: '作者', digest: '摘要', content: '<p>正文</p>', thumb_media_id: cover.mediaId, need_open_comment: 1, ...fields }
}

describe('api.draft', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('add, get, update, count, batchGet and delete a draft', async () => {
    const first = await article()
    const mediaId = await api.draft.add(first)
    const [stored] = await api.draft.get(mediaId)
    assert.equal(stored?.title, '标题')
    assert.equal(stored?.need_open_comment, 1)
    assert.match(stored?.thumb_url ?? '', /mmbiz\.qpic\.cn/)
    await api.draft.update(mediaId, 0, { ...first, title: '新标题' })
    assert.equal((await api.draft.get(mediaId))[0]?.title, '新标题')
    await api.draft.add([await article({ title: '二' }), await article({ title: '三' })])
    assert.equal(await api.draft.count(), 2)
    const page = await api.draft.batchGet({ count: 1, noContent: true })
    assert.equal(page.total_count, 2)
    assert.equal(page.item.length, 1)
    assert.equal(page.item[0]?.content.news_item[0]?.content, '')
    await api.draft.delete(mediaId)
    await assert.rejects(api.draft.get(mediaId), errcode(40007))
    assert.equal(await api.draft.count(), 1)
  })

  test('update of an index the draft does not have is refused by WeChat', async () => {
    const mediaId = await api.draft.add(await article())
    await assert.rejects(api.draft.update(mediaId, 3, await article()), errcode(53405))
  })

  test('images that did not come from uploadimg are dropped from the stored content, as WeChat filters them', async () => {
    const url = await api.material.uploadArticleImage(JPEG, 'a.jpg')
    const mediaId = await api.draft.add(await article({ content: `<p><img src="${url}"><img src="https://example.com/x.png"></p>` }))
    const content = (await api.draft.get(mediaId))[0]?.content ?? ''
    assert.ok(content.includes(url))
    assert.ok(!content.includes('example.com'))
  })

  test('the article limits are checked before sending, naming the limit', async () => {
    const a = await article()
    const before = fake.calls.length
    await assert.rejects(api.draft.add({ ...a, title: '字'.repeat(DRAFT_LIMITS.titleChars + 1) }), input(/title is 33 characters, the limit is 32/))
    await assert.rejects(api.draft.add({ ...a, author: 'a'.repeat(17) }), input(/45110/))
    await assert.rejects(api.draft.add({ ...a, digest: 'd'.repeat(129) }), input(/45004/))
    await assert.rejects(api.draft.add({ ...a, content: '<p>' + '文'.repeat(20_000) + '</p>' }), input(/20000/))
    await assert.rejects(api.draft.add({ ...a, content_source_url: 'ftp://x' }), input(/http/))
    await assert.rejects(api.draft.add({ ...a, thumb_media_id: undefined }), input(/thumb_media_id/))
    await assert.rejects(api.draft.add(Array.from({ length: 9 }, () => a)), input(/1–8 articles/))
    await assert.rejects(api.draft.add({ ...a, need_open_comment: 2 as never }), input(/0 or 1/))
    assert.equal(fake.calls.length, before)
  })

  test('the fake answers WeChat errcodes for what the client lets through or cannot know', async () => {
    const a = await article()
    await assert.rejects(api.draft.add({ ...a, thumb_media_id: 'not-a-material' }), errcode(40007))
    const temporary = await api.media.upload('image', JPEG, 't.jpg')
    await assert.rejects(api.draft.add({ ...a, thumb_media_id: temporary.mediaId }), errcode(40007))
    await assert.rejects(api.call('/cgi-bin/draft/add', { articles: [{ ...a, title: 'x'.repeat(33) }] }), errcode(45003))
    await assert.rejects(api.call('/cgi-bin/draft/add', { articles: [{ ...a, content: '' }] }), errcode(44004))
    await assert.rejects(api.call('/cgi-bin/draft/add', { articles: [] }), errcode(44003))
  })

  test('switch: check only, then on', async () => {
    assert.equal(await api.draft.switch(), false)
    assert.equal(await api.draft.switch({ checkOnly: false }), true)
    assert.equal(await api.draft.switch(), true)
  })
})
