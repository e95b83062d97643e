/**
 * Compatible and safe mode against the real server: the protocol's test vectors replayed as
 * WeChat would post them, every PKCS#7 pad (1..32) in both directions, the encrypted reply
 * checked the way WeChat checks it, and one answer for every failure behind a valid
 * msg_signature.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decrypt, delivery, encrypt, field, msgId, nonce, nowSeconds, openid, openReply, post, sortedSha1, wechatXml, type Account } from './wechat-side.js'
import { startWebhook, type WebhookServer } from './server.js'

const official: Account = { token: 'spamtest', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', appId: 'wx2c2769f8efd9abc2' }

test('the suite\'s own AES matches the protocol\'s deterministic vectors (B, E1, E2), so the checks below can be trusted', () => {
  const random = Buffer.from('aaaabbbbccccdddd')
  const b = { ...official, token: 'pamtest', appId: 'wxb11529c136998cb6' }
  const encryptedB = encrypt(b.encodingAESKey!, '我是中文abcd123', b.appId, random)
  assert.equal(encryptedB, 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==')
  assert.equal(sortedSha1('pamtest', '1409304348', 'xxxxxx', encryptedB), '82c962d39941aa48552f90ef55aa323dc620cc10')
  const e1 = '<xml><ToUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></ToUserName><FromUserName><![CDATA[gh_10f6c3c3ac5a]]></FromUserName><CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>'
  const encryptedE1 = encrypt(official.encodingAESKey!, e1, official.appId!, random)
  assert.equal(sortedSha1('spamtest', '1409735669', '1320562132', encryptedE1), '7644f55a123e5aee2a9bf2535b6ca5bf076f2aef')
  const e2 = encrypt(official.encodingAESKey!, 'abcdefghijklmnopqrstuvwxyz', official.appId!, random)
  assert.equal(e2, 'jn1L23DB+6ELqJ+6bruv24kfnRA9CJ8qXRQfcTjuspbcu/BSVDHix6RSI3nK3z+fGdCL9owzHI6UnBdGZ5nrCm8utmGl8Gmi3p1p/CL7wsT2QmrOzEDE4ghZF0S/FxgD')
  assert.equal(decrypt(official.encodingAESKey!, e2).pad, 32)
})

describe('the official key (vector A), timestamps of 2014 accepted (WECHAT_TIMESTAMP_TOLERANCE=0)', () => {
  let server: WebhookServer
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: official.token, WECHAT_APPID: official.appId!, WECHAT_AES_KEY: official.encodingAESKey!, WECHAT_TIMESTAMP_TOLERANCE: '0' })))
  after(() => server?.stop())

  const vectorA = {
    query: {
      signature: sortedSha1('spamtest', '1409735669', '1320562132'),
      timestamp: '1409735669',
      nonce: '1320562132',
      openid: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      encrypt_type: 'aes',
      msg_signature: '5d197aaffba7e9b25a30732f161a50dee96bd5fa',
    },
    body: '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>',
  }

  test('vector A is decrypted, handled, and answered encrypted; WeChat\'s retry gets the same answer', async () => {
    const first = await post(server.url, vectorA)
    assert.equal(first.status, 200, first.body)
    const seen = server.seenFrom('oyORnuP8q7ou2gfYjqLzSIWZf0rs')!
    assert.equal(seen.message.Content, 'abcdteT')
    assert.equal(seen.message.MsgId, '6054768590064713728')
    assert.equal(seen.message.CreateTime, 1409735668)
    const reply = openReply(official, first)
    assert.equal(reply.encrypted, true)
    assert.equal(field(reply.xml, 'ToUserName'), 'oyORnuP8q7ou2gfYjqLzSIWZf0rs')
    assert.equal(field(reply.xml, 'FromUserName'), 'gh_10f6c3c3ac5a')
    assert.equal(field(reply.xml, 'Content'), 'ok')
    assert.match(field(reply.xml, 'CreateTime')!, /^\d{10}$/)
    assert.match(field(first.body, 'Nonce')!, /^.{1,128}$/)
    const handled = server.seen().length
    const retry = await post(server.url, vectorA)
    assert.equal(retry.body, first.body)
    assert.equal(server.seen().length, handled, 'the handler ran once')
  })

  test('every pad from 1 to 32, inbound and in the replies', async () => {
    const inbound = new Set<number>()
    const outbound = new Set<number>()
    for (let n = 0; n < 40; n++) {
      const from = openid()
      const content = `reply:text ${'中'.repeat(n % 3)}a${'b'.repeat(n)}`
      const xml = wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId()}</MsgId>`, { from })
      const sent = delivery(official, xml, 'safe')
      inbound.add(decrypt(official.encodingAESKey!, field(sent.body, 'Encrypt')!).pad)
      const answer = await post(server.url, sent)
      assert.equal(answer.status, 200, answer.body)
      assert.equal(server.seenFrom(from)?.message.Content, content)
      const reply = openReply(official, answer)
      outbound.add(reply.opened!.pad)
      assert.equal(field(reply.xml, 'Content'), content.slice('reply:text '.length))
    }
    assert.equal(inbound.size, 32, `inbound pads ${[...inbound].sort((a, b) => a - b).join(',')}`)
    assert.equal(outbound.size, 32, `reply pads ${[...outbound].sort((a, b) => a - b).join(',')}`)
  })

  test('compatible mode: the decrypted copy is the one handled, not the plaintext beside it', async () => {
    const from = openid()
    const timestamp = nowSeconds()
    const n = nonce()
    const inner = wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text inner]]></Content><MsgId>${msgId()}</MsgId>`, { from })
    const encrypted = encrypt(official.encodingAESKey!, inner, official.appId!)
    const outer = wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text forged outside]]></Content><MsgId>${msgId()}</MsgId><Encrypt><![CDATA[${encrypted}]]></Encrypt>`, { from: openid() })
    const answer = await post(server.url, { query: { signature: sortedSha1(official.token, timestamp, n), timestamp, nonce: n, encrypt_type: 'aes', msg_signature: sortedSha1(official.token, timestamp, n, encrypted) }, body: outer })
    assert.equal(answer.status, 200)
    assert.equal(field(openReply(official, answer).xml, 'Content'), 'inner')
    assert.equal(server.seenFrom(from)?.message.Content, 'reply:text inner')
  })

  test('encrypt_type=raw is plaintext', async () => {
    const from = openid()
    const sent = delivery(official, wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text raw]]></Content><MsgId>${msgId()}</MsgId>`, { from }))
    const answer = await post(server.url, { query: { ...sent.query, encrypt_type: 'raw' }, body: sent.body })
    assert.equal(answer.status, 200)
    assert.equal(field(answer.body, 'Content'), 'raw')
  })

  test('a missing or wrong msg_signature is 401; anything wrong behind a valid one is the same 400, whatever it is', async () => {
    const xml = () => wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[x]]></Content><MsgId>${msgId()}</MsgId>`, { from: openid() })
    const safe = delivery(official, xml(), 'safe')
    const { msg_signature: _dropped, ...unsigned } = safe.query
    assert.equal((await post(server.url, { query: unsigned, body: safe.body })).status, 401)
    const wrong = delivery(official, xml(), 'safe')
    assert.equal((await post(server.url, { query: { ...wrong.query, msg_signature: 'f'.repeat(40) }, body: wrong.body })).status, 401)
    // signed correctly, but: another account's AppID, garbage, a truncated ciphertext, XML inside that is not a message
    const bodies = [
      encrypt(official.encodingAESKey!, xml(), 'wx0000000000000000'),
      Buffer.from('not a ciphertext at all').toString('base64'),
      encrypt(official.encodingAESKey!, xml(), official.appId!).slice(0, 64),
      encrypt(official.encodingAESKey!, '<xml><Foo>bar</Foo></xml>', official.appId!),
      encrypt(official.encodingAESKey!, '<!DOCTYPE x [<!ENTITY e "e">]><xml>&e;</xml>', official.appId!),
    ]
    const answers = new Set<string>()
    for (const encrypted of bodies) {
      const timestamp = nowSeconds()
      const n = nonce()
      const answer = await post(server.url, { query: { signature: sortedSha1(official.token, timestamp, n), timestamp, nonce: n, encrypt_type: 'aes', msg_signature: sortedSha1(official.token, timestamp, n, encrypted) }, body: `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypted}]]></Encrypt></xml>` })
      answers.add(`${answer.status} ${answer.body.trim()}`)
    }
    assert.deepEqual([...answers], ['400 WX_ERR_DECRYPT_FAILED'])
    const missing = delivery(official, xml(), 'safe')
    assert.equal((await post(server.url, { query: missing.query, body: '<xml><ToUserName><![CDATA[gh_x]]></ToUserName></xml>' })).status, 400)
  })
})

describe('wechatpy\'s vector D, and a changed EncodingAESKey (WECHAT_AES_KEY_PREVIOUS)', () => {
  const current: Account = { token: '123456', encodingAESKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR', appId: 'wx49f0ab532d5d035a' }
  let server: WebhookServer
  before(
    async () =>
      (server = await startWebhook({
        WECHAT_TOKEN: current.token,
        WECHAT_APPID: current.appId!,
        WECHAT_AES_KEY: current.encodingAESKey!,
        WECHAT_AES_KEY_PREVIOUS: official.encodingAESKey!,
        WECHAT_TIMESTAMP_TOLERANCE: '0',
      })),
  )
  after(() => server?.stop())

  test('vector D decrypts: pad 1, Content "test" from messense, its MsgId exact', async () => {
    const encrypted =
      'RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0='
    const query = { signature: sortedSha1('123456', '1411525903', '461056294'), timestamp: '1411525903', nonce: '461056294', encrypt_type: 'aes', msg_signature: '74d92dfeb87ba7c714f89d98870ae5eb62dff26d' }
    const answer = await post(server.url, { query, body: `<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[${encrypted}]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>` })
    assert.equal(answer.status, 200, answer.body)
    const seen = server.seenFrom('messense')!
    assert.equal(seen.message.Content, 'test')
    assert.equal(seen.message.MsgId, '4363689963896700987')
    assert.equal(field(openReply(current, answer).xml, 'ToUserName'), 'messense')
  })

  test('a message still encrypted with the previous key is read; the reply uses the current key', async () => {
    const from = openid()
    const xml = wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[reply:text rotated]]></Content><MsgId>${msgId()}</MsgId>`, { from })
    const answer = await post(server.url, delivery({ ...current, encodingAESKey: official.encodingAESKey! }, xml, 'safe'))
    assert.equal(answer.status, 200, answer.body)
    assert.equal(field(openReply(current, answer).xml, 'Content'), 'rotated')
  })
})
