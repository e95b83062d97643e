/**
 * The fake WeChat API server, spoken to over real HTTP with plain fetch: the protocol rules it
 * must reproduce for the client tests to mean anything (token lifetimes, errcodes for bad
 * tokens and bad bodies, limits, faults, the call log).
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startFakeWechat, type FakeWechat } from './index.js'

let fake: FakeWechat
let clock = Date.UTC(2026, 0, 1)
const now = () => clock

interface Answer {
  status: number
  contentType: string
  text: string
  json: Record<string, unknown>
}

async function raw(path: string, init: { method?: string; query?: Record<string, string>; body?: string | FormData; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(fake.url + path)
  for (const [k, v] of Object.entries(init.query ?? {})) url.searchParams.set(k, v)
  const res = await fetch(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), body: init.body, headers: init.headers })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = {}
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text, json }
}

const creds = () => ({ grant_type: 'client_credential', appid: fake.appId, secret: fake.appSecret })

async function classic(): Promise<string> {
  const a = await raw('/cgi-bin/token', { query: creds() })
  assert.equal(typeof a.json.access_token, 'string', a.text)
  return a.json.access_token as string
}

async function stable(force = false): Promise<Answer> {
  return raw('/cgi-bin/stable_token', { body: JSON.stringify({ ...creds(), force_refresh: force }) })
}

/** The errcode an API call answers with this token (0 = accepted). */
async function errcodeWith(token: string | undefined): Promise<number> {
  const a = await raw('/cgi-bin/getcallbackip', { query: token === undefined ? {} : { access_token: token } })
  return typeof a.json.errcode === 'number' ? a.json.errcode : 0
}

