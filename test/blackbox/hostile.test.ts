/**
 * What a follower (or anyone with the URL) can send, against the real server: bodies that are
 * not messages get a 4xx naming the cause and reach no handler; odd but valid XML is read the
 * way an XML parser reads it; nothing gets a 5xx.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { delivery, field, msgId, nonce, nowSeconds, openid, post, sortedSha1, wechatXml, type Account } from './wechat-side.js'
import { startWebhook, type WebhookServer } from './server.js'

const account: Account = { token: 'hostiletoken' }

describe('hostile and odd input', () => {
  let server: WebhookServer
  before(async () => (server = await startWebhook({ WECHAT_TOKEN: account.token, WXMP_MAX_BODY_BYTES: '65536' })))
  after(() => server?.stop())

  const text = (content: string, from: string) => wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content>${content}</Content><MsgId>${msgId()}</MsgId>`, { from })

  test('refused bodies: 4xx with the WX_ERR code as text/plain, and no handler runs', async () => {
    const from = openid()
    const cases: Array<[string, string | Buffer, number, RegExp]> = [
      ['empty body', '', 400, /WX_ERR_BODY_EMPTY/],
      ['plain "success"', 'success', 400, /WX_ERR_XML_MALFORMED/],
      ['JSON', '{"MsgType":"text"}', 400, /WX_ERR_XML_MALFORMED/],
      ['truncated XML', text('<![CDATA[x]]>', from).slice(0, 80), 400, /WX_ERR_XML_MALFORMED/],
      ['XXE through a DOCTYPE', `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${text('&xxe;', from)}`, 400, /WX_ERR_XML_DOCTYPE/],
      ['entity expansion', `<!DOCTYPE xml [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>${text('&b;', from)}`, 400, /WX_ERR_XML_DOCTYPE/],
      ['an undeclared entity', text('&nbsp;', from), 400, /WX_ERR_XML_MALFORMED/],
      ['a character XML forbids', text('<![CDATA[a\u0001b]]>', from), 400, /WX_ERR_XML_MALFORMED/],
      ['invalid UTF-8', Buffer.concat([Buffer.from(text('<![CDATA[', from).split('<![CDATA[')[0]! + '<![CDATA['), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(']]></Content></xml>')]), 400, /WX_ERR_XML_MALFORMED/],
      ['nesting 40 deep', wechatXml(`<MsgType><![CDATA[text]]></MsgType><Content>x</Content>${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, { from }), 400, /WX_ERR_XML_TOO_DEEP/],
      ['no header fields', '<xml><Content><![CDATA[hi]]></Content></xml>', 400, /WX_ERR_MESSAGE_INVALID/],
      ['a text without Content', wechatXml(`<MsgType><![CDATA[text]]></MsgType><MsgId>${msgId()}</MsgId>`, { from }), 400, /WX_ERR_MESSAGE_INVALID/],
      ['CreateTime that is not a number', wechatXml('<MsgType><![CDATA[text]]></MsgType><Content>x</Content>', { from }).replace(/<CreateTime>\d+/, '<CreateTime>yesterday'), 400, /WX_ERR_MESSAGE_INVALID/],
      ['two documents', text('x', from) + text('y', from), 400, /WX_ERR_XML_MALFORMED/],
      ['a body over WXMP_MAX_BODY_BYTES', text(`<![CDATA[${'字'.repeat(30_000)}]]>`, from), 413, /WX_ERR_BODY_TOO_LARGE/],
    ]
    for (const [name, body, status, code] of cases) {
      const timestamp = nowSeconds()
      const n = nonce()
      const response = await fetch(`${server.url}?${new URLSearchParams({ signature: sortedSha1(account.token, timestamp, n), timestamp, nonce: n })}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })
      const answer = await response.text()
      assert.equal(response.status, status, `${name}: ${answer}`)
      assert.match(answer, code, name)
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/, name)
    }
    assert.equal(server.seenFrom(from), undefined, 'no handler saw any of them')
  })

  test('refused requests: no signature 401, forged 401, duplicated parameter 400, stale timestamp 403, wrong path 404', async () => {
    const body = text('<![CDATA[hi]]>', openid())
    const good = delivery(account, body)
    const send = (query: Record<string, string>, url = server.url) => fetch(`${url}?${new URLSearchParams(query)}`, { method: 'POST', body })
    assert.equal((await fetch(server.url, { method: 'POST', body })).status, 401)
    assert.equal((await send({ ...good.query, signature: 'a'.repeat(40) })).status, 401)
    const duplicated = await fetch(`${server.url}?${new URLSearchParams(good.query)}&nonce=1`, { method: 'POST', body })
    assert.equal(duplicated.status, 400)
    const old = String(Number(nowSeconds()) - 3600)
    assert.equal((await send({ ...good.query, timestamp: old, signature: sortedSha1(account.token, old, good.query.nonce!) })).status, 403)
    assert.equal((await send(good.query, server.url + '/../../etc/passwd')).status, 404)
  })

  test('odd but valid XML is read as an XML parser reads it', async () => {
    const cases: Array<[string, (from: string) => string, string]> = [
      ['an XML declaration', (from) => `<?xml version="1.0" encoding="UTF-8"?>\n${text('<![CDATA[declared]]>', from)}`, 'declared'],
      ['whitespace around the document', (from) => `\n  ${text('<![CDATA[spaced]]>', from)}\n\n`, 'spaced'],
      ['a ]]> split over two CDATA sections', (from) => text('<![CDATA[a]]]]><![CDATA[>b]]>', from), 'a]]>b'],
      ['text and CDATA mixed', (from) => text('abc<![CDATA[<def>]]>ghi', from), 'abc<def>ghi'],
      ['entities and character references', (from) => text('&lt;a&gt; &amp; &quot;&apos; &#x1F600;&#20320;', from), '<a> & "\' 😀你'],
      ['a comment inside', (from) => text('<!-- c --><![CDATA[commented]]>', from), 'commented'],
      ['spaces kept inside CDATA', (from) => text('<![CDATA[  padded  ]]>', from), '  padded  '],
      ['CRLF line ends', (from) => text('<![CDATA[line1\r\nline2]]>', from), 'line1\nline2'],
      ['attributes on elements', (from) => wechatXml(`<MsgType type="x"><![CDATA[text]]></MsgType><Content lang="zh"><![CDATA[attributed]]></Content><MsgId>${msgId()}</MsgId>`, { from }), 'attributed'],
      [
        'elements in another order, no CDATA',
        (from) => `<xml><MsgId>${msgId()}</MsgId><Content>reordered</Content><MsgType>text</MsgType><CreateTime>1348831860</CreateTime><FromUserName>${from}</FromUserName><ToUserName>gh_x</ToUserName></xml>`,
        'reordered',
      ],
      ['a 4-byte emoji and CJK', (from) => text('<![CDATA[😀👨‍👩‍👧 你好]]>', from), '😀👨‍👩‍👧 你好'],
    ]
    for (const [name, build, content] of cases) {
      const from = openid()
      const answer = await post(server.url, delivery(account, build(from)))
      assert.equal(answer.status, 200, `${name}: ${answer.body}`)
      assert.equal(server.seenFrom(from)?.message.Content, content, name)
      assert.equal(field(answer.body, 'ToUserName'), from, name)
    }
  })

  test('a huge text still within the body limit is handled, and its echo is paged', async () => {
    const from = openid()
    const content = '字'.repeat(20_000)
    const answer = await post(server.url, delivery(account, text(`<![CDATA[reply:text ${content}]]>`, from)))
    assert.equal(answer.status, 200)
    assert.equal(server.seenFrom(from)?.message.Content, `reply:text ${content}`)
    assert.ok(Buffer.byteLength(field(answer.body, 'Content')!) <= 2048)
  })
})
