/**
 * Hostile input against the real server process: forged and missing signatures, stale
 * timestamps, replays, XXE and entity bombs, deep and huge XML, truncated and non-UTF-8 bodies,
 * slow-loris connections, wrong methods and paths, garbage on the wire, and fuzzed queries and
 * bodies. Each gets a clear 4xx and a log line; normal traffic sent alongside is answered
 * correctly throughout, and afterwards.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { readReply, signedRequest, verificationRequest, type SignedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'
import { sha1Sorted } from '../../src/pipeline/signature.js'
import { startServerProcess, type ServerProcess } from './support/server-process.js'

const TOKEN = 'hardeningToken1'
const APP_ID = 'wx5f1d7c8a9b3e2f10'
const AES_KEY = 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR'
const credentials = { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID }

let server: ServerProcess
let base: string
let inputsTried = 0

interface Answer {
  status: number
  body: string
}

async function post(search: string, body: string | Buffer | ReadableStream, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${base}${search}`, { method: 'POST', body, headers: { 'content-type': 'text/xml', ...headers }, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit)
  return { status: res.status, body: await res.text() }
}

/** A correctly signed query (fresh nonce) carrying whatever body the attack needs. */
function signedQuery(overrides: Partial<Pick<SignedRequest['query'], 'timestamp'>> = {}): string {
  return signedRequest({ token: TOKEN, xml: sampleXml('text'), ...overrides }).search
}

/** Raw bytes on a socket; resolves with everything the server sent before it closed. */
function rawExchange(parts: Array<string | Buffer>, gapMs: number, options: { closeAfterSend?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const port = Number(new URL(base).port)
    const socket = net.connect(port, '127.0.0.1')
    let received = ''
    const deadline = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000)
    socket.setEncoding('utf8')
    socket.on('data', (data: string) => (received += data))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(deadline)
      resolve(received)
    })
    let i = 0
    const next = () => {
      if (socket.destroyed) return
      if (i < parts.length) {
        socket.write(parts[i++]!)
        setTimeout(next, gapMs)
      } else if (options.closeAfterSend === true) socket.destroy()
    }
    socket.on('connect', next)
  })
}

function statusOf(raw: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0)
}

const billionLaughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')}]><xml><ToUserName>a</ToUserName><Content>&lol9;</Content></xml>`
const xxe = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>&xxe;</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>`
const deep = `<xml>${'<a>'.repeat(5000)}x${'</a>'.repeat(5000)}</xml>`

interface Case {
  name: string
  send: () => Promise<Answer>
  status: number
  code: string
}

function cases(): Case[] {
  const now = Math.floor(Date.now() / 1000)
  const replayed = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: 'original' }) })
  const safe = () => signedRequest({ xml: sampleXml('text'), mode: 'safe', ...credentials })
  const otherApp = () => signedRequest({ token: TOKEN, xml: sampleXml('text'), mode: 'safe', encodingAESKey: AES_KEY, appId: 'wx0000000000000000' })
  return [
    { name: 'no query at all', send: () => post('', sampleXml('text')), status: 401, code: 'WX_ERR_SIGNATURE_MISSING' },
    { name: 'signature missing', send: () => post(`?timestamp=${now}&nonce=1`, sampleXml('text')), status: 401, code: 'WX_ERR_SIGNATURE_MISSING' },
    { name: 'forged signature', send: () => post(`?signature=${'a'.repeat(40)}&timestamp=${now}&nonce=1`, sampleXml('text')), status: 401, code: 'WX_ERR_SIGNATURE_INVALID' },
    { name: 'signature made with another Token', send: () => post(signedRequest({ token: 'notTheToken', xml: sampleXml('text') }).search, sampleXml('text')), status: 401, code: 'WX_ERR_SIGNATURE_INVALID' },
    { name: 'signature of different length', send: () => post(`?signature=abc&timestamp=${now}&nonce=1`, sampleXml('text')), status: 401, code: 'WX_ERR_SIGNATURE_INVALID' },
    { name: 'repeated query parameters', send: () => post(`?signature=a&signature=b&timestamp=${now}&timestamp=1&nonce=1`, sampleXml('text')), status: 400, code: 'WX_ERR_QUERY_DUPLICATE' },
    { name: 'timestamp not a number', send: () => post(`?signature=${'a'.repeat(40)}&timestamp=1e9&nonce=1`, sampleXml('text')), status: 400, code: 'WX_ERR_TIMESTAMP_INVALID' },
    { name: 'stale timestamp, correctly signed', send: () => post(signedQuery({ timestamp: String(now - 3600) }), sampleXml('text')), status: 403, code: 'WX_ERR_TIMESTAMP_STALE' },
    { name: 'timestamp in the future, correctly signed', send: () => post(signedQuery({ timestamp: String(now + 3600) }), sampleXml('text')), status: 403, code: 'WX_ERR_TIMESTAMP_STALE' },
    {
      name: 'replayed query string with a new body',
      send: async () => {
        assert.equal((await post(replayed.search, replayed.body)).status, 200)
        return post(replayed.search, sampleXml('text', { Content: 'forged' }))
      },
      status: 403,
      code: 'WX_ERR_REPLAY',
    },
    { name: 'DOCTYPE with an external entity (XXE)', send: () => post(signedQuery(), xxe), status: 400, code: 'WX_ERR_XML_DOCTYPE' },
    { name: 'billion laughs', send: () => post(signedQuery(), billionLaughs), status: 400, code: 'WX_ERR_XML_DOCTYPE' },
    { name: 'nested 5000 levels deep', send: () => post(signedQuery(), deep), status: 400, code: 'WX_ERR_XML_TOO_DEEP' },
    { name: 'huge XML (over WXMP_MAX_BODY_BYTES)', send: () => post(signedQuery(), sampleXml('text', { Content: 'x'.repeat(70_000) })), status: 413, code: 'WX_ERR_BODY_TOO_LARGE' },
    {
      name: 'huge chunked upload with no Content-Length',
      send: () => {
        let sent = 0
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 512 * 1024) return controller.close()
            sent += 16 * 1024
            controller.enqueue(new Uint8Array(16 * 1024).fill(0x61))
          },
        })
        return post(signedQuery(), stream)
      },
      status: 413,
      code: 'WX_ERR_BODY_TOO_LARGE',
    },
    { name: 'truncated XML', send: () => post(signedQuery(), sampleXml('text').slice(0, 60)), status: 400, code: 'WX_ERR_XML_MALFORMED' },
    { name: 'non-UTF-8 bytes', send: () => post(signedQuery(), Buffer.concat([Buffer.from('<xml><Content>'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('</Content></xml>')])), status: 400, code: 'WX_ERR_XML_MALFORMED' },
    { name: 'empty body', send: () => post(signedQuery(), ''), status: 400, code: 'WX_ERR_BODY_EMPTY' },
    { name: 'well-formed XML that is not a message', send: () => post(signedQuery(), '<xml><Hello>world</Hello></xml>'), status: 400, code: 'WX_ERR_MESSAGE_INVALID' },
    { name: 'JSON instead of XML', send: () => post(signedQuery(), '{"MsgType":"text"}', { 'content-type': 'application/json' }), status: 400, code: 'WX_ERR_XML_MALFORMED' },
    {
      name: 'encrypted body with a forged msg_signature',
      send: () => {
        const req = safe()
        return post(req.search.replace(/msg_signature=[0-9a-f]+/, `msg_signature=${'b'.repeat(40)}`), req.body)
      },
      status: 401,
      code: 'WX_ERR_MSG_SIGNATURE_INVALID',
    },
    {
      name: 'encrypted body that is not base64, correctly signed',
      send: () => {
        const req = safe()
        const encrypt = '!!!not-base64!!!'
        const query = { ...req.query, msg_signature: sha1Sorted([TOKEN, req.query.timestamp ?? '', req.query.nonce ?? '', encrypt]) }
        return post('?' + new URLSearchParams(query).toString(), `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`)
      },
      // behind a valid msg_signature every failure gets the same answer (no decryption oracle)
      status: 400,
      code: 'WX_ERR_DECRYPT_FAILED',
    },
    {
      name: 'ciphertext sealed for another AppID',
      send: () => {
        const req = otherApp()
        return post(req.search, req.body)
      },
      status: 400,
      code: 'WX_ERR_DECRYPT_FAILED',
    },
    { name: 'encrypt_type unknown', send: () => post(signedQuery() + '&encrypt_type=rot13', sampleXml('text')), status: 400, code: 'WX_ERR_ENCRYPT_TYPE_UNKNOWN' },
    { name: 'GET with a valid signature but no echostr', send: async () => answer(await fetch(base + signedQuery())), status: 400, code: 'WX_ERR_ECHOSTR_MISSING' },
    { name: 'GET with a forged signature', send: async () => answer(await fetch(`${base}?signature=${'c'.repeat(40)}&timestamp=${now}&nonce=1&echostr=x`)), status: 401, code: 'WX_ERR_SIGNATURE_INVALID' },
    { name: 'PUT on the webhook', send: async () => answer(await fetch(base + signedQuery(), { method: 'PUT', body: sampleXml('text') })), status: 405, code: 'WX_ERR_METHOD_NOT_ALLOWED' },
    { name: 'DELETE on the webhook', send: async () => answer(await fetch(base, { method: 'DELETE' })), status: 405, code: 'WX_ERR_METHOD_NOT_ALLOWED' },
    { name: 'OPTIONS on the webhook', send: async () => answer(await fetch(base, { method: 'OPTIONS' })), status: 405, code: 'WX_ERR_METHOD_NOT_ALLOWED' },
    { name: 'a scanner probing /.env', send: async () => answer(await fetch(base.replace('/wechat', '/.env'))), status: 404, code: 'WX_ERR_NOT_FOUND' },
    { name: 'a scanner probing /wp-login.php', send: async () => answer(await fetch(base.replace('/wechat', '/wp-login.php'), { method: 'POST', body: 'log=admin' })), status: 404, code: 'WX_ERR_NOT_FOUND' },
    { name: 'path traversal', send: async () => rawAnswer(await rawExchange(['GET /wechat/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], 0)), status: 404, code: 'WX_ERR_NOT_FOUND' },
    { name: 'POST to /metrics', send: async () => answer(await fetch(base.replace('/wechat', '/metrics'), { method: 'POST', body: 'x' })), status: 404, code: 'WX_ERR_NOT_FOUND' },
    { name: 'garbage instead of an HTTP request', send: async () => rawAnswer(await rawExchange(['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello to a plain port\r\n\r\n'], 0)), status: 400, code: 'WX_ERR_BAD_REQUEST' },
    { name: 'headers over 16 KiB', send: async () => rawAnswer(await rawExchange([`GET /wechat HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\n`], 0)), status: 431, code: 'WX_ERR_HEADERS_TOO_LARGE' },
    {
      name: 'slow-loris headers (one header line every 150 ms)',
      send: async () => rawAnswer(await rawExchange(['POST /wechat HTTP/1.1\r\n', ...Array.from({ length: 30 }, (_, i) => `X-Slow-${i}: 1\r\n`)], 150)),
      status: 408,
      code: 'WX_ERR_REQUEST_TIMEOUT',
    },
    {
      name: 'slow-loris body (one byte every 150 ms)',
      send: async () => rawAnswer(await rawExchange([`POST /wechat${signedQuery()} HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n\r\n`, ...'<xml><Content>slowly</Content></xml>'.split('')], 150)),
      status: 408,
      code: 'WX_ERR_REQUEST_TIMEOUT',
    },
  ]
}

async function answer(res: Response): Promise<Answer> {
  return { status: res.status, body: await res.text() }
}
function rawAnswer(raw: string): Answer {
  return { status: statusOf(raw), body: raw.split('\r\n\r\n').slice(1).join('\r\n\r\n') }
}

/** Valid messages sent while the attacks run; every one must be answered with its echo. */
function normalTraffic(): { stop: () => Promise<{ sent: number; failures: string[] }> } {
  let running = true
  let sent = 0
  const failures: string[] = []
  const loop = (async () => {
    for (let i = 0; running && i < 2000; i++) {
      const content = `normal ${i}`
      const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: content }) })
      try {
        const res = await post(req.search, req.body)
        sent++
        const reply = readReply(res, { token: TOKEN })
        if (res.status !== 200 || reply.reply?.Content !== content) failures.push(`${content}: ${res.status} ${res.body.slice(0, 80)}`)
      } catch (err) {
        failures.push(`${content}: ${(err as Error).message}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return { sent, failures }
    },
  }
}

