/**
 * Servers for the simulator's tests: a bot on a real loopback server, a plain HTTP server that
 * answers as told (or never), and a port nothing listens on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Bot } from '../../src/bot.js'
import { serve } from '../../src/adapters/node.js'

export const token = 'simtoken'
export const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
export const appId = 'wx2c2769f8efd9abc2'
/** A bot on a real loopback server: echoes text, answers every event with its name, ignores the rest. */
export async function botServer(options: Partial<ConstructorParameters<typeof Bot>[0]> = {}) {
  const bot = new Bot({ token, ...options })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  bot.on('event', (ctx) => ctx.reply(`event ${ctx.message.Event}`))
  const server = await serve(bot, { port: 0, host: '127.0.0.1' })
  return { bot, url: server.url, close: () => closeNow(server) }
}

/**
 * Closes a test server without waiting for idle keep-alive sockets: after an aborted request
 * fetch may leave a fresh, unused connection open that server.close() would wait ~4 s for.
 */
export function closeNow(server: { server: import('node:http').Server; close(): Promise<void> }): Promise<void> {
  server.server.closeAllConnections()
  return server.close()
}

export interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

/** A plain HTTP server answering with `answer` (which may never answer), recording every request. */
export async function rawServer(answer: (res: ServerResponse, seen: Seen) => void) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      seen.push(entry)
      answer(res, entry)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/wechat`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const answerWith =
  (status: number, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/plain' }) =>
  (res: ServerResponse) => {
    res.writeHead(status, headers)
    res.end(body)
  }

/** A port nothing listens on (bound and released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

