import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createLogger, lazyChild, type Logger } from './logger.js'

function capture(level: string): { logger: Logger; lines: () => Array<Record<string, unknown>>; children: () => number } {
  const out: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(chunk.toString())
      done()
    },
  })
  const base = pino({ level }, stream)
  let children = 0
  const logger = Object.assign(Object.create(base) as Logger, {
    child(bindings: Record<string, unknown>) {
      children++
      return base.child(bindings) as unknown as Logger
    },
  })
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), children: () => children }
}

test('a lazy child logger makes no child until a line at an enabled level is written', () => {
  const { logger, lines, children } = capture('warn')
  const log = lazyChild(logger, { requestId: 'r-1' })
  log.debug({ a: 1 }, 'hidden')
  log.info({ a: 2 }, 'hidden too')
  assert.equal(children(), 0)
  assert.deepEqual(lines(), [])
  log.warn({ a: 3 }, 'shown')
  log.error({ a: 4 })
  assert.equal(children(), 1)
  const written = lines()
  assert.equal(written.length, 2)
  assert.deepEqual([written[0]?.requestId, written[0]?.a, written[0]?.msg], ['r-1', 3, 'shown'])
  assert.deepEqual([written[1]?.requestId, written[1]?.a, written[1]?.level], ['r-1', 4, 50])
})

test('a lazy child logger carries its bindings into its own children', () => {
  const { logger, lines } = capture('info')
  lazyChild(logger, { requestId: 'r-2' }).child({ msgKey: 'm:1' }).info({}, 'nested')
  const [line] = lines()
  assert.deepEqual([line?.requestId, line?.msgKey, line?.msg], ['r-2', 'm:1', 'nested'])
})

test('a lazy child of a logger that cannot tell its level makes the child on the first line', () => {
  const seen: Array<[string, object, string | undefined]> = []
  const plain: Logger = {
    debug: (obj, msg) => seen.push(['debug', obj, msg]),
    info: (obj, msg) => seen.push(['info', obj, msg]),
    warn: (obj, msg) => seen.push(['warn', obj, msg]),
    error: (obj, msg) => seen.push(['error', obj, msg]),
    child: () => plain,
  }
  lazyChild(plain, { requestId: 'r-3' }).debug({ x: 1 }, 'kept')
  assert.deepEqual(seen, [['debug', { x: 1 }, 'kept']])
})

function sink(isTTY: boolean): { stream: NodeJS.WritableStream & { isTTY: boolean }; text: () => string } {
  const out: string[] = []
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk.toString())
        done()
      },
    }),
    { isTTY },
  )
  return { stream, text: () => out.join('') }
}

test('on a terminal, log lines are human-readable; piped, they are JSON; WXMP_LOG_FORMAT decides when set', () => {
  const tty = sink(true)
  createLogger({ level: 'info', destination: tty.stream }).warn({ code: 'WX_ERR_X', remote: '1.2.3.4' }, 'something happened')
  assert.match(tty.text(), /WARN.*something happened/)
  assert.ok(!tty.text().trimStart().startsWith('{'), tty.text())
  assert.doesNotMatch(tty.text(), /"level":/)

  const pipe = sink(false)
  createLogger({ level: 'info', destination: pipe.stream }).warn({ code: 'WX_ERR_X' }, 'something happened')
  assert.equal((JSON.parse(pipe.text()) as { msg: string }).msg, 'something happened')

  const asked = sink(true)
  createLogger({ level: 'info', format: 'json', destination: asked.stream }).info({ token: 'secret' }, 'json on a terminal')
  const line = JSON.parse(asked.text()) as { msg: string; token: string }
  assert.equal(line.msg, 'json on a terminal')
  assert.equal(line.token, '[redacted]')

  const pretty = sink(false)
  createLogger({ level: 'info', format: 'pretty', destination: pretty.stream }).info({ appSecret: 'hunter2' }, 'pretty into a pipe')
  assert.match(pretty.text(), /INFO.*pretty into a pipe/)
  assert.doesNotMatch(pretty.text(), /hunter2/, 'secrets are redacted in pretty mode too')
})
