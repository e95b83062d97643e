import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import { ARTICLE_IMAGE_LIMITS, MATERIAL_LIMITS } from './material.js'

let fake: FakeWechat
let api: WechatApi
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300, 7)])
const input = (pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && pattern.test((err as Error).message)

describe('api.material', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('an image is added as permanent material (multipart, type in the query) with its URL, and read back as bytes', async () => {
    const added = await api.material.add('image', JPEG, 'cover.jpg')
    assert.match(added.url ?? '', /^http:\/\/mmbiz\.qpic\.cn\//)
    const call = fake.calls.find((c) => c.path === '/cgi-bin/material/add_material')!
    assert.equal(call.query.type, 'image')
    assert.deepEqual(call.body, { multipart: true, bytes: (call.body as { bytes: number }).bytes })
    const got = await api.material.get(added.mediaId)
    assert.equal(got.kind, 'file')
    assert.ok(got.kind === 'file' && got.data.equals(JPEG) && got.contentType === 'image/jpeg' && got.filename === 'cover.jpg')
  })

  test('a video carries its title and introduction; get answers its download URL', async () => {
    const video = await api.material.add('video', Buffer.from('mp4 bytes'), 'clip.mp4', { title: '演示', introduction: '一段视频' })
    const got = await api.material.get(video.mediaId)
    assert.deepEqual(got.kind === 'video' ? [got.title, got.description] : [], ['演示', '一段视频'])
    await assert.rejects(api.material.add('video', Buffer.from('x'), 'clip.mp4'), input(/video title/))
    await assert.rejects(api.material.add('image', JPEG, 'a.jpg', { title: 'x' }), input(/only video/))
  })

  test('count, batchGet (newest first, thumbs with images) and delete', async () => {
    const a = await api.material.add('image', JPEG, 'a.jpg')
    const b = await api.material.add('thumb', JPEG, 'b.jpg')
    await api.material.add('voice', Buffer.from('#!AMR'), 'hi.amr')
    assert.deepEqual(await api.material.count(), { voice_count: 1, video_count: 0, image_count: 2, news_count: 0 })
    const page = await api.material.batchGet('image', 0, 20)
    assert.equal(page.total_count, 2)
    assert.deepEqual(new Set(page.item.map((i) => i.media_id)), new Set([a.mediaId, b.mediaId]))
    await api.material.delete(a.mediaId)
    assert.equal((await api.material.batchGet('image')).total_count, 1)
    await assert.rejects(api.material.delete(a.mediaId), (err: unknown) => err instanceof WechatApiError && err.errcode === 40007)
    await assert.rejects(api.material.batchGet('image', 0, 21), input(/count/))
  })

  test('uploadArticleImage answers a URL; only jpg/png under 1 MB', async () => {
    const url = await api.material.uploadArticleImage(JPEG, 'chart.png')
    assert.match(url, /^http:\/\/mmbiz\.qpic\.cn\/mmbiz_png\//)
    await assert.rejects(api.material.uploadArticleImage(JPEG, 'anim.gif'), input(/jpg\/jpeg\/png/))
    await assert.rejects(api.material.uploadArticleImage(Buffer.alloc(ARTICLE_IMAGE_LIMITS.maxBytes + 1), 'big.jpg'), input(/limit is 1048576 \(1 MB/))
  })

  test('limits per type are checked before sending, naming the limit', async () => {
    await assert.rejects(api.material.add('thumb', Buffer.alloc(MATERIAL_LIMITS.thumb.maxBytes + 1), 'a.jpg'), input(/64 KB/))
    await assert.rejects(api.material.add('voice', Buffer.alloc(10), 'a.ogg'), input(/mp3\/wma\/wav\/amr/))
    await assert.rejects(api.material.add('video', Buffer.alloc(MATERIAL_LIMITS.video.maxBytes + 1), 'a.mp4', { title: 't' }), input(/10 MB/))
    await assert.rejects(api.material.add('news' as never, JPEG, 'a.jpg'), input(/image, voice, video or thumb/))
    await assert.rejects(api.material.add('image', Buffer.alloc(0), 'a.jpg'), input(/empty/))
    assert.equal(fake.calls.length, 0)
  })

  test('the fake refuses what WeChat refuses when the client checks are bypassed', async () => {
    const big = await api.raw('/cgi-bin/material/add_material', { query: { type: 'thumb' }, form: { media: { data: Buffer.alloc(70 * 1024), filename: 'a.jpg' } } }).catch((e: unknown) => e)
    assert.ok(big instanceof WechatApiError && big.errcode === 40012)
    const format = await api.call('/cgi-bin/media/uploadimg', undefined, { form: { media: { data: JPEG, filename: 'a.gif' } } }).catch((e: unknown) => e)
    assert.ok(format instanceof WechatApiError && format.errcode === 40005)
    const noFile = await api.call('/cgi-bin/material/add_material', undefined, { query: { type: 'image' }, form: { other: 'x' } }).catch((e: unknown) => e)
    assert.ok(noFile instanceof WechatApiError && noFile.errcode === 41005)
  })
})
