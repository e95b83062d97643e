import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import { MEDIA_LIMITS } from './media.js'

let fake: FakeWechat
let api: WechatApi
/** A PNG signature and a few bytes: what the bytes are does not matter to WeChat's checks. */
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 1)])

describe('api.media', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('upload (multipart field "media", type in the query) then download streams the same bytes', async () => {
    const up = await api.media.upload('image', PNG, 'cat.png')
    assert.equal(up.type, 'image')
    assert.ok(up.mediaId.length > 10)
    const call = fake.calls.find((c) => c.path === '/cgi-bin/media/upload')!
    assert.equal(call.query.type, 'image')
    assert.equal(fake.state.media.get(up.mediaId)?.contentType, 'image/png')
    const file = await api.media.download(up.mediaId)
    assert.equal(file.kind, 'file')
    if (file.kind !== 'file') return
    assert.equal(file.contentType, 'image/png')
    assert.equal(file.size, PNG.length)
    assert.match(file.filename ?? '', /\.png$/)
    const chunks: Buffer[] = []
    for await (const chunk of file.stream) chunks.push(Buffer.from(chunk as Uint8Array))
    assert.deepEqual(Buffer.concat(chunks), PNG)
  })

  test('buffer() reads the whole file; a Blob or Uint8Array uploads too', async () => {
    const fromBlob = await api.media.upload('voice', new Blob([Buffer.from('#!AMR\n')]), 'hello.amr')
    const fromBytes = await api.media.upload('video', new Uint8Array([1, 2, 3]), 'clip.mp4')
    const voice = await api.media.download(fromBlob.mediaId)
    assert.ok(voice.kind === 'file')
    assert.deepEqual(await voice.buffer(), Buffer.from('#!AMR\n'))
    assert.equal(fake.state.media.get(fromBytes.mediaId)?.contentType, 'video/mp4')
  })

  test('a thumb answers thumb_media_id; it comes back as mediaId', async () => {
    const thumb = await api.media.upload('thumb', Buffer.alloc(1000, 2), 'cover.jpg')
    assert.equal(thumb.type, 'thumb')
    assert.ok(fake.state.media.has(thumb.mediaId))
  })

  test('a video answers with its URL instead of bytes', async () => {
    const id = fake.addMedia({ type: 'video', data: Buffer.from('mp4'), contentType: 'video/mp4', filename: 'v.mp4' })
    const got = await api.media.download(id)
    assert.equal(got.kind, 'video')
    assert.ok(got.kind === 'video' && got.videoUrl.includes(id))
  })

  test('an unknown or expired media_id is WechatApiError 40007 (JSON on a download path), not a file', async () => {
    await assert.rejects(api.media.download('no-such-id'), (err: unknown) => err instanceof WechatApiError && err.errcode === 40007 && /3 days/.test(err.message))
  })

  test('type, extension and size are checked before uploading', async () => {
    const input = (pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && pattern.test((err as Error).message)
    await assert.rejects(api.media.upload('file' as never, PNG, 'a.png'), input(/image, voice, video or thumb/))
    await assert.rejects(api.media.upload('image', PNG, 'a.bmp'), input(/40005/))
    await assert.rejects(api.media.upload('image', PNG, 'noextension'), input(/40005/))
    await assert.rejects(api.media.upload('thumb', PNG, 'a.png'), input(/jpg/))
    await assert.rejects(api.media.upload('thumb', Buffer.alloc(MEDIA_LIMITS.thumb.maxBytes + 1), 'a.jpg'), input(/40006/))
    await assert.rejects(api.media.upload('image', Buffer.alloc(MEDIA_LIMITS.image.maxBytes + 1), 'a.jpg'), input(/2097153 bytes/))
    await assert.rejects(api.media.upload('image', Buffer.alloc(0), 'a.jpg'), input(/empty/))
    await assert.rejects(api.media.upload('image', PNG, 'a"b.png'), input(/quotes/))
    await assert.rejects(api.media.upload('image', 'text' as never, 'a.png'), input(/Buffer/))
    assert.equal(fake.calls.length, 0)
  })

  test('a file at the size limit is accepted', async () => {
    await api.media.upload('thumb', Buffer.alloc(MEDIA_LIMITS.thumb.maxBytes, 3), 'max.jpg')
  })

  test('an upload refused by a stale token is rebuilt and sent again after the refresh', async () => {
    await api.token.get()
    fake.inject({ errcode: 40001, path: '/cgi-bin/media/upload' })
    const up = await api.media.upload('image', PNG, 'again.png')
    assert.deepEqual(fake.state.media.get(up.mediaId)?.data, PNG)
    assert.equal(fake.tokenFetches(), 2)
    assert.equal(fake.calls.filter((c) => c.path === '/cgi-bin/media/upload').length, 2)
  })
})
