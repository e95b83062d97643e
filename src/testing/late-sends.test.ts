import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { collectLateMessages, describeSent, type CollectLateOptions } from './late-sends.js'

const openid = 'oLateSends0001'
const since = 1_800_000_000_000

/** A fetch that answers each look with the next of `answers` (the last one repeats), counting looks. */
function fakeFetch(answers: Array<() => Response | Promise<Response>>) {
  const looks: string[] = []
  const fetchFn = (async (input: string | URL | Request) => {
    looks.push(String(input))
    const answer = answers[Math.min(looks.length - 1, answers.length - 1)] as () => Response
    return answer()
  }) as typeof fetch
  return { fetchFn, looks }
}

const sentList = (sent: unknown[]) => () => Response.json({ sent })
const cs = (text: string, at = since + 10, touser = openid) => ({ kind: 'customer-service', touser, msgtype: 'text', body: { touser, msgtype: 'text', text: { content: text } }, at })
const typing = (command = 'Typing', at = since + 5) => ({ kind: 'typing', touser: openid, msgtype: command, body: { touser: openid, command }, at })

function collect(fetchFn: typeof fetch, extra: Partial<CollectLateOptions> = {}) {
  return collectLateMessages({ from: 'http://127.0.0.1:8081/', openid, since, waitMs: 5000, pollMs: 1, fetch: fetchFn, ...extra })
}

describe('collectLateMessages: reading the fake\'s sends for one user', () => {
  test('looks at <from>/__fake/sent until a customer-service message arrives, then stops', async () => {
    const { fetchFn, looks } = fakeFetch([sentList([]), sentList([typing()]), sentList([typing(), cs('the answer', since + 1234)])])
    const found: string[] = []
    const result = await collect(fetchFn, { onMessage: (m) => found.push(m.text) })
    assert.deepEqual(looks, ['http://127.0.0.1:8081/__fake/sent', 'http://127.0.0.1:8081/__fake/sent', 'http://127.0.0.1:8081/__fake/sent'])
    assert.deepEqual(result.messages, [
      { kind: 'typing', msgtype: 'Typing', text: 'typing…', afterMs: 5 },
      { kind: 'customer-service', msgtype: 'text', text: 'the answer', afterMs: 1234 },
    ])
    assert.deepEqual(found, ['typing…', 'the answer'])
    assert.equal(result.warning, undefined)
  })

  test('waitMs 0 looks exactly once', async () => {
    const { fetchFn, looks } = fakeFetch([sentList([])])
    const result = await collect(fetchFn, { waitMs: 0 })
    assert.equal(looks.length, 1)
    assert.deepEqual(result, { messages: [] })
  })

  test('typing alone does not end the wait; the wait ends at waitMs with what came', async () => {
    const { fetchFn, looks } = fakeFetch([sentList([typing()])])
    const result = await collect(fetchFn, { waitMs: 30, pollMs: 5 })
    assert.ok(looks.length >= 2)
    assert.deepEqual(result.messages.map((m) => m.text), ['typing…'])
  })

  test('other users, earlier messages and CancelTyping are left out; templates are kept', async () => {
    const template = { kind: 'template', touser: openid, msgtype: 'TPL_ORDER', body: {}, at: since + 20 }
    const { fetchFn } = fakeFetch([sentList([cs('older', since - 1), cs('someone else', since + 1, 'oOtherUser001'), typing('CancelTyping'), template, cs('mine')])])
    const result = await collect(fetchFn)
    assert.deepEqual(result.messages.map((m) => `${m.kind}:${m.text}`), ['template:[template TPL_ORDER]', 'customer-service:mine'])
  })

  test('entries of another shape are skipped, not trusted', async () => {
    const hostile = [null, 7, 'x', [], { kind: 'customer-service' }, { ...cs('no at'), at: 'soon' }, { ...cs('null at'), at: null }, { ...cs('bad body'), body: [] }, { ...cs('bad kind'), kind: 'mass' }, { ...cs('bad touser'), touser: 42 }, cs('good')]
    const { fetchFn } = fakeFetch([sentList(hostile)])
    const result = await collect(fetchFn)
    assert.deepEqual(result.messages.map((m) => m.text), ['good'])
  })

  test('a send list that grows between looks reports each message once', async () => {
    const { fetchFn } = fakeFetch([sentList([typing()]), sentList([typing(), typing('Typing', since + 15_000)]), sentList([typing(), typing('Typing', since + 15_000), cs('done')])])
    const result = await collect(fetchFn)
    assert.deepEqual(result.messages.map((m) => m.afterMs), [5, 15_000, 10])
  })
})