describe('hostile input against the real server', () => {
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-hostile-'))
    server = await startServerProcess({
      WECHAT_TOKEN: TOKEN,
      WECHAT_APPID: APP_ID,
      WECHAT_APPSECRET: 'hardeningAppSecret0123456789abcd',
      WECHAT_AES_KEY: AES_KEY,
      WECHAT_API_BASE: 'http://127.0.0.1:9',
      DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
      WXMP_MAX_BODY_BYTES: '65536',
      HARDENING_HEADERS_TIMEOUT_MS: '1000',
      HARDENING_REQUEST_TIMEOUT_MS: '2000',
    })
    base = server.url
  })
  after(async () => {
    await server?.stop()
  })

  test('each attack gets its 4xx and a log line naming it, while normal traffic is answered throughout', async (t) => {
    const traffic = normalTraffic()
    let attackFailure: unknown
    try {
      for (const attack of cases()) {
        const from = server.logs.length
        const res = await attack.send().catch((err: unknown) => {
          throw new Error(`${attack.name}: the request failed: ${(err as Error).message} (${String((err as { cause?: unknown }).cause)})`)
        })
        inputsTried++
        assert.equal(res.status, attack.status, `${attack.name}: got ${res.status} ${res.body.slice(0, 120)}`)
        assert.equal(res.body.trim(), attack.code, `${attack.name}: the body names the code`)
        // repeated rejections from one source are summarised after the first few per code: a line
        // naming the code exists, this attack's own or an earlier one's
        const line = await server.waitForLog((l) => l.code === attack.code, { from: server.logs.some((l) => l.code === attack.code) ? 0 : from, timeoutMs: 3000 })
        assert.ok(line.level >= 30 && line.level < 50, `${attack.name}: logged at info/warn, not error (level ${line.level})`)
      }
    } catch (err) {
      attackFailure = err
    } finally {
      const { sent, failures } = await traffic.stop()
      if (attackFailure !== undefined) throw attackFailure
      t.diagnostic(`normal messages answered during the attacks: ${sent}, failures: ${failures.length}`)
      assert.deepEqual(failures, [])
      assert.ok(sent > 10, `normal traffic ran (${sent})`)
    }
  })

  test('a body cut off mid-upload is logged and the connection dropped; nothing is recorded', async () => {
    const from = server.logs.length
    const raw = await rawExchange([`POST /wechat${signedQuery()} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<xml><ToUserName>`], 10, { closeAfterSend: true })
    inputsTried++
    assert.equal(raw, '')
    const line = await server.waitForLog((l) => l.code === 'WX_ERR_BODY_EMPTY', { from })
    assert.match(String(line.err), /aborted/)
  })

  test('fuzzed queries and bodies never get a 5xx, and a 200 is always a valid answer', async (t) => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(...['text', 'image', 'event:subscribe', 'event:CLICK'] as const).chain((kind) =>
        fc.tuple(fc.nat({ max: 400 }), fc.string({ maxLength: 8 })).map(([cut, junk]) => {
          const xml = sampleXml(kind)
          return xml.slice(0, cut % (xml.length + 1)) + junk + xml.slice(cut % (xml.length + 1))
        }),
      ),
    )
    const queryValue = fc.oneof(fc.string({ maxLength: 50 }), fc.constant(''), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 40, maxLength: 40 }))
    const queries = fc.oneof(
      fc.constant('valid'),
      fc.dictionary(fc.constantFrom('signature', 'timestamp', 'nonce', 'openid', 'encrypt_type', 'msg_signature', 'echostr', 'x'), queryValue).map((q) => '?' + new URLSearchParams(q).toString()),
      fc.string({ maxLength: 80 }).map((s) => '?' + encodeURI(s).replace(/#/g, '%23')),
    )
    let runs = 0
    await fc.assert(
      fc.asyncProperty(queries, bodies, fc.constantFrom('POST', 'POST', 'POST', 'GET'), async (query, body, method) => {
        runs++
        const search = query === 'valid' ? signedQuery() : query
        const res = await fetch(base + search, method === 'GET' ? {} : { method, body, headers: { 'content-type': 'text/xml' } })
        const text = await res.text()
        assert.ok(res.status < 500, `${res.status} for ${method} ${search} ${JSON.stringify(String(body).slice(0, 100))}`)
        if (res.status === 200 && method === 'POST') readReply({ status: 200, body: text }, credentials) // throws on malformed reply XML
      }),
      { numRuns: 300 },
    )
    inputsTried += runs
    t.diagnostic(`fuzzed requests sent to the server: ${runs}`)
  })

  test('after all of it the server is alive, healthy, and answers a normal message and a URL check', async (t) => {
    assert.equal(server.child.exitCode, null)
    assert.equal((await fetch(base.replace('/wechat', '/healthz'))).status, 200)
    const req = signedRequest({ token: TOKEN, xml: sampleXml('text', { Content: '还在吗' }) })
    assert.equal(readReply(await post(req.search, req.body), { token: TOKEN }).reply?.Content, '还在吗')
    const check = verificationRequest({ token: TOKEN, echostr: 'still-here' })
    assert.equal(await (await fetch(base + check.search)).text(), 'still-here')
    const metrics = await (await fetch(base.replace('/wechat', '/metrics'))).text()
    assert.match(metrics, /wxmp_requests_total\{outcome="rejected",code="WX_ERR_XML_DOCTYPE"\} 2/)
    assert.equal(server.logs.filter((l) => l.level >= 50).length, 0, 'no error-level line: every rejection was expected')
    t.diagnostic(`hostile inputs tried against the real server: ${inputsTried}`)
  })
})
