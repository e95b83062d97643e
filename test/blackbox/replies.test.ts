/**
 * Every passive reply type as WeChat reads it from the real server, in plaintext and safe mode:
 * well-formed XML, To/From swapped, CreateTime in seconds, CDATA that survives `]]>`, control
 * characters XML forbids removed; `success` for no reply and for anything WeChat would refuse;
 * retries answered alike with the handler run once; a captured query reused for another body
 * refused.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SaxesParser } from 'saxes'
import { delivery, field, msgId, openid, openReply, post, topLevelElements, wechatXml, type Account, type Answer, type Mode } from './wechat-side.js'
import { startWebhook, type WebhookServer } from './server.js'

const account: Account = { token: 'replytoken', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wx2c2769f8efd9abc2' }
const ACCOUNT_ID = 'gh_de0f036ce08f'

/** Throws unless `xml` is well-formed XML 1.0 (an independent strict parser, no DTD). */
function assertWellFormed(xml: string): void {
  const parser = new SaxesParser()
  parser.on('error', (err) => {
    throw new Error(`malformed reply: ${err.message}\n${xml}`)
  })
  parser.write(xml).close()
}

describe('passive replies, as WeChat reads them', () => {
  let server: WebhookServer
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: account.token, WECHAT_APPID: account.appId!, WECHAT_AES_KEY: account.encodingAESKey! })))
  after(() => server?.stop())

  /** Sends the text `content` from a new follower; the reply XML (opened in safe mode) and who sent it. */
  async function ask(content: string, mode: Mode = 'plain'): Promise<{ answer: Answer; xml: string; from: string }> {
    const from = openid()
    const answer = await post(server.url, delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId()}</MsgId>`, { from }), mode))
    assert.equal(answer.status, 200, answer.body)
    return { answer, xml: answer.body === 'success' ? 'success' : openReply(account, answer).xml, from }
  }

  function assertHeader(xml: string, from: string, msgType: string, body: string[]): void {
    assertWellFormed(xml)
    assert.deepEqual(topLevelElements(xml), ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', ...body])
    assert.equal(field(xml, 'ToUserName'), from, 'To is the follower')
    assert.equal(field(xml, 'FromUserName'), ACCOUNT_ID, 'From is the account')
    const createTime = Number(field(xml, 'CreateTime'))
    assert.ok(Math.abs(createTime - Date.now() / 1000) < 120, `CreateTime ${createTime} is seconds, now`)
    assert.equal(field(xml, 'MsgType'), msgType)
  }

  for (const mode of ['plain', 'safe'] as const) {
    test(`text, image, voice, video, music, news, transfer_customer_service (${mode})`, async () => {
      let r = await ask('reply:text 你好\n第二行 <a href="http://www.qq.com">link</a>', mode)
      assertHeader(r.xml, r.from, 'text', ['Content'])
      assert.equal(field(r.xml, 'Content'), '你好\n第二行 <a href="http://www.qq.com">link</a>')

      r = await ask('reply:image MEDIA_IMG', mode)
      assertHeader(r.xml, r.from, 'image', ['Image'])
      assert.equal(field(r.xml, 'Image', 'MediaId'), 'MEDIA_IMG')

      r = await ask('reply:voice MEDIA_VOICE', mode)
      assertHeader(r.xml, r.from, 'voice', ['Voice'])
      assert.equal(field(r.xml, 'Voice', 'MediaId'), 'MEDIA_VOICE')

      r = await ask('reply:video MEDIA_VIDEO', mode)
      assertHeader(r.xml, r.from, 'video', ['Video'])
      assert.equal(field(r.xml, 'Video', 'MediaId'), 'MEDIA_VIDEO')
      assert.equal(field(r.xml, 'Video', 'Title'), 'T]]>itle')
      assert.equal(field(r.xml, 'Video', 'Description'), '说明')

      r = await ask('reply:music THUMB', mode)
      assertHeader(r.xml, r.from, 'music', ['Music'])
      assert.equal(field(r.xml, 'Music', 'ThumbMediaId'), 'THUMB')
      assert.equal(field(r.xml, 'Music', 'MusicUrl'), 'http://example.com/a.mp3')
      assert.equal(field(r.xml, 'Music', 'HQMusicUrl'), 'http://example.com/hq.mp3')

      r = await ask('reply:news', mode)
      assertHeader(r.xml, r.from, 'news', ['ArticleCount', 'Articles'])
      assert.equal(field(r.xml, 'ArticleCount'), '1')
      assert.equal(field(r.xml, 'Articles', 'item', 'Title'), 'title1')
      assert.equal(field(r.xml, 'Articles', 'item', 'PicUrl'), 'http://example.com/p.jpg')
      assert.equal(field(r.xml, 'Articles', 'item', 'Url'), 'http://example.com/')

      r = await ask('reply:transfer', mode)
      assertHeader(r.xml, r.from, 'transfer_customer_service', [])
      r = await ask('reply:transfer test1@test', mode)
      assertHeader(r.xml, r.from, 'transfer_customer_service', ['TransInfo'])
      assert.equal(field(r.xml, 'TransInfo', 'KfAccount'), 'test1@test')
    })

    test(`hostile reply text stays well-formed: ]]>, emoji, control characters (${mode})`, async () => {
      const hostile = 'a]]>b]]]]>c 😀👨‍👩‍👧 </Content></xml><xml> &amp; <![CDATA[x]]>'
      let r = await ask(`reply:text ${hostile.replace(/]]>/g, ']]]]><![CDATA[>')}`, mode)
      assertHeader(r.xml, r.from, 'text', ['Content'])
      assert.equal(field(r.xml, 'Content'), hostile)
      r = await ask('reply:controls', mode)
      assertHeader(r.xml, r.from, 'text', ['Content'])
      assert.equal(field(r.xml, 'Content'), 'abcdef\tg\nh]]>i')
    })

    test(`no reply, a failing handler, a reply breaking a limit: exactly "success", never broken XML (${mode})`, async () => {
      for (const content of ['reply:success', 'reply:throw', 'reply:news2', 'reply:text ']) {
        const { answer } = await ask(content, mode)
        assert.equal(answer.body, 'success', content)
      }
    })
  }

  test('a long text reply is cut into pages of at most 2048 bytes, the rest for the next messages', async () => {
    const from = openid()
    const say = async (content: string) => {
      const answer = await post(server.url, delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId()}</MsgId>`, { from })))
      return field(answer.body, 'Content')!
    }
    const first = await say('reply:long 2000') // 20 000 characters, 60 000 bytes: 30 pages and more
    assert.ok(Buffer.byteLength(first) <= 2048, `${Buffer.byteLength(first)} bytes`)
    assert.match(first, /^(这是一句很长的回答。)+\n（回复"继续"查看剩余 \d+ 页）$/)
    const second = await say('继续')
    assert.ok(Buffer.byteLength(second) <= 2048)
    assert.match(second, /^(这是一句很长的回答。)+\n（回复"继续"查看剩余 \d+ 页）$/)
  })

  test("WeChat's retries (same query, same body) get the first answer; the handler runs once", async () => {
    const from = openid()
    const sent = delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text once]]></Content><MsgId>${msgId()}</MsgId>`, { from }), 'safe')
    const answers = await Promise.all([post(server.url, sent), post(server.url, sent)])
    answers.push(await post(server.url, sent))
    assert.equal(new Set(answers.map((a) => a.body)).size, 1)
    assert.equal(field(openReply(account, answers[0]!).xml, 'Content'), 'once')
    assert.equal(server.seen().filter((entry) => entry.openid === from).length, 1)
  })

  test('a captured query reused with another body is refused, and no handler sees it', async () => {
    const from = openid()
    const sent = delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[genuine]]></Content><MsgId>${msgId()}</MsgId>`, { from }))
    assert.equal((await post(server.url, sent)).status, 200)
    const forger = openid()
    const forged = await post(server.url, { query: sent.query, body: wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[forged]]></Content><MsgId>${msgId()}</MsgId>`, { from: forger }) })
    assert.equal(forged.status, 403)
    assert.equal(server.seenFrom(forger), undefined)
  })
})
