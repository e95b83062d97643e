import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bot } from '../bot.js'
import { sampleXml } from '../testing/samples.js'
import { signedRequest } from '../testing/signed-request.js'
import { serve } from './node.js'

const CHILD = fileURLToPath(new URL('./shutdown-child.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'wxmp-shutdown-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }

async function post(url: string, token: string): Promise<string> {
  const req = signedRequest({ token, xml: sampleXml('text', { Content: 'hi' }) })
  const res = await fetch(`${url}?${new URLSearchParams(req.query as Record<string, string>)}`, { method: 'POST', body: req.body as string })
  return res.text()
}

/** Starts the child, sends one message whose handler outlives the answer, then SIGINT. */
async function interruptMidHandler(mode: 'default' | 'opt-out'): Promise<{ signal: NodeJS.Signals | null; finished: boolean }> {
  const marker = join(dir, `${mode}-${Date.now()}`)
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, marker, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const said = (text: string) =>
    new Promise<string>((resolve) => {
      const check = () => (out.includes(text) ? resolve(out) : undefined)
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString()
        check()
      })
      check()
    })
  const url = (await said('\n')).split('\n')[0]!
  assert.equal(await post(url, 'shutdowntoken'), 'success', 'answered at the deadline; the handler keeps running')
  await said('handler started')
  child.kill('SIGINT')
  const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, sig) => resolve([code, sig])))
  return { signal, finished: existsSync(marker) }
}

test('serve() on SIGINT lets a running handler finish, then ends by the signal', async () => {
  const { signal, finished } = await interruptMidHandler('default')
  assert.equal(finished, true, 'the handler finished before the process ended')
  assert.equal(signal, 'SIGINT')
})

test('serve({ drainOnSignals: false }) leaves the signal alone: the process ends at once', async () => {
  const { signal, finished } = await interruptMidHandler('opt-out')
  assert.equal(signal, 'SIGINT')
  assert.equal(finished, false)
})

test('server.close({ drainMs }) waits for handlers still running; close() only for requests in flight', async () => {
  let done = 0
  const bot = new Bot({ token: 'closetoken', replyTimeoutMs: 50, typingAfterMs: false, late: 'drop', logger: quiet })
  bot.on('text', async () => {
    await sleep(300)
    done++
  })
  const server = await serve(bot, { port: 0, host: '127.0.0.1', drainOnSignals: false })
  assert.equal(await post(server.url, 'closetoken'), 'success')
  await server.close({ drainMs: 5000 })
  assert.equal(done, 1)

  const second = await serve(bot, { port: 0, host: '127.0.0.1', drainOnSignals: false })
  assert.equal(await post(second.url, 'closetoken'), 'success')
  await second.close()
  assert.equal(done, 1, 'close() without drainMs does not wait for the background handler')
  await bot.drain(5000)
})

test('many servers in one process share one pair of signal listeners, removed when they close', async () => {
  const bot = new Bot({ token: 't', logger: quiet })
  const before = process.listenerCount('SIGTERM')
  const servers = await Promise.all(Array.from({ length: 12 }, () => serve(bot, { port: 0, host: '127.0.0.1' })))
  assert.equal(process.listenerCount('SIGTERM'), before + 1)
  await Promise.all(servers.map((s) => s.close()))
  assert.equal(process.listenerCount('SIGTERM'), before)
})
