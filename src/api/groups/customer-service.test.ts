import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { Reply } from '../../reply/types.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'

let fake: FakeWechat
let api: WechatApi
const OPENID = 'oWxmpTestUser000000000000001'

/** The JSON body WeChat received for the last customer-service send. */
const lastBody = () => fake.sent.filter((s) => s.kind === 'customer-service').at(-1)?.body

describe('api.customerService', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  const media = () => fake.addMedia({ type: 'image', data: Buffer.from('img'), contentType: 'image/jpeg', filename: 'a.jpg' })

  test('every message type goes out in WeChat’s JSON shape', async () => {
    const m = media()
    await api.customerService.sendText(OPENID, '你好 <a href="http://www.qq.com">link</a>')
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'text', text: { content: '你好 <a href="http://www.qq.com">link</a>' } })
    await api.customerService.sendImage(OPENID, m)
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'image', image: { media_id: m } })
    await api.customerService.sendVoice(OPENID, m)
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'voice', voice: { media_id: m } })
    await api.customerService.sendVideo(OPENID, { mediaId: m, thumbMediaId: m, title: 'T', description: 'D' })
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'video', video: { media_id: m, thumb_media_id: m, title: 'T', description: 'D' } })
    await api.customerService.sendMusic(OPENID, { thumbMediaId: m, title: 'song', musicUrl: 'http://m/1.mp3', hqMusicUrl: 'http://m/1hq.mp3' })
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'music', music: { title: 'song', musicurl: 'http://m/1.mp3', hqmusicurl: 'http://m/1hq.mp3', thumb_media_id: m } })
    await api.customerService.sendNews(OPENID, { title: 'Happy Day', description: 'd', url: 'http://u', picUrl: 'http://p' })
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'news', news: { articles: [{ title: 'Happy Day', description: 'd', url: 'http://u', picurl: 'http://p' }] } })
    await api.customerService.sendMpNewsArticle(OPENID, 'ARTICLE_ID')
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'mpnewsarticle', mpnewsarticle: { article_id: 'ARTICLE_ID' } })
    await api.customerService.sendMsgMenu(OPENID, { headContent: '满意吗?', list: [{ id: '101', content: '满意' }, { id: '102', content: '不满意' }], tailContent: '欢迎再次光临' })
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'msgmenu', msgmenu: { head_content: '满意吗?', list: [{ id: '101', content: '满意' }, { id: '102', content: '不满意' }], tail_content: '欢迎再次光临' } })
    await api.customerService.sendMiniProgramPage(OPENID, { title: 't', appid: 'wxa', pagepath: 'pages/index', thumbMediaId: m })
    assert.deepEqual(lastBody(), { touser: OPENID, msgtype: 'miniprogrampage', miniprogrampage: { title: 't', appid: 'wxa', pagepath: 'pages/index', thumb_media_id: m } })
    assert.equal(fake.sent.length, 9)
  })

  test('kfAccount sends as that agent', async () => {
    await api.customerService.sendText(OPENID, 'hi', { kfAccount: 'test1@kftest' })
    assert.deepEqual(lastBody()?.customservice, { kf_account: 'test1@kftest' })
  })

  test('typing on and off; a second "Typing" within 15 s is 45081', async () => {
    await api.customerService.typing(OPENID, true)
    await assert.rejects(api.customerService.typing(OPENID, true), (err: unknown) => err instanceof WechatApiError && err.errcode === 45081)
    await api.customerService.typing(OPENID, false)
    await api.customerService.typing(OPENID, true)
    assert.deepEqual(
      fake.sent.filter((s) => s.kind === 'typing').map((s) => s.body.command),
      ['Typing', 'CancelTyping', 'Typing'],
    )
  })

  test('outside the 48-hour window: 45015 with a hint that only template messages reach the user', async () => {
    fake.setWindow(OPENID, false)
    await assert.rejects(api.customerService.sendText(OPENID, 'late'), (err: unknown) => err instanceof WechatApiError && err.errcode === 45015 && /template/.test(err.message))
    await assert.rejects(api.customerService.typing(OPENID, true), (err: unknown) => err instanceof WechatApiError && err.errcode === 45015)
  })

  test('the per-interaction quota: 45047 once it is used up', async () => {
    fake.setSendQuota(OPENID, 1)
    await api.customerService.sendText(OPENID, 'one')
    await assert.rejects(api.customerService.sendText(OPENID, 'two'), (err: unknown) => err instanceof WechatApiError && err.errcode === 45047)
  })

  test('a user who unfollowed: 43004', async () => {
    fake.addUser(OPENID, { subscribe: 0 })
    await assert.rejects(api.customerService.sendText(OPENID, 'hi'), (err: unknown) => err instanceof WechatApiError && err.errcode === 43004)
  })

  test('an expired media_id is 40007 from WeChat', async () => {
    await assert.rejects(api.customerService.sendImage(OPENID, 'no-such-media'), (err: unknown) => err instanceof WechatApiError && err.errcode === 40007 && /upload again/.test(err.message))
  })

  test('bad input fails before sending (WX_ERR_API_INPUT): bad OpenID, empty text, two news articles, empty msgmenu', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.customerService.sendText('has space', 'x'), input)
    await assert.rejects(api.customerService.sendText(OPENID, ''), input)
    await assert.rejects(api.customerService.sendNews(OPENID, [{ title: 'a' }, { title: 'b' }]), (err: unknown) => input(err) && /45008/.test((err as Error).message))
    await assert.rejects(api.customerService.sendMsgMenu(OPENID, { list: [] }), input)
    await assert.rejects(api.customerService.sendMusic(OPENID, { thumbMediaId: '' }), input)
    await assert.rejects(api.customerService.sendText(OPENID, 'x', { kfAccount: '' }), input)
    assert.equal(fake.calls.length, 0)
  })

  describe('sendReply: webhook Reply values as customer-service messages', () => {
    test('each Reply maps to its message', async () => {
      const m = media()
      const cases: Array<[Reply, Record<string, unknown>]> = [
        [{ type: 'text', content: 'hi' }, { msgtype: 'text', text: { content: 'hi' } }],
        [{ type: 'image', mediaId: m }, { msgtype: 'image', image: { media_id: m } }],
        [{ type: 'voice', mediaId: m }, { msgtype: 'voice', voice: { media_id: m } }],
        [{ type: 'video', mediaId: m, thumbMediaId: m, title: 't' }, { msgtype: 'video', video: { media_id: m, thumb_media_id: m, title: 't' } }],
        [{ type: 'music', thumbMediaId: m, hqMusicUrl: 'http://hq' }, { msgtype: 'music', music: { hqmusicurl: 'http://hq', thumb_media_id: m } }],
        [{ type: 'news', articles: [{ title: 'A', picUrl: 'http://p' }] }, { msgtype: 'news', news: { articles: [{ title: 'A', picurl: 'http://p' }] } }],
      ]
      for (const [reply, expected] of cases) {
        await api.customerService.sendReply(OPENID, reply)
        assert.deepEqual(lastBody(), { touser: OPENID, ...expected }, reply.type)
      }
    })

    test('"success" sends nothing; a transfer to an agent is refused with an explanation', async () => {
      await api.customerService.sendReply(OPENID, { type: 'success' })
      await assert.rejects(api.customerService.sendReply(OPENID, { type: 'transfer_customer_service' }), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /passive reply/.test((err as Error).message))
      await assert.rejects(api.customerService.sendReply(OPENID, { type: 'bogus' } as unknown as Reply), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT'))
      assert.equal(fake.calls.length, 0)
    })
  })
})
