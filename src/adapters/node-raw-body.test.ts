import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { once } from 'node:events'
import { connect } from 'node:net'
import { nodeRawBody } from './node-raw-body.js'
import { isWxmpError } from '../errors.js'
import { listen } from '../../test/support/adapter-suite.js'

/** Runs `read` inside a real node:http request carrying `body`, and reports what it returned or threw. */
async function withRequest(body: string, read: (req: IncomingMessage) => Promise<unknown>): Promise<{ value?: unknown; error?: unknown }> {
  let result: { value?: unknown; error?: unknown } = {}
  const driver = await listen(async (req, res) => {
    try {
      result = { value: await read(req) }
    } catch (error) {
      result = { error }
    }
    res.end()
  })
  try {
    await (await driver.fetch('/', { method: 'POST', body })).text()
  } finally {
    await driver.close()
  }
  return result
}

describe('nodeRawBody: the raw body whether or not a body parser ran first', () => {
  test('a string or Buffer left by a parser is used as it is, without touching the stream', async () => {
    const buffer = Buffer.from('<xml/>')
    assert.equal((await withRequest('ignored', (req) => nodeRawBody(req, '<xml/>', 100).then((r) => r.body))).value, '<xml/>')
    assert.equal((await withRequest('ignored', (req) => nodeRawBody(req, buffer, 100).then((r) => r.body))).value, buffer)
  })

  test('an object over an unread stream (a parser that skipped the type) reads the stream', async () => {
    const { value } = await withRequest('<xml>raw</xml>', (req) => nodeRawBody(req, {}, 100).then((r) => r.body))
    assert.equal(String(value), '<xml>raw</xml>')
  })

  test('an object after the stream was read is handed on for the core to reject as not raw', async () => {
    const parsed = { a: '1' }
    const { value } = await withRequest('a=1', async (req) => {
      for await (const chunk of req) void chunk
      return (await nodeRawBody(req, parsed, 100)).body
    })
    assert.equal(value, parsed)
  })

  test('a stream read by a middleware that kept nothing is WX_ERR_BODY_NOT_RAW, naming the fix', async () => {
    const { error } = await withRequest('<xml/>', async (req) => {
      for await (const chunk of req) void chunk
      return nodeRawBody(req, undefined, 100)
    })
    assert.ok(isWxmpError(error, 'WX_ERR_BODY_NOT_RAW'))
    assert.match((error as Error).message, /mount wxmp before it/)
  })

  test('reading the stream keeps the byte limit', async () => {
    const { error } = await withRequest('x'.repeat(101), (req) => nodeRawBody(req, undefined, 100))
    assert.ok(isWxmpError(error, 'WX_ERR_BODY_TOO_LARGE'))
  })

  test('a client that hung up before the body was asked for is WX_ERR_BODY_EMPTY, not a read that never ends', { timeout: 5000 }, async () => {
    let settled!: (result: { value?: unknown; error?: unknown }) => void
    const outcome = new Promise<{ value?: unknown; error?: unknown }>((resolve) => (settled = resolve))
    let arrived!: () => void
    const arrival = new Promise<void>((resolve) => (arrived = resolve))
    const driver = await listen(async (req, res) => {
      arrived()
      await new Promise((resolve) => req.once('close', resolve)) // an earlier middleware still awaiting while the client leaves
      nodeRawBody(req, undefined, 100).then((value) => settled({ value }), (error: unknown) => settled({ error }))
      res.destroy()
    })
    try {
      const socket = connect(driver.port!, '127.0.0.1')
      await once(socket, 'connect')
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n<xml>')
      await arrival
      socket.destroy()
      const { error } = await outcome
      assert.ok(isWxmpError(error, 'WX_ERR_BODY_EMPTY'))
    } finally {
      await driver.close()
    }
  })
})
