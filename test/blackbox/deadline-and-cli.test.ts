/**
 * The 5-second rule as WeChat meets it, with the real server talking to `wxmp fake-wechat`:
 * a slow handler's delivery is answered in time (the interim text), WeChat's retry meanwhile
 * gets the same answer, and the real reply arrives through the customer-service API. Then the
 * README's CLI examples, run as written against the echo bot.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { delivery, field, msgId, openid, post, wechatXml, type Account } from './wechat-side.js'
import { execWxmp, startFakeWechat, startWebhook, type Running, type WebhookServer } from './server.js'

interface Sent {
  kind: string
  touser: string
  body: { text?: { content?: string } }
}

describe('a slow handler on an account with customer service (fake WeChat API)', () => {
  const account: Account = { token: 'deadlinetoken' }
  let fake: Running & { appId: string; appSecret: string }
  let server: WebhookServer
  before(async () => {
    fake = await startFakeWechat()
    server = await startWebhook({
      WECHAT_TOKEN: account.token,
      WECHAT_API_BASE: fake.url,
      WECHAT_APPID: fake.appId,
      WECHAT_APPSECRET: fake.appSecret,
      WECHAT_REPLY_TIMEOUT_MS: '2500',
      WECHAT_INTERIM: '正在思考…',
    })
  })
  after(async () => {
    await server?.stop()
    await fake?.stop()
  })

  async function sentTo(user: string): Promise<Sent[]> {
    const { sent } = (await (await fetch(`${fake.url}/__fake/sent`)).json()) as { sent: Sent[] }
    return sent.filter((entry) => entry.touser === user)
  }

  test('the delivery is answered with the interim text in time; the retry gets the same; the answer follows as a customer-service message', async () => {
    const from = openid()
    const sent = delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:sleep 4500]]></Content><MsgId>${msgId()}</MsgId>`, { from }))
    const first = post(server.url, sent, { timeoutMs: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const retry = post(server.url, sent, { timeoutMs: 10_000 }) // WeChat's next attempt, while the handler still runs
    for (const answer of await Promise.all([first, retry])) {
      assert.equal(answer.status, 200)
      assert.equal(field(answer.body, 'Content'), '正在思考…')
      assert.equal(field(answer.body, 'ToUserName'), from)
    }
    let late: Sent | undefined
    for (let waited = 0; late === undefined && waited < 30_000; waited += 200) {
      late = (await sentTo(from)).find((entry) => entry.kind === 'customer-service')
      if (late === undefined) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    assert.equal(late?.body.text?.content, 'slept 4500')
    assert.equal(server.seen().filter((entry) => entry.openid === from).length, 1, 'the handler ran once')
  })

  test('a quick handler still answers passively, and nothing is sent through the API', async () => {
    const from = openid()
    const answer = await post(server.url, delivery(account, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text quick]]></Content><MsgId>${msgId()}</MsgId>`, { from })))
    assert.equal(field(answer.body, 'Content'), 'quick')
    assert.deepEqual((await sentTo(from)).filter((entry) => entry.kind === 'customer-service'), [])
  })
})

describe("the README's simulate examples, against the echo bot", () => {
  const token = 'readmetoken'
  const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
  const appId = 'wx2c2769f8efd9abc2'
  let server: WebhookServer
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: token, WECHAT_AES_KEY: aesKey, WECHAT_APPID: appId }, { echoBot: true })))
  after(() => server?.stop())

  const simulate = (...argv: string[]) => execWxmp(['simulate', '--url', server.url, ...argv], { WECHAT_TOKEN: token, WECHAT_AES_KEY: aesKey, WECHAT_APPID: appId })

  test('text, a QR-code follow, an image, safe mode, the URL check', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['text', '你好'], /user saw: 你好/],
      [['event', 'subscribe', '42'], /user saw: 欢迎关注！\(场景 42\)/],
      [['image'], /user saw: \[image image_media_id\]/],
      [['--mode', 'safe', 'text', 'hi'], /← text \(encrypted, MsgSignature verified\): hi/],
      [['verify'], /Token验证成功/],
    ]
    const results = await Promise.all(cases.map(([argv]) => simulate(...argv)))
    for (const [i, [argv, expected]] of cases.entries()) {
      assert.equal(results[i]!.code, 0, `${argv.join(' ')}:\n${results[i]!.output}`)
      assert.match(results[i]!.output, expected, argv.join(' '))
    }
  })

  test('a usage mistake exits 2 with the reason', async () => {
    const result = await simulate('sticker')
    assert.equal(result.code, 2)
    assert.match(result.output, /unknown kind "sticker"/)
  })
})