describe('collectLateMessages: a fake that cannot be read is a warning, never a crash', () => {
  const cases: Array<[string, () => Response | Promise<Response>, RegExp]> = [
    ['connection refused', () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })), /cannot read http:\/\/127\.0\.0\.1:8081\/__fake\/sent \(ECONNREFUSED\): is `wxmp fake-wechat` running there/],
    ['no answer in time', () => Promise.reject(new DOMException('The operation timed out', 'TimeoutError')), /\(no answer within 2000 ms\)/],
    ['HTTP 404 (the real API, or another server)', () => new Response('not found', { status: 404 }), /answered HTTP 404: is http:\/\/127\.0\.0\.1:8081\/ a fake WeChat server/],
    ['a redirect', () => new Response(null, { status: 302, headers: { location: 'http://x' } }), /HTTP 302/],
    ['HTML', () => new Response('<html>hi</html>'), /did not answer JSON/],
    ['JSON without a list', () => Response.json({ sent: { a: 1 } }), /did not answer \{"sent": \[…\]\}/],
    ['JSON null', () => new Response('null'), /did not answer \{"sent": \[…\]\}/],
    ['an endless answer', () => new Response(endless()), /more than 33554432 bytes/],
  ]
  for (const [name, answer, warning] of cases) {
    test(name, async () => {
      const { fetchFn, looks } = fakeFetch([answer])
      const result = await collect(fetchFn)
      assert.equal(looks.length, 1, 'no second look after a failure')
      assert.deepEqual(result.messages, [])
      assert.match(result.warning ?? '', warning)
      assert.match(result.warning ?? '', /late customer-service messages are not shown/)
    })
  }
})

/** A body that never ends: 1 MiB chunks, pulled on demand (at most the cap is ever produced). */
function endless(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(0x20)
  let produced = 0
  return new ReadableStream({
    pull(controller) {
      if (++produced > 64) controller.close() // a bound, in case the cap were broken
      else controller.enqueue(chunk)
    },
  })
}

describe('describeSent: a send as the chat shows it', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['text', { text: { content: '你好 <b>&' } }, '你好 <b>&'],
    ['image', { image: { media_id: 'MEDIA1' } }, '[image MEDIA1]'],
    ['voice', { voice: { media_id: 'MEDIA2' } }, '[voice MEDIA2]'],
    ['video', { video: { media_id: 'MEDIA3', title: 'Clip' } }, '[video "Clip" MEDIA3]'],
    ['video', { video: { media_id: 'MEDIA3' } }, '[video MEDIA3]'],
    ['music', { music: { title: 'Song', thumb_media_id: 'T' } }, '[music "Song"]'],
    ['news', { news: { articles: [{ title: 'Hello', url: 'https://e.com' }, { title: 'ignored' }] } }, '[news "Hello" https://e.com]'],
    ['mpnews', { mpnews: { media_id: 'M4' } }, '[mpnews M4]'],
    ['mpnewsarticle', { mpnewsarticle: { article_id: 'A5' } }, '[mpnewsarticle A5]'],
    ['msgmenu', { msgmenu: { head_content: '满意吗?', list: [{ id: '101', content: '满意' }, { id: '102', content: '不满意' }], tail_content: '谢谢' } }, '满意吗? [满意] [不满意] 谢谢'],
    ['wxcard', { wxcard: { card_id: 'C6' } }, '[wxcard C6]'],
    ['miniprogrampage', { miniprogrampage: { title: 'Shop', pagepath: 'pages/index' } }, '[miniprogram "Shop" pages/index]'],
    ['sticker', {}, '[sticker]'],
  ]
  for (const [msgtype, body, shown] of cases) {
    test(`${msgtype} → ${shown}`, () => assert.equal(describeSent({ kind: 'customer-service', msgtype, body }), shown))
  }

  test('typing and template sends', () => {
    assert.equal(describeSent({ kind: 'typing', msgtype: 'Typing', body: {} }), 'typing…')
    assert.equal(describeSent({ kind: 'template', msgtype: 'TPL1', body: {} }), '[template TPL1]')
  })

  test('missing or mistyped fields give an empty part, never a throw', () => {
    const bodies = [{}, { text: null }, { text: 'flat' }, { text: { content: 42 } }, { news: { articles: 'x' } }, { news: { articles: [null] } }, { msgmenu: { list: [null, 3, { content: {} }] } }, { video: [] }]
    for (const msgtype of ['text', 'news', 'msgmenu', 'video', 'image']) {
      for (const body of bodies) assert.equal(typeof describeSent({ kind: 'customer-service', msgtype, body: body as Record<string, unknown> }), 'string')
    }
    assert.equal(describeSent({ kind: 'customer-service', msgtype: 'text', body: { text: { content: 42 } } }), '')
  })
})
