/**
 * One behaviour suite run against every web-framework adapter: whatever the framework, WeChat
 * must see the same answers. Each adapter test supplies a `mount` that puts a bot behind its
 * framework and returns a driver speaking fetch's Request/Response to it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type RequestListener, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { Bot, type RequestOutcome } from '../../src/bot.js'
import type { BotOptions } from '../../src/bot-options.js'
import type { Logger } from '../../src/logger.js'
import { readReply, signedRequest, verificationRequest, type SignedRequest } from '../../src/testing/signed-request.js'
import { sampleXml } from '../../src/testing/samples.js'

export const TOKEN = 'adaptertoken'
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
export const APP_ID = 'wx2c2769f8efd9abc2'
/** A small limit, so "too large" is cheap to send. */
export const MAX_BODY = 4096

export interface Driver {
  /** Sends a request to the webhook at `path` (which may carry a query string). */
  fetch(path: string, init?: RequestInit): Promise<Response>
  /** Set when the app listens on a real loopback port (raw-socket tests need it). */
  port?: number
  close(): Promise<void>
}

export interface LoggedLine {
  level: string
  obj: Record<string, unknown>
}

/** A logger that keeps its lines, to check the core's log line for adapter-side failures. */
export function memoryLogger(lines: LoggedLine[] = []): Logger & { lines: LoggedLine[] } {
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: (obj) => lines.push({ level: 'debug', obj: { ...bindings, ...obj } }),
    info: (obj) => lines.push({ level: 'info', obj: { ...bindings, ...obj } }),
    warn: (obj) => lines.push({ level: 'warn', obj: { ...bindings, ...obj } }),
    error: (obj) => lines.push({ level: 'error', obj: { ...bindings, ...obj } }),
    child: (more) => make({ ...bindings, ...more }),
  })
  return Object.assign(make({}), { lines })
}

/** An echo bot (text → the same text) with a small body limit and a logger that keeps lines. */
export function echoBot(extra: Partial<BotOptions> = {}) {
  const logger = memoryLogger()
  const bot = new Bot({ token: TOKEN, maxBodyBytes: MAX_BODY, logger, ...extra })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  const outcomes: RequestOutcome[] = []
  bot.onOutcome((outcome) => outcomes.push(outcome))
  return { bot, logger, outcomes }
}

export function safeBot() {
  return echoBot({ encodingAESKey: AES_KEY, appId: APP_ID })
}

/** Listens on an ephemeral loopback port and returns a driver for `http://127.0.0.1:port`. */
export async function listen(server: Server | RequestListener): Promise<Driver> {
  const http = typeof server === 'function' ? createServer(server) : server
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  return {
    port,
    fetch: (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init),
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

/** POSTs a signed request; `headers` replace the default text/xml content type. */
export function post(driver: Driver, path: string, req: SignedRequest, headers: Record<string, string> = { 'content-type': 'text/xml' }): Promise<Response> {
  return driver.fetch(path + req.search, { method: 'POST', body: req.body, headers })
}

/** Status and body of a response, in the shape readReply takes. */
export async function settle(response: Response): Promise<{ status: number; body: string; headers: Headers }> {
  return { status: response.status, body: await response.text(), headers: response.headers }
}

/** A body stream of `size` bytes without Content-Length (sent chunked), for the running-count limit. */
export function streamOf(size: number): ReadableStream<Uint8Array> {
  let left = size
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close()
      const chunk = new Uint8Array(Math.min(1024, left)).fill(0x61)
      left -= chunk.length
      controller.enqueue(chunk)
    },
  })
}

/** A body stream that sends `size` bytes at once, then waits until `end()` closes it. */
export function hangingUpload(size: number): { stream: ReadableStream<Uint8Array>; end(): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
      c.enqueue(new Uint8Array(size).fill(0x61))
    },
  })
  return {
    stream,
    end: () => {
      try {
        controller.close()
      } catch {
        // already closed or cancelled by the reader
      }
    },
  }
}

function textXml(content: string): string {
  return sampleXml('text', { Content: content })
}

export interface SuiteOptions {
  /** Path the mounted webhook answers on. */
  path: string
  /** Whether other HTTP methods reach the core (405 with Allow) rather than the framework's router. */
  allMethods: boolean
  /** The remote address the core should log (undefined: the adapter cannot know it). */
  remoteAddress?: RegExp
}