async function post(path: string, body: unknown, token?: string): Promise<Answer> {
  return raw(path, { query: { access_token: token ?? (await classic()) }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

describe('fake WeChat API server', () => {
  before(async () => {
    fake = await startFakeWechat({ now })
  })
  after(async () => {
    await fake.close()
  })
  beforeEach(() => {
    fake.reset()
  })

  describe('tokens', () => {
    test('classic: every fetch is a new token; the previous one works through the 5-minute overlap, then answers 40001', async () => {
      const first = await classic()
      const second = await classic()
      assert.notEqual(first, second)
      assert.equal(await errcodeWith(first), 0)
      clock += 299_000
      assert.equal(await errcodeWith(first), 0)
      clock += 2_000
      assert.equal(await errcodeWith(first), 40001)
      assert.equal(await errcodeWith(second), 0)
    })

    test('a token past expires_in answers 42001', async () => {
      const token = await classic()
      clock += 7200_000
      assert.equal(await errcodeWith(token), 42001)
    })

    test('stable_token: the same token while valid, with the remaining expires_in', async () => {
      const a = await stable()
      clock += 1000_000
      const b = await stable()
      assert.equal(b.json.access_token, a.json.access_token)
      assert.equal(b.json.expires_in, 6200)
    })

    test('stable_token: in the last 5 minutes a new token comes out and the old one lives to its own expiry', async () => {
      const a = (await stable()).json.access_token as string
      clock += 7000_000
      const b = (await stable()).json.access_token as string
      assert.notEqual(a, b)
      assert.equal(await errcodeWith(a), 0)
      clock += 200_000
      assert.equal(await errcodeWith(a), 42001)
      assert.equal(await errcodeWith(b), 0)
    })

    test('stable_token force_refresh kills the current token at once', async () => {
      const a = (await stable()).json.access_token as string
      const b = (await stable(true)).json.access_token as string
      assert.notEqual(a, b)
      assert.equal(await errcodeWith(a), 40001)
      assert.equal(await errcodeWith(b), 0)
    })

    test('classic and stable tokens are independent', async () => {
      const s = (await stable()).json.access_token as string
      await classic()
      await classic()
      clock += 600_000
      assert.equal(await errcodeWith(s), 0)
    })

    test('wrong credentials: 40013 for the AppID, 40125 (stable) / 40001 (classic) for the secret, 40002 for grant_type', async () => {
      assert.equal((await raw('/cgi-bin/stable_token', { body: JSON.stringify({ ...creds(), appid: 'wx0000000000000000' }) })).json.errcode, 40013)
      assert.equal((await raw('/cgi-bin/stable_token', { body: JSON.stringify({ ...creds(), secret: 'nope' }) })).json.errcode, 40125)
      assert.equal((await raw('/cgi-bin/token', { query: { ...creds(), secret: 'nope' } })).json.errcode, 40001)
      assert.equal((await raw('/cgi-bin/token', { query: { ...creds(), grant_type: 'password' } })).json.errcode, 40002)
      assert.equal(fake.tokensIssued.length, 0)
    })

    test('missing token 41001, malformed token 40014, unknown token 40001', async () => {
      assert.equal(await errcodeWith(undefined), 41001)
      assert.equal(await errcodeWith('short!'), 40014)
      assert.equal(await errcodeWith('A'.repeat(136)), 40001)
    })

    test('revokeTokens makes every current token answer 40001', async () => {
      const token = await classic()
      fake.revokeTokens()
      assert.equal(await errcodeWith(token), 40001)
    })

    test('errmsg carries a rid like WeChat', async () => {
      const a = await raw('/cgi-bin/getcallbackip')
      assert.match(String(a.json.errmsg), /^access_token missing rid: [0-9a-f]{8}-[0-9a-f]{4}$/)
    })
  })

  describe('requests', () => {
    test('errors are HTTP 200 JSON, as WeChat sends them', async () => {
      const a = await raw('/cgi-bin/getcallbackip')
      assert.equal(a.status, 200)
      assert.match(a.contentType, /json/)
    })

    test('empty body 44002, malformed JSON 47001, a JSON array 47001', async () => {
      const token = await classic()
      assert.equal((await post('/cgi-bin/message/custom/send', '', token)).json.errcode, 44002)
      assert.equal((await post('/cgi-bin/message/custom/send', '{"touser":', token)).json.errcode, 47001)
      assert.equal((await post('/cgi-bin/message/custom/send', '[1,2]', token)).json.errcode, 47001)
    })

    test('GET on a POST endpoint 43002, POST on a GET endpoint 43001, unknown path HTTP 404', async () => {
      const token = await classic()
      assert.equal((await raw('/cgi-bin/menu/create', { query: { access_token: token } })).json.errcode, 43002)
      assert.equal((await post('/cgi-bin/menu/get', {}, token)).json.errcode, 43001)
      assert.equal((await raw('/cgi-bin/no/such/thing', { query: { access_token: token } })).status, 404)
    })

    test('missing fields answer the errcode WeChat gives: 40003 touser, 40008 msgtype, 44004 text content, 45008 two news articles', async () => {
      const token = await classic()
      assert.equal((await post('/cgi-bin/message/custom/send', { msgtype: 'text', text: { content: 'x' } }, token)).json.errcode, 40003)
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: 'oUser00000001', text: { content: 'x' } }, token)).json.errcode, 40008)
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: 'oUser00000001', msgtype: 'text', text: { content: '' } }, token)).json.errcode, 44004)
      const two = { articles: [{ title: 'a' }, { title: 'b' }] }
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: 'oUser00000001', msgtype: 'news', news: two }, token)).json.errcode, 45008)
    })

    test('a client that aborts mid-body does not take the fake down', async () => {
      const { request } = await import('node:http')
      await new Promise<void>((resolve) => {
        const req = request(`${fake.url}/cgi-bin/message/custom/send?access_token=x`, { method: 'POST', headers: { 'content-length': '1000' } })
        req.on('error', () => resolve())
        req.write('{"touser":')
        setTimeout(() => {
          req.destroy()
          resolve()
        }, 20)
      })
      assert.equal(await errcodeWith(undefined), 41001)
    })

    test('a body over 20 MB is refused with HTTP 413', async () => {
      const a = await raw('/cgi-bin/media/upload', { query: { type: 'image' }, body: 'x'.repeat(20 * 1024 * 1024 + 1) })
      assert.equal(a.status, 413)
      assert.equal(await errcodeWith(undefined), 41001)
    })

    test('the template msgid is a 64-bit number in the JSON text, beyond what a double holds', async () => {
      const token = await classic()
      const a = await post('/cgi-bin/message/template/send', { touser: 'oUser00000001', template_id: 'ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY', data: { keyword1: { value: 'x' } } }, token)
      const digits = /"msgid":(\d+)/.exec(a.text)?.[1]
      assert.ok(digits !== undefined && digits.length >= 19, a.text)
      assert.ok(BigInt(digits) > BigInt(Number.MAX_SAFE_INTEGER))
      assert.equal(fake.sent.at(-1)?.msgid, digits)
    })
  })

  describe('menus', () => {
    const leaf = (name: string) => ({ type: 'click', name, key: 'K' })

    test('server-side limits: 40016 count, 40017 type, 40018 name bytes, 40019 key bytes', async () => {
      const token = await classic()
      const create = async (button: unknown) => (await post('/cgi-bin/menu/create', { button }, token)).json.errcode
      assert.equal(await create([leaf('a'), leaf('b'), leaf('c'), leaf('d')]), 40016)
      assert.equal(await create([{ name: 'p', sub_button: Array.from({ length: 6 }, (_, i) => leaf(`s${i}`)) }]), 40016)
      assert.equal(await create([{ type: 'text', name: 'a', key: 'K' }]), 40017)
      assert.equal(await create([leaf('一二三四五六')]), 40018) // 18 bytes
      assert.equal(await create([{ type: 'click', name: 'a', key: 'k'.repeat(129) }]), 40019)
      assert.equal(await create([leaf('一二三四五')]), 0) // 15 bytes
    })

    test('a conditional menu needs a default menu (65303) and may not use privacy fields (65320)', async () => {
      const token = await classic()
      const add = async (matchrule: unknown) => (await post('/cgi-bin/menu/addconditional', { button: [leaf('a')], matchrule }, token)).json
      assert.equal((await add({ tag_id: '2' })).errcode, 65303)
      await post('/cgi-bin/menu/create', { button: [leaf('d')] }, token)
      assert.equal((await add({ sex: '1' })).errcode, 65320)
      assert.equal((await add({})).errcode, 65304)
      assert.equal(typeof (await add({ tag_id: '2' })).menuid, 'string')
    })
  })

  describe('media', () => {
    function form(name: string, bytes: number, type = 'image/png'): FormData {
      const f = new FormData()
      f.append('media', new Blob([Buffer.alloc(bytes, 7)], { type }), name)
      return f
    }

    test('upload checks type (40004), the media field (41005), the file type (40005) and the size (40006)', async () => {
      const token = await classic()
      const upload = async (type: string, body: FormData) => (await raw('/cgi-bin/media/upload', { query: { access_token: token, type }, body })).json.errcode
      assert.equal(await upload('file', form('a.png', 10)), 40004)
      const wrongField = new FormData()
      wrongField.append('file', new Blob([Buffer.alloc(10)]), 'a.png')
      assert.equal(await upload('image', wrongField), 41005)
      assert.equal(await upload('image', form('a.exe', 10)), 40005)
      assert.equal(await upload('thumb', form('a.jpg', 64 * 1024 + 1, 'image/jpeg')), 40006)
    })

    test('thumb uploads answer thumb_media_id; download gives the bytes with Content-Type; an unknown id is JSON 40007', async () => {
      const token = await classic()
      const up = await raw('/cgi-bin/media/upload', { query: { access_token: token, type: 'thumb' }, body: form('t.jpg', 100, 'image/jpeg') })
      const id = up.json.thumb_media_id as string
      assert.equal(up.json.media_id, undefined)
      const res = await fetch(`${fake.url}/cgi-bin/media/get?access_token=${token}&media_id=${id}`)
      assert.equal(res.headers.get('content-type'), 'image/jpeg')
      assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename=".+\.jpg"/)
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.alloc(100, 7))
      const missing = await raw('/cgi-bin/media/get', { query: { access_token: token, media_id: 'nope' } })
      assert.equal(missing.json.errcode, 40007)
    })

    test('temporary media expire after 3 days', async () => {
      const id = fake.addMedia({ type: 'image', data: Buffer.from('x'), contentType: 'image/png', filename: 'x.png' })
      clock += 3 * 86_400_000 - 1
      assert.equal((await raw('/cgi-bin/media/get', { query: { access_token: await classic(), media_id: id } })).status, 200)
      clock += 1
      assert.equal((await raw('/cgi-bin/media/get', { query: { access_token: await classic(), media_id: id } })).json.errcode, 40007)
    })
  })

  describe('faults and the call log', () => {
    test('an injected errcode answers the next matching call only, then the endpoint behaves again', async () => {
      const token = await classic()
      fake.inject({ errcode: 45009, path: '/cgi-bin/getcallbackip' })
      assert.equal(await errcodeWith(token), 45009)
      assert.equal(await errcodeWith(token), 0)
      assert.deepEqual(
        fake.calls.filter((c) => c.path === '/cgi-bin/getcallbackip').map((c) => [c.errcode, c.injected]),
        [
          [45009, true],
          [0, false],
        ],
      )
    })

    test('times counts down; a fault without a path leaves token fetches alone', async () => {
      fake.inject({ errcode: -1, times: 2 })
      const token = await classic()
      assert.equal(await errcodeWith(token), -1)
      assert.equal(await errcodeWith(token), -1)
      assert.equal(await errcodeWith(token), 0)
    })

    test('an injected HTTP status answers with that status and no JSON', async () => {
      const token = await classic()
      fake.inject({ status: 503 })
      assert.equal((await raw('/cgi-bin/getcallbackip', { query: { access_token: token } })).status, 503)
    })

    test('injected latency delays the answer and then the call runs normally', async () => {
      const token = await classic()
      fake.inject({ latencyMs: 50 })
      const started = performance.now()
      assert.equal(await errcodeWith(token), 0)
      assert.ok(performance.now() - started >= 45)
    })

    test('rejects a fault with times < 1', () => {
      assert.throws(() => fake.inject({ errcode: 1, times: 0 }), RangeError)
    })

    test('the call log keeps every call with its body, token and answer, and never the secret', async () => {
      await classic()
      await stable()
      const [c1, c2] = fake.calls
      assert.equal(c1?.query.secret, '[redacted]')
      assert.deepEqual(c2?.body, { grant_type: 'client_credential', appid: fake.appId, secret: '[redacted]', force_refresh: false })
      assert.equal(fake.tokenFetches(), 2)
      assert.ok(!JSON.stringify(fake.calls).includes(fake.appSecret))
    })

    test('a daily quota answers 45009 past its limit until clear_quota', async () => {
      const token = await classic()
      fake.setQuota('/cgi-bin/getcallbackip', 1)
      assert.equal(await errcodeWith(token), 0)
      assert.equal(await errcodeWith(token), 45009)
      assert.equal((await post('/cgi-bin/clear_quota', { appid: fake.appId }, token)).json.errcode, 0)
      assert.equal(await errcodeWith(token), 0)
    })
  })

  describe('control API under /__fake/ (for a fake started from the command line)', () => {
    const control = async (action: string, body?: unknown) => {
      const res = await fetch(`${fake.url}/__fake/${action}`, body === undefined ? {} : { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) })
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> }
    }

    test('inject over HTTP works like inject(); control requests are not in the call log', async () => {
      const token = await classic()
      assert.equal((await control('inject', { errcode: 40001, path: '/cgi-bin/getcallbackip' })).status, 200)
      assert.equal(await errcodeWith(token), 40001)
      const { json } = await control('calls?path=/cgi-bin/getcallbackip')
      assert.deepEqual(
        (json.calls as Array<{ errcode: number; injected: boolean }>).map((c) => [c.errcode, c.injected]),
        [[40001, true]],
      )
      assert.equal(json.tokenFetches, 1)
      assert.ok(fake.calls.every((c) => !c.path.startsWith('/__fake/')))
    })

    test('users, window, authorize, sent, revoke-tokens, reset', async () => {
      const openid = 'oWxmpCtlUser0000000000000001'
      await control('users', { openid, subscribe: 0, remark: 'r' })
      assert.equal(fake.state.users.get(openid)?.remark, 'r')
      const token = await classic()
      const send = async () => (await post('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'text', text: { content: 'x' } }, token)).json.errcode
      assert.equal(await send(), 43004)
      await control('users', { openid })
      await control('window', { openid, open: false })
      assert.equal(await send(), 45015)
      await control('window', { openid, open: true })
      assert.equal(await send(), 0)
      assert.deepEqual((await control('sent')).json.sent, [{ ...fake.sent[0], body: { touser: openid, msgtype: 'text', text: { content: 'x' } } }])
      const code = (await control('authorize', { openid, scope: 'snsapi_userinfo' })).json.code as string
      assert.equal(fake.state.oauthCodes.get(code)?.openid, openid)
      await control('revoke-tokens', {})
      assert.equal(await errcodeWith(token), 40001)
      await control('reset', {})
      assert.equal(fake.state.users.size, 0)
    })

    test('without customer-service permission (an unverified 订阅号) custom/send and custom/typing answer 48001; other calls work', async () => {
      const openid = 'oWxmpCtlUser0000000000000002'
      const token = await classic()
      assert.equal((await control('permissions', { customerService: false })).status, 200)
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'text', text: { content: 'x' } }, token)).json.errcode, 48001)
      assert.match(String((await post('/cgi-bin/message/custom/typing', { touser: openid, command: 'Typing' }, token)).json.errmsg), /api unauthorized/)
      assert.equal(await errcodeWith(token), 0)
      assert.equal(fake.sent.length, 0, 'nothing refused is recorded as delivered')
      // a bad token is still the first thing WeChat checks
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'text', text: { content: 'x' } }, 'x'.repeat(40))).json.errcode, 40001)
      fake.setCustomerService(true)
      assert.equal((await post('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'text', text: { content: 'x' } }, token)).json.errcode, 0)
      assert.match(String((await control('permissions', { customerService: 'no' })).json.error), /customerService/)
    })

    test('publish-outcome queues how the next publish job ends; mass-quota sets the sends left', async () => {
      assert.equal((await control('publish-outcome', { status: 4, failIdx: [1] })).status, 200)
      assert.match(String((await control('publish-outcome', { status: 7 })).json.error), /0\|2\|3\|4/)
      assert.match(String((await control('publish-outcome', { status: 2, failIdx: ['a'] })).json.error), /failIdx/)
      assert.equal((await control('mass-quota', { left: 0 })).status, 200)
      assert.match(String((await control('mass-quota', { left: -1 })).json.error), /left/)
      const token = await classic()
      assert.equal((await post('/cgi-bin/message/mass/sendall', { filter: { is_to_all: true }, msgtype: 'text', text: { content: 'x' } }, token)).json.errcode, 45028)
    })

    test('malformed control requests get HTTP 400 naming the problem; unknown ones 404 with the usage', async () => {
      assert.match(String((await control('inject', '{nope')).json.error), /not valid JSON/)
      assert.match(String((await control('inject', { errcode: 1, status: 500 })).json.error), /exactly one/)
      assert.match(String((await control('inject', { latencyMs: -5 })).json.error), /latencyMs/)
      assert.match(String((await control('inject', { status: 42 })).json.error), /HTTP status/)
      assert.match(String((await control('inject', { errcode: 1, path: 'cgi-bin' })).json.error), /start with \//)
      assert.match(String((await control('inject', { errcode: 1, times: 0 })).json.error), /times/)
      assert.match(String((await control('users', { openid: 'bad id' })).json.error), /openid/)
      assert.match(String((await control('window', { openid: 'oWxmpCtlUser0000000000000001' })).json.error), /open/)
      const unknown = await fetch(`${fake.url}/__fake/explode`, { method: 'POST' })
      assert.equal(unknown.status, 404)
      assert.match(await unknown.text(), /POST \/__fake\/inject/)
      assert.equal(fake.state.faults.length, 0)
    })
  })
})
