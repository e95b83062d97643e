import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakePublishJob, FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import type { PublishStatus } from './freepublish.js'

let fake: FakeWechat
let api: WechatApi
const finished: FakePublishJob[] = []
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)])

async function draft(title = '发布测试'): Promise<string> {
  const cover = await api.material.add('image', JPEG, 'cover.jpg')
  return api.draft.add({ title, content: '<p>正文</p>', thumb_media_id: cover.mediaId })
}

describe('api.publish', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a), (finished.length = 0)), { publishDelayMs: 150, onPublishFinished: (job) => finished.push(job) })

  test('submit → publishing (1) → published (0) with the article URL; the draft leaves the box', async () => {
    const mediaId = await draft()
    const { publishId, msgDataId } = await api.publish.submit(mediaId)
    assert.match(publishId, /^\d+$/)
    assert.ok(msgDataId)
    assert.equal((await api.publish.status(publishId)).publish_status, 1)
    const seen: number[] = []
    const result = await api.publish.waitFor(publishId, { intervalMs: 40, onStatus: (s) => seen.push(s.publish_status) })
    assert.equal(result.publish_status, 0)
    assert.equal(seen[0], 1)
    assert.match(result.article_detail?.item[0]?.article_url ?? '', /^https:\/\/mp\.weixin\.qq\.com\/s\//)
    await assert.rejects(api.draft.get(mediaId), (err: unknown) => err instanceof WechatApiError && err.errcode === 40007)
    assert.equal(finished.length, 1)
    const [article] = await api.publish.getArticle(result.article_id!)
    assert.equal(article?.title, '发布测试')
    assert.equal(article?.is_deleted, false)
    const page = await api.publish.batchGet({ count: 5 })
    assert.deepEqual(page.item.map((i) => i.article_id), [result.article_id])
    await api.publish.delete(result.article_id!)
    assert.equal((await api.publish.getArticle(result.article_id!))[0]?.is_deleted, true)
    assert.equal((await api.publish.status(publishId)).publish_status, 5)
  })

  test('a failed job is reported with its reason and failed articles (WX_ERR_PUBLISH_FAILED); the draft stays', async () => {
    fake.setPublishOutcome({ status: 4, failIdx: [1] })
    const mediaId = await draft()
    const { publishId } = await api.publish.submit(mediaId)
    await assert.rejects(api.publish.waitFor(publishId, { intervalMs: 40 }), (err: unknown) => isWxmpError(err, 'WX_ERR_PUBLISH_FAILED') && /platform audit/.test((err as Error).message) && /articles 1/.test((err as Error).message))
    assert.equal((await api.draft.get(mediaId)).length, 1)
  })

  test('waitFor takes the result from the PUBLISHJOBFINISH event when it comes first', async () => {
    const { publishId } = await api.publish.submit(await draft())
    const event: PublishStatus = { publish_id: publishId, publish_status: 2, fail_idx: [1] }
    await assert.rejects(api.publish.waitFor(publishId, { intervalMs: 5000, finished: Promise.resolve(event) }), /originality/)
  })

  test('waitFor gives up after timeoutMs, saying the job goes on', async () => {
    const { publishId } = await api.publish.submit(await draft())
    await assert.rejects(api.publish.waitFor(publishId, { intervalMs: 20, timeoutMs: 50 }), /still publishing/)
  })

  test('unknown ids are WeChat errors', async () => {
    await assert.rejects(api.publish.submit('no-such-draft'), (err: unknown) => err instanceof WechatApiError && err.errcode === 40007)
    await assert.rejects(api.publish.getArticle('nope'), (err: unknown) => err instanceof WechatApiError && err.errcode === 53600)
  })
})