/** Registers the shared tests; call it inside the adapter's `describe`. */
export function adapterSuite(mount: (bot: Bot) => Promise<Driver>, options: SuiteOptions): void {
  const { path } = options
  async function withDriver(bot: Bot, body: (driver: Driver) => Promise<void>) {
    const driver = await mount(bot)
    try {
      await body(driver)
    } finally {
      await driver.close()
    }
  }

  test('GET URL verification echoes echostr', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const res = await settle(await driver.fetch(path + verificationRequest({ token: TOKEN, echostr: '8641591277801631551' }).search))
      assert.deepEqual([res.status, res.body], [200, '8641591277801631551'])
    })
  })

  test('POST text round-trips through the echo handler with the XML content type', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const res = await settle(await post(driver, path, signedRequest({ token: TOKEN, xml: textXml('hi 你好 ]]> <b>&') })))
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^application\/xml/)
      assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'hi 你好 ]]> <b>&')
    })
  })

  test('a forged signature is 401 WX_ERR_SIGNATURE_INVALID and no reply is made', async () => {
    const { bot, outcomes } = echoBot()
    await withDriver(bot, async (driver) => {
      const res = await settle(await post(driver, path, signedRequest({ token: 'forged', xml: textXml('hi') })))
      assert.deepEqual([res.status, res.body], [401, 'WX_ERR_SIGNATURE_INVALID\n'])
      assert.deepEqual(outcomes.map((o) => o.kind), ['rejected'])
    })
  })

  test('a body above maxBodyBytes with Content-Length is 413 with the core\'s log line', async () => {
    const { bot, logger } = echoBot()
    await withDriver(bot, async (driver) => {
      const req = signedRequest({ token: TOKEN, xml: textXml('x'.repeat(MAX_BODY)) })
      const res = await settle(await post(driver, path, req))
      assert.deepEqual([res.status, res.body], [413, 'WX_ERR_BODY_TOO_LARGE\n'])
      assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.code === 'WX_ERR_BODY_TOO_LARGE'))
    })
  })

  test('a chunked body (no Content-Length) is cut off at maxBodyBytes with 413', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const req = signedRequest({ token: TOKEN, xml: textXml('hi') })
      const init = { method: 'POST', body: streamOf(MAX_BODY * 4), headers: { 'content-type': 'text/xml' }, duplex: 'half' } as RequestInit
      const res = await settle(await driver.fetch(path + req.search, init))
      assert.deepEqual([res.status, res.body], [413, 'WX_ERR_BODY_TOO_LARGE\n'])
    })
  })

  test('a forged signature is answered 401 before the body is read: an upload that never ends still gets its answer', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const upload = hangingUpload(512)
      const init = { method: 'POST', body: upload.stream, headers: { 'content-type': 'text/xml' }, duplex: 'half' } as RequestInit
      try {
        const res = await settle(await driver.fetch(path + signedRequest({ token: 'forged', xml: textXml('hi') }).search, init))
        assert.deepEqual([res.status, res.body], [401, 'WX_ERR_SIGNATURE_INVALID\n'])
        assert.equal(bot.bodyBudget.inUse, 0)
      } finally {
        upload.end()
      }
    })
  })

  test('bodies in flight are bounded by maxBufferedBodyBytes: past it, 503 WX_ERR_OVERLOADED with Retry-After; the budget comes back', async () => {
    const { bot } = echoBot({ maxBufferedBodyBytes: MAX_BODY })
    await withDriver(bot, async (driver) => {
      const upload = hangingUpload(MAX_BODY - 100)
      const init = { method: 'POST', body: upload.stream, headers: { 'content-type': 'text/xml' }, duplex: 'half' } as RequestInit
      const slow = driver.fetch(path + signedRequest({ token: TOKEN, xml: textXml('slow') }).search, init).then(settle, () => undefined)
      try {
        for (let i = 0; i < 500 && bot.bodyBudget.inUse < MAX_BODY - 100; i++) await new Promise((resolve) => setTimeout(resolve, 10))
        assert.equal(bot.bodyBudget.inUse, MAX_BODY - 100, 'the slow upload holds its bytes')
        const res = await settle(await post(driver, path, signedRequest({ token: TOKEN, xml: textXml('x'.repeat(200)) })))
        assert.deepEqual([res.status, res.body, res.headers.get('retry-after')], [503, 'WX_ERR_OVERLOADED\n', '1'])
      } finally {
        upload.end()
      }
      assert.equal((await slow)?.status, 400) // the slow body was no XML
      assert.equal(bot.bodyBudget.inUse, 0)
      const after = await settle(await post(driver, path, signedRequest({ token: TOKEN, xml: textXml('again') })))
      assert.equal(readReply(after, { token: TOKEN }).reply?.Content, 'again')
    })
  })

  test('safe mode: an encrypted message gets an encrypted reply that decrypts to the echo', async () => {
    const { bot } = safeBot()
    await withDriver(bot, async (driver) => {
      const req = signedRequest({ token: TOKEN, xml: textXml('密文 hi'), mode: 'safe', encodingAESKey: AES_KEY, appId: APP_ID })
      const res = await settle(await post(driver, path, req))
      const read = readReply(res, { token: TOKEN, encodingAESKey: AES_KEY, appId: APP_ID })
      assert.equal(read.encrypted, true)
      assert.equal(read.reply?.Content, '密文 hi')
    })
  })

  for (const contentType of ['application/xml', 'text/plain', 'application/octet-stream', 'application/json', undefined]) {
    test(`a body sent as ${contentType ?? 'no content type'} still reaches the core raw`, async () => {
      const { bot } = echoBot()
      await withDriver(bot, async (driver) => {
        const req = signedRequest({ token: TOKEN, xml: textXml('typed') })
        // a Blob without a type makes fetch send no Content-Type at all
        const body = contentType === undefined ? new Blob([req.body]) : req.body
        const res = await settle(await driver.fetch(path + req.search, { method: 'POST', body, headers: contentType === undefined ? {} : { 'content-type': contentType } }))
        assert.equal(readReply(res, { token: TOKEN }).reply?.Content, 'typed')
      })
    })
  }

  test('an empty POST is 400 WX_ERR_BODY_EMPTY', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const req = signedRequest({ token: TOKEN, xml: textXml('hi') })
      const res = await settle(await driver.fetch(path + req.search, { method: 'POST', headers: { 'content-type': 'text/xml' } }))
      assert.deepEqual([res.status, res.body], [400, 'WX_ERR_BODY_EMPTY\n'])
    })
  })

  test('malformed XML is the core\'s 400, not a framework error page', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const req = signedRequest({ token: TOKEN, xml: textXml('hi') })
      const res = await settle(await driver.fetch(path + req.search, { method: 'POST', body: '<xml><ToUserName>', headers: { 'content-type': 'text/xml' } }))
      assert.deepEqual([res.status, res.body], [400, 'WX_ERR_XML_MALFORMED\n'])
    })
  })

  test('a repeated signed query parameter is refused (400 WX_ERR_QUERY_DUPLICATE); an unsigned one counts by its first value', async () => {
    const { bot } = echoBot()
    await withDriver(bot, async (driver) => {
      const get = verificationRequest({ token: TOKEN, echostr: 'first' })
      const twice = await settle(await driver.fetch(path + get.search + '&echostr=second'))
      assert.deepEqual([twice.status, twice.body], [400, 'WX_ERR_QUERY_DUPLICATE\n'])
      const forged = await settle(await driver.fetch(path + get.search + '&signature=forged'))
      assert.deepEqual([forged.status, forged.body], [400, 'WX_ERR_QUERY_DUPLICATE\n'])
      const extra = await settle(await driver.fetch(path + get.search + '&openid=a&openid=b'))
      assert.deepEqual([extra.status, extra.body], [200, 'first'])
    })
  })

  if (options.allMethods) {
    test('other methods reach the core: 405 with Allow', async () => {
      const { bot } = echoBot()
      await withDriver(bot, async (driver) => {
        const res = await settle(await driver.fetch(path + verificationRequest({ token: TOKEN }).search, { method: 'PUT', body: 'x' }))
        assert.deepEqual([res.status, res.body, res.headers.get('allow')], [405, 'WX_ERR_METHOD_NOT_ALLOWED\n', 'GET, POST'])
      })
    })
  }

  if (options.remoteAddress !== undefined) {
    const expected = options.remoteAddress
    test('the client address reaches the core\'s log line', async () => {
      const { bot, logger } = echoBot()
      await withDriver(bot, async (driver) => {
        await settle(await post(driver, path, signedRequest({ token: 'forged', xml: textXml('hi') })))
        const line = logger.lines.find((l) => l.obj.code === 'WX_ERR_SIGNATURE_INVALID')
        assert.match(String(line?.obj.remote), expected)
      })
    })
  }
}

/**
 * Opens a raw socket, promises a body it never finishes sending, and hangs up once the app has
 * the request (`arrived` resolves from a middleware mounted before wxmp). Resolves when the core
 * has logged an outcome, or after a bounded wait.
 */
export async function abortMidUpload(driver: Driver, path: string, arrived: Promise<void>, outcomes: RequestOutcome[]): Promise<void> {
  const req = signedRequest({ token: TOKEN, xml: textXml('hi') })
  const socket = connect(driver.port!, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write(`POST ${path}${req.search} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<xml>`)
  await arrived
  socket.destroy()
  for (let i = 0; i < 200 && outcomes.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
}
