import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { MessageCrypto } from '../pipeline/crypto.js'
import { ERROR_BANNER, simulate } from './simulator.js'
import { sampleXml } from './samples.js'
import { answerWith, appId, encodingAESKey, rawServer, token } from '../../test/support/simulator-servers.js'

describe('simulate: answers judged as WeChat judges them', () => {
  const inbound = sampleXml('text', { Content: 'hi' }, { openid: 'oJudge', account: 'gh_judge' })
  const reply = (fields: string) => `<xml><ToUserName><![CDATA[oJudge]]></ToUserName><FromUserName><![CDATA[gh_judge]]></FromUserName><CreateTime>1700000000</CreateTime>${fields}</xml>`
  const crypto = new MessageCrypto({ token, encodingAESKey, appId })
  const encryptedReply = (xml: string, opts: { signature?: string; appId?: string } = {}) => {
    const encrypt = crypto.encrypt(xml, opts.appId)
    const signature = opts.signature ?? crypto.signature('1700000000', 'n1', encrypt)
    return `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature><TimeStamp>1700000000</TimeStamp><Nonce><![CDATA[n1]]></Nonce></xml>`
  }

  const cases: Array<{ name: string; body: string | Buffer; mode?: 'plain' | 'safe' | 'compat'; expect: 'reply' | 'no-reply' | 'invalid'; detail?: RegExp }> = [
    { name: 'success', body: 'success', expect: 'no-reply' },
    { name: 'a zero-byte body', body: '', expect: 'no-reply' },
    { name: 'a text reply', body: reply('<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ok]]></Content>'), expect: 'reply' },
    { name: 'an XML declaration before <xml>', body: '<?xml version="1.0" encoding="UTF-8"?>' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'reply' },
    { name: '"success" plus a newline', body: 'success\n', expect: 'invalid', detail: /exactly/ },
    { name: 'JSON', body: '{"errcode":0}', expect: 'invalid', detail: /not a reply XML/ },
    { name: 'a BOM before <xml>', body: '\uFEFF' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /byte-order mark/ },
    { name: 'a newline before <xml>', body: '\n' + reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /whitespace/ },
    { name: 'malformed XML', body: '<xml><MsgType>text</MsgType><Content>a & b</Content></xml>', expect: 'invalid', detail: /well-formed/ },
    { name: 'a reply without MsgType', body: reply('<Content>ok</Content>'), expect: 'invalid', detail: /MsgType/ },
    { name: 'an unknown MsgType', body: reply('<MsgType>markdown</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /not one WeChat can show/ },
    { name: 'a text reply without Content', body: reply('<MsgType>text</MsgType>'), expect: 'invalid', detail: /lacks <Content>/ },
    { name: 'an image reply without MediaId', body: reply('<MsgType>image</MsgType><Image></Image>'), expect: 'invalid', detail: /lacks <Image><MediaId>/ },
    { name: 'a news reply without articles', body: reply('<MsgType>news</MsgType><ArticleCount>0</ArticleCount>'), expect: 'invalid', detail: /Articles/ },
    { name: 'bytes that are not UTF-8', body: Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]), expect: 'invalid', detail: /UTF-8/ },
    { name: 'an encrypted reply to a plaintext request', body: encryptedReply(reply('<MsgType>text</MsgType><Content>ok</Content>')), expect: 'invalid', detail: /plaintext/ },
    { name: 'an encrypted reply in safe mode', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>secret</Content>')), expect: 'reply' },
    { name: 'a plaintext reply in safe mode', mode: 'safe', body: reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'invalid', detail: /safe mode/ },
    { name: 'a plaintext reply in compatible mode', mode: 'compat', body: reply('<MsgType>text</MsgType><Content>ok</Content>'), expect: 'reply' },
    { name: 'success in safe mode', mode: 'safe', body: 'success', expect: 'no-reply' },
    { name: 'an encrypted reply with a wrong MsgSignature', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>x</Content>'), { signature: 'f'.repeat(40) }), expect: 'invalid', detail: /MsgSignature/ },
    { name: 'an encrypted reply for another AppID', mode: 'safe', body: encryptedReply(reply('<MsgType>text</MsgType><Content>x</Content>'), { appId: 'wx0000000000000000' }), expect: 'invalid', detail: /AppID/ },
    { name: 'a body over 1 MiB', body: '<xml>' + 'a'.repeat(1024 * 1024 + 10) + '</xml>', expect: 'invalid', detail: /larger than/ },
  ]
  for (const c of cases) {
    test(`${c.name}: ${c.expect === 'invalid' ? 'the error banner, no retry' : c.expect}`, async () => {
      const server = await rawServer(answerWith(200, c.body))
      after(server.close)
      const mode = c.mode ?? 'plain'
      const result = await simulate({ url: server.url, token, xml: inbound, mode, ...(mode === 'plain' ? {} : { encodingAESKey, appId }), timeoutMs: 3000 })
      assert.equal(result.attempts.length, 1)
      assert.equal(result.attempts[0]?.outcome, c.expect)
      assert.equal(result.final.kind, c.expect === 'invalid' ? 'error-banner' : c.expect)
      if (c.expect === 'invalid') assert.equal(result.userSaw, ERROR_BANNER)
      if (c.detail !== undefined) assert.match(result.final.detail ?? '', c.detail)
    })
  }

  test('what the user saw, for every reply type', async () => {
    const bodies: Array<[string, string]> = [
      ['<MsgType>image</MsgType><Image><MediaId>m1</MediaId></Image>', '[image m1]'],
      ['<MsgType>voice</MsgType><Voice><MediaId>v1</MediaId></Voice>', '[voice v1]'],
      ['<MsgType>video</MsgType><Video><MediaId>v2</MediaId><Title>T</Title></Video>', '[video "T" v2]'],
      ['<MsgType>music</MsgType><Music><Title>Song</Title><ThumbMediaId>t</ThumbMediaId></Music>', '[music "Song"]'],
      ['<MsgType>news</MsgType><ArticleCount>1</ArticleCount><Articles><item><Title>A</Title><Url>https://a</Url></item></Articles>', '[news "A" https://a]'],
      ['<MsgType>transfer_customer_service</MsgType><TransInfo><KfAccount>k@x</KfAccount></TransInfo>', '(handed to customer service agent k@x; nothing shown yet)'],
    ]
    for (const [fields, saw] of bodies) {
      const server = await rawServer(answerWith(200, reply(fields)))
      const result = await simulate({ url: server.url, token, xml: inbound, timeoutMs: 3000 })
      await server.close()
      assert.equal(result.final.kind, 'reply', fields)
      assert.equal(result.userSaw, saw)
    }
  })

  test('To/From not swapped, CreateTime in ms and several articles are warnings, not the banner', async () => {
    const body = `<xml><ToUserName>gh_judge</ToUserName><FromUserName>oJudge</FromUserName><CreateTime>1700000000000</CreateTime><MsgType>news</MsgType><ArticleCount>2</ArticleCount><Articles><item><Title>A</Title></item><item><Title>B</Title></item></Articles></xml>`
    const server = await rawServer(answerWith(200, body))
    after(server.close)
    const result = await simulate({ url: server.url, token, xml: inbound, timeoutMs: 3000 })
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.warnings.length, 4)
    assert.match(result.warnings.join('\n'), /swap To and From[\s\S]*swap To and From[\s\S]*milliseconds[\s\S]*only the first/)
  })
})
