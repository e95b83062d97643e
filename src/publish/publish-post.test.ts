import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WechatApi } from '../api/client.js'
import { isWxmpError } from '../errors.js'
import { openRecords } from '../records/open-records.js'
import { sampleXml } from '../testing/samples.js'
import { startFakeWechat, type FakeWechat } from '../testing/fake-wechat/index.js'
import { PostStore } from './post-store.js'
import { preparePost } from './prepare-post.js'
import { silentProgress } from './progress.js'
import { publishPost, type PublishRun } from './publish-post.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-publish-'))
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 3)])
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 4)])
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(64, 5)])
let fake: FakeWechat
let api: WechatApi
let store: PostStore
let databaseUrl = ''
let n = 0

before(async () => {
  writeFileSync(join(dir, 'a.png'), PNG)
  writeFileSync(join(dir, 'cover.jpg'), JPEG)
  writeFileSync(join(dir, 'anim.gif'), GIF)
  fake = await startFakeWechat({ publishDelayMs: 200 })
})
after(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

function post(text: string): string {
  const path = join(dir, `post${n}.md`)
  writeFileSync(path, text)
  return path
}

const TEXT = (title = '第一篇') => `---\ntitle: ${title}\nauthor: 作者\ncover: ./cover.jpg\ncomments: fans\nsource_url: https://example.com/post\n---\n\n正文 ![图](./a.png)\n`
const run = (extra: Partial<PublishRun> = {}): PublishRun => ({ api, store, progress: silentProgress, intervalMs: 50, ...extra })
const calls = (path: string) => fake.calls.filter((c) => c.path === path).length

describe('publishPost against the fake WeChat', () => {
  beforeEach(async () => {
    fake.reset()
    n++
    databaseUrl = `sqlite:${join(dir, `posts${n}.db`)}`
    await store?.close()
    store = await PostStore.open(databaseUrl)
    api = new WechatApi({ appId: fake.appId, appSecret: fake.appSecret, baseUrl: fake.url })
  })

  test('uploads, saves the draft, submits and reports the article URL; the fields reach the draft', async () => {
    const file = post(TEXT())
    const outcome = await publishPost(await preparePost(file), run())
    assert.equal(outcome.status, 'published')
    assert.match(outcome.articleUrl ?? '', /^https:\/\/mp\.weixin\.qq\.com\/s\//)
    assert.equal(outcome.uploaded, 2)
    assert.deepEqual([calls('/cgi-bin/media/uploadimg'), calls('/cgi-bin/material/add_material'), calls('/cgi-bin/draft/add'), calls('/cgi-bin/freepublish/submit')], [1, 1, 1, 1])
    assert.ok(calls('/cgi-bin/freepublish/get') >= 1)
    const draft = fake.calls.find((c) => c.path === '/cgi-bin/draft/add')!.body as { articles: Array<Record<string, unknown>> }
    const [article] = draft.articles
    assert.deepEqual([article?.title, article?.author, article?.content_source_url, article?.need_open_comment, article?.only_fans_can_comment], ['第一篇', '作者', 'https://example.com/post', 1, 1])
    assert.match(String(article?.content), /<img src="http:\/\/mmbiz\.qpic\.cn\/mmbiz_png\//)
    assert.equal((await store.get(fake.appId, file))?.status, 'published')
  })

  test('re-running an unchanged published post does nothing; a changed one needs --republish', async () => {
    const file = post(TEXT())
    const first = await publishPost(await preparePost(file), run())
    const before = fake.calls.length
    const again = await publishPost(await preparePost(file), run())
    assert.deepEqual([again.status, again.articleUrl], ['unchanged', first.articleUrl])
    assert.equal(fake.calls.length, before)
    writeFileSync(file, TEXT('改过的标题'))
    await assert.rejects(publishPost(await preparePost(file), run()), /published before .* --republish/)
    const republished = await publishPost(await preparePost(file), run({ republish: true }))
    assert.equal(republished.status, 'published')
    assert.notEqual(republished.articleUrl, first.articleUrl)
    assert.equal(calls('/cgi-bin/media/uploadimg'), 1, 'images already uploaded are not uploaded again')
  })

  test('--draft twice updates the same draft instead of adding another', async () => {
    const file = post(TEXT())
    const first = await publishPost(await preparePost(file), run({ draftOnly: true }))
    writeFileSync(file, TEXT('第二版'))
    const second = await publishPost(await preparePost(file), run({ draftOnly: true }))
    assert.equal(second.mediaId, first.mediaId)
    assert.equal(await api.draft.count(), 1)
    assert.equal((await api.draft.get(first.mediaId!))[0]?.title, '第二版')
    assert.deepEqual([calls('/cgi-bin/draft/add'), calls('/cgi-bin/draft/update'), calls('/cgi-bin/freepublish/submit')], [1, 1, 0])
  })

  test('a draft deleted in the console is replaced; a deleted cover is uploaded again', async () => {
    const file = post(TEXT())
    const first = await publishPost(await preparePost(file), run({ draftOnly: true }))
    await api.draft.delete(first.mediaId!)
    const cover = fake.calls.find((c) => c.path === '/cgi-bin/material/add_material')
    assert.ok(cover)
    for (const item of (await api.material.batchGet('image')).item) await api.material.delete(item.media_id)
    const second = await publishPost(await preparePost(file), run({ draftOnly: true }))
    assert.notEqual(second.mediaId, first.mediaId)
    assert.equal(calls('/cgi-bin/material/add_material'), 2)
    assert.equal(await api.draft.count(), 1)
  })

  test('a failed publish reports WeChat\'s reason; the next run updates the same draft and publishes', async () => {
    const file = post(TEXT())
    fake.setPublishOutcome({ status: 3, failIdx: [1] })
    await assert.rejects(publishPost(await preparePost(file), run()), (err: unknown) => isWxmpError(err, 'WX_ERR_PUBLISH_FAILED') && /failed \(常规失败\) \(articles 1\)/.test((err as Error).message))
    const record = await store.get(fake.appId, file)
    assert.equal(record?.status, 'failed')
    const outcome = await publishPost(await preparePost(file), run())
    assert.equal(outcome.status, 'published')
    assert.equal(outcome.mediaId, record?.mediaId)
    assert.equal(calls('/cgi-bin/draft/add'), 1)
  })

  test('GIFs become image material (uploadimg takes only JPEG and PNG under 1 MB)', async () => {
    const file = post('---\ntitle: 动图\ncover: ./cover.jpg\n---\n\n![动图](./anim.gif)\n')
    await publishPost(await preparePost(file), run({ draftOnly: true }))
    assert.deepEqual([calls('/cgi-bin/media/uploadimg'), calls('/cgi-bin/material/add_material')], [0, 2])
  })

  test('the PUBLISHJOBFINISH event recorded by the webhook server ends the wait before the next poll', async () => {
    const slow = await startFakeWechat({ publishDelayMs: 600_000 })
    try {
      const slowApi = new WechatApi({ appId: slow.appId, appSecret: slow.appSecret, baseUrl: slow.url })
      const file = post(TEXT())
      const records = await openRecords(databaseUrl)
      const publishing = publishPost(await preparePost(file), run({ api: slowApi, intervalMs: 60_000 }))
      while ((await store.get(slow.appId, file))?.publishId === undefined) await new Promise((r) => setTimeout(r, 20))
      const publishId = (await store.get(slow.appId, file))!.publishId!
      const xml = sampleXml('event:PUBLISHJOBFINISH', { PublishEventInfo: { publish_id: BigInt(publishId), publish_status: 0, article_id: 'ART1', article_detail: { count: 1, item: [{ idx: 1, article_url: 'https://mp.weixin.qq.com/s/from-event' }] } } })
      await records.messages.recordInbound({ appId: slow.appId, msgKey: `mphelper:${publishId}`, openid: 'mphelper', msgType: 'event', event: 'PUBLISHJOBFINISH', createTime: 1, rawXml: xml, receivedAt: Date.now(), encrypted: false })
      const outcome = await publishing
      await records.close()
      assert.equal(outcome.articleUrl, 'https://mp.weixin.qq.com/s/from-event')
      assert.equal(slow.calls.filter((c) => c.path === '/cgi-bin/freepublish/get').length, 1)
    } finally {
      await slow.close()
    }
  })
})
