import { describe, test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Bot } from '../../bot.js'
import { serve, type RunningServer } from '../../adapters/node.js'
import { loadConfig, type WxmpConfig } from '../../server/config.js'
import { startServer } from '../../server/app.js'
import { lateOptions } from '../../pipeline/late-options.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { ERROR_BANNER } from '../../testing/simulator.js'
import { runSimulateCommand, SIMULATE_USAGE } from './simulate.js'

const token = 'clitoken'
const encodingAESKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx2c2769f8efd9abc2'

let server: RunningServer
let config: WxmpConfig

/** Runs the command and returns its exit code and printed lines. */
async function run(argv: string[], cfg: WxmpConfig = config): Promise<{ code: number; lines: string[]; out: string }> {
  const lines: string[] = []
  const code = await runSimulateCommand(argv, cfg, (line) => lines.push(line))
  return { code, lines, out: lines.join('\n') }
}

before(async () => {
  const bot = new Bot({ token, encodingAESKey, appId })
  bot.on('text', (ctx) => ctx.reply(ctx.message.Content))
  bot.on('location', (ctx) => ctx.reply(`${ctx.message.Location_X},${ctx.message.Location_Y} ${ctx.message.Label ?? ''}`.trim()))
  bot.on('event:subscribe', (ctx) => ctx.reply(`welcome ${ctx.scene ?? 'no scene'}`))
  bot.on('event:CLICK', (ctx) => ctx.reply(`clicked ${ctx.message.EventKey}`))
  server = await serve(bot, { port: 0, host: '127.0.0.1', path: '/wx' })
  // what `npx wxmp simulate` reads from the environment (or ./data/dev-token) on the server's machine
  config = { ...loadConfig({ WECHAT_TOKEN: token, WECHAT_PATH: '/wx' }, { dotenv: false }), port: server.port }
})
after(async () => {
  server.server.closeAllConnections()
  await server.close()
})

describe('wxmp simulate: messages against a running server', () => {
  test('text: the request line, the attempt, the reply and the latency; exit 0', async () => {
    const { code, lines } = await run(['text', '你好'])
    assert.equal(code, 0)
    assert.equal(lines[0], `→ POST http://127.0.0.1:${server.port}/wx  text "你好"  (plaintext 明文)`)
    assert.match(lines[1] ?? '', /^ {2}attempt 1\/3: HTTP 200 reply in \d+ ms$/)
    assert.equal(lines[2], '← text: 你好')
    assert.equal(lines[3], '  user saw: 你好')
    assert.match(lines[4] ?? '', /^ {2}total \d+ ms in 1 attempt$/)
  })

  test('the URL defaults to 127.0.0.1, the configured port and path, and the Token to the configured one', async () => {
    const { code, out } = await run(['click', 'V1001'])
    assert.equal(code, 0)
    assert.match(out, new RegExp(`POST http://127\\.0\\.0\\.1:${server.port}/wx  event CLICK V1001`))
    assert.match(out, /← text: clicked V1001/)
  })

  test('event subscribe with a scene reaches ctx.scene', async () => {
    const { code, out } = await run(['event', 'subscribe', '42', '--openid', 'oCliSub'])
    assert.equal(code, 0)
    assert.match(out, /← text: welcome 42/)
  })

  test('a message the bot does not answer: "(no reply)", exit 0', async () => {
    const { code, out } = await run(['image'])
    assert.equal(code, 0)
    assert.match(out, /← success \(no reply\)/)
    assert.match(out, /user saw: \(no reply\)/)
  })

  test('negative coordinates are numbers, not options', async () => {
    const { code, out } = await run(['location', '-33.8688', '151.2093', 'Sydney'])
    assert.equal(code, 0)
    assert.match(out, /← text: -33\.8688,151\.2093 Sydney/)
  })

  test('safe mode with --aes-key and --appid: the reply comes back encrypted and verified', async () => {
    const { code, out } = await run(['text', 'secret', '--mode', 'safe', '--aes-key', encodingAESKey, '--appid', appId])
    assert.equal(code, 0)
    assert.match(out, /\(safe 安全模式\)/)
    assert.match(out, /← text \(encrypted, MsgSignature verified\): secret/)
  })

  test('compat mode takes the key and AppID from the configuration', async () => {
    const { code, out } = await run(['text', 'c', '--mode', 'compat'], { ...config, encodingAESKey, appId })
    assert.equal(code, 0)
    assert.match(out, /← text.*: c$/m)
  })

  test('a server that refuses plaintext is simulated in safe mode by default', async () => {
    const { code, out } = await run(['text', 'auto'], { ...config, encodingAESKey, appId, requireEncryption: true })
    assert.equal(code, 0)
    assert.match(out, /\(safe 安全模式\)/)
  })

  test('--json prints the whole result and nothing else', async () => {
    const { code, lines } = await run(['text', 'j', '--json'])
    assert.equal(code, 0)
    assert.equal(lines.length, 1)
    const result = JSON.parse(lines[0] ?? '') as { final: { kind: string }; userSaw: string; attempts: unknown[] }
    assert.equal(result.final.kind, 'reply')
    assert.equal(result.userSaw, 'j')
    assert.equal(result.attempts.length, 1)
  })

  test('a wrong --token: the banner, a hint, exit 1', async () => {
    const { code, out } = await run(['text', 'x', '--token', 'nottheone'])
    assert.equal(code, 1)
    assert.match(out, /attempt 1\/3: HTTP 401 http-error/)
    assert.match(out, /hint: .*Token/)
    assert.match(out, new RegExp(`user saw: ${ERROR_BANNER}`))
  })
})

describe('wxmp simulate: servers that fail', () => {
  let hanging: Server
  let broken: Server
  let hangingUrl: string
  let brokenUrl: string
  before(async () => {
    hanging = createServer((req) => req.resume()) // never answers
    broken = createServer((req, res) => {
      req.resume()
      res.writeHead(500, { 'content-type': 'text/html' }).end('<html>oops</html>')
    })
    for (const s of [hanging, broken]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/wx`
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/wx`
  })
  after(async () => {
    for (const s of [hanging, broken]) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
  })

  test('no answer: every attempt is printed with "WeChat retries", then the banner; exit 1', async () => {
    const { code, lines, out } = await run(['text', 'slow', '--url', hangingUrl, '--timeout', '150'])
    assert.equal(code, 1)
    assert.match(lines[1] ?? '', /attempt 1\/3: timeout in \d+ ms \(no complete answer within 150 ms\), WeChat retries/)
    assert.match(lines[2] ?? '', /attempt 2\/3: timeout .*WeChat retries/)
    assert.match(lines[3] ?? '', /attempt 3\/3: timeout/)
    assert.doesNotMatch(lines[3] ?? '', /retries/)
    assert.match(out, /total \d+ ms in 3 attempts/)
    assert.match(out, new RegExp(`user saw: ${ERROR_BANNER}`))
  })

  test('--attempts 1 makes one attempt', async () => {
    const { code, out } = await run(['text', 'slow', '--url', hangingUrl, '--timeout', '100', '--attempts', '1'])
    assert.equal(code, 1)
    assert.match(out, /in 1 attempt$/m)
  })

  test('HTTP 500: the banner at once, exit 1', async () => {
    const { code, out } = await run(['text', 'x', '--url', brokenUrl])
    assert.equal(code, 1)
    assert.match(out, /attempt 1\/3: HTTP 500 http-error/)
    assert.doesNotMatch(out, /attempt 2/)
  })
})

describe('wxmp simulate verify: the console URL check', () => {
  test('passes with the right Token: exit 0', async () => {
    const { code, lines } = await run(['verify', '--echostr', '123456'])
    assert.equal(code, 0)
    assert.equal(lines[0], `→ GET http://127.0.0.1:${server.port}/wx  (URL check, echostr 123456)`)
    assert.match(lines[1] ?? '', /HTTP 200 in \d+ ms, body "123456"/)
    assert.equal(lines[2], '✓ Token验证成功: the server echoed echostr')
  })

  test('fails with a wrong Token: exit 1', async () => {
    const { code, out } = await run(['verify', '--token', 'wrong'])
    assert.equal(code, 1)
    assert.match(out, /✗ Token验证失败: HTTP 401/)
  })

  test('--json prints the verify result', async () => {
    const { code, lines } = await run(['verify', '--json'])
    assert.equal(code, 0)
    assert.equal((JSON.parse(lines[0] ?? '') as { ok: boolean }).ok, true)
  })
})

describe('wxmp simulate: usage errors exit 2 and say what is wrong', () => {
  const cases: Array<[string, string[], RegExp, Partial<WxmpConfig>?]> = [
    ['no kind', [], /say what to send.*kinds: text <message>.*verify/],
    ['an unknown kind', ['sticker'], /unknown kind "sticker"; kinds: text <message>, image/],
    ['text without words', ['text'], /text needs the message/],
    ['a latitude that is not a number', ['location', 'north', '113'], /latitude "north" is not a number/],
    ['a longitude out of range', ['location', '23', '200'], /outside -180…180/],
    ['an unknown event', ['event', 'nope'], /unknown event "nope"/],
    ['a bad --timeout', ['text', 'x', '--timeout', '5s'], /--timeout "5s" must be a whole number/],
    ['a zero --timeout', ['text', 'x', '--timeout', '0'], /--timeout "0" must be a whole number from 1/],
    ['a bad --attempts', ['text', 'x', '--attempts', '11'], /--attempts "11"/],
    ['a bad --mode', ['text', 'x', '--mode', 'aes'], /--mode "aes" must be plain, compat or safe/],
    ['safe mode without a key', ['text', 'x', '--mode', 'safe'], /--aes-key/],
    ['safe mode without an AppID', ['text', 'x', '--mode', 'safe', '--aes-key', encodingAESKey], /--appid/],
    ['a malformed --aes-key', ['text', 'x', '--mode', 'safe', '--aes-key', 'short', '--appid', appId], /43/],
    ['an unknown option', ['text', 'x', '--verbose'], /Unknown option '--verbose'/],
    ['an option without its value', ['text', 'x', '--url'], /--url/],
    ['a --url that is not http', ['text', 'x', '--url', 'ftp://host/wx'], /http:\/\/ or https:\/\//],
    ['verify with arguments', ['verify', 'extra'], /verify takes no arguments/],
    ['verify with --wait', ['verify', '--wait', '5', '--late-from', 'http://127.0.0.1:8081'], /verify sends no message/],
    ['--wait without a fake to read from', ['text', 'x', '--wait', '5'], /--wait needs a fake WeChat server.*--late-from/],
    ['a --wait that is not seconds', ['text', 'x', '--late-from', 'http://127.0.0.1:8081', '--wait', '5s'], /--wait "5s" must be a number of seconds from 0 to 600/],
    ['a --wait too long', ['text', 'x', '--late-from', 'http://127.0.0.1:8081', '--wait', '601'], /--wait "601"/],
    ['a --late-from that is not a URL', ['text', 'x', '--late-from', '127.0.0.1:8081'], /--late-from "127\.0\.0\.1:8081" must be the fake WeChat server's URL/],
  ]
  for (const [name, argv, message, cfg] of cases) {
    test(`${name}`, async () => {
      const { code, lines } = await run(argv, { ...config, ...cfg })
      assert.equal(code, 2)
      assert.match(lines[0] ?? '', /^wxmp simulate: /)
      assert.match(lines[0] ?? '', message)
      assert.match(lines[1] ?? '', /--help/)
    })
  }

  test('--help and help print the usage with every kind and option, exit 0', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const { code, out } = await run(argv)
      assert.equal(code, 0)
      assert.equal(out, SIMULATE_USAGE)
    }
    for (const word of ['text <message>', 'location <lat> <lon>', 'click <EventKey>', 'event subscribe [scene]', 'xml <file>', 'verify', '--url', '--token', '--mode', '--aes-key', '--appid', '--openid', '--original-id', '--account', '--timeout', '--json', '--late-from', '--wait', '--interim']) {
      assert.ok(SIMULATE_USAGE.includes(word), word)
    }
  })
})

describe('wxmp simulate: the late answer, when the server talks to the fake WeChat server', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
  let fake: FakeWechat
  let lateConfig: WxmpConfig
  let closeServer: () => Promise<void>

  let passed: () => void = () => {}
  let deadlineAnswered = false
  before(async () => {
    fake = await startFakeWechat()
    // the server and `wxmp simulate` read the same environment, as on a developer's machine
    const env = { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, WECHAT_REPLY_TIMEOUT_MS: '300', WECHAT_TYPING_AFTER_MS: '0', PORT: '0', HOST: '127.0.0.1', WECHAT_PATH: '/late', DATABASE_URL: 'memory:', WXMP_MESSAGE_LOG: '0' }
    const serverConfig = loadConfig({ ...env }, { dotenv: false })
    const running = await startServer({
      config: serverConfig,
      logger: quiet,
      setup: (bot) => {
        // the handler answers once the server's deadline answer has gone out: late by construction, not by a guessed delay
        bot.onOutcome((outcome) => {
          if (outcome.kind === 'deadline') deadlineAnswered = true
        })
        const slowAnswer = async (ctx: { text?: string; reply(text: string): unknown }) => {
          await new Promise<void>((resolve) => (passed = resolve))
          await ctx.reply(`answer: ${ctx.text ?? ''}`)
        }
        // messages starting with "why" get an interim (as WECHAT_INTERIM would give every message)
        bot.hears(/^why/, lateOptions({ interim: '正在思考…' }), slowAnswer)
        bot.on('text', slowAnswer)
        // a click has no route here: the server says success at once and sends nothing later
      },
    })
    // answers are written at the end of the event-loop turn: the handler goes on once the socket has its answer
    running.http.server.on('request', (_req, res: ServerResponse) =>
      res.once('finish', () => {
        if (!deadlineAnswered) return
        deadlineAnswered = false
        passed()
      }),
    )
    closeServer = () => running.close({ drainMs: 1000 })
    lateConfig = { ...serverConfig, port: running.http.port }
  })
  after(async () => {
    await closeServer()
    await fake.close()
  })

  const runLate = (argv: string[], cfg: WxmpConfig = lateConfig) => run(argv, cfg)

  test('WECHAT_API_BASE on loopback: success, then the wait, then the customer-service answer as it arrives', async () => {
    const { code, lines } = await runLate(['text', '你好', '--openid', 'oCliLate0001', '--timeout', '1000', '--wait', '10'])
    assert.equal(code, 0)
    assert.match(lines[1] ?? '', /^ {2}attempt 1\/3: HTTP 200 no-reply in \d+ ms$/)
    assert.equal(lines[2], '← success (no reply)')
    assert.equal(lines[3], `  waiting up to 10 s for the late answer (customer-service messages recorded by ${fake.url})`)
    assert.match(lines[4] ?? '', /^ {2}⇢ customer service text \(\d+\.\d s\): answer: 你好$/)
    assert.match(lines[5] ?? '', /^ {2}user saw: \(customer service, \d+\.\d s\): answer: 你好$/)
    assert.match(lines[6] ?? '', /^ {2}total \d+ ms in 1 attempt$/)
    assert.equal(lines.length, 7)
  })

  test('with the interim: the interim is the passive answer and the real one follows', async () => {
    const { code, lines, out } = await runLate(['text', 'why', '--openid', 'oCliLate0002', '--timeout', '1000', '--wait', '10'], { ...lateConfig, interim: '正在思考…' })
    assert.equal(code, 0)
    assert.equal(lines[2], '← text: 正在思考…')
    assert.match(out, /⇢ customer service text \(\d+\.\d s\): answer: why/)
    assert.match(out, /user saw: 正在思考… then \(customer service, \d+\.\d s\): answer: why/)
  })

  test('--interim names the interim when the configuration does not', async () => {
    const { out } = await runLate(['text', 'why not', '--openid', 'oCliLate0003', '--timeout', '1000', '--wait', '10', '--interim', '正在思考…'])
    assert.match(out, /waiting up to 10 s/)
    assert.match(out, /user saw: 正在思考… then \(customer service, \d+\.\d s\): answer: why not/)
  })

  test('an interim set in code (lateOptions), unknown to the simulator: the server says the answer follows, so it is waited for', async () => {
    const { out } = await runLate(['text', 'why so', '--openid', 'oCliLate0009', '--timeout', '1000', '--wait', '10'])
    assert.match(out, /← text: 正在思考…/)
    assert.match(out, /waiting up to 10 s/)
    assert.match(out, /user saw: 正在思考… then \(customer service, \d+\.\d s\): answer: why so/)
  })

  test('nothing comes later: the wait ends and says so', async () => {
    const { code, out } = await runLate(['click', 'SILENT', '--openid', 'oCliLate0004', '--timeout', '1000', '--wait', '0.3'])
    assert.equal(code, 0)
    assert.match(out, /waiting up to 0\.3 s/)
    assert.match(out, /^ {2}no customer-service message within 0\.3 s$/m)
    assert.match(out, /user saw: \(no reply\)/)
  })

  test('--late-from off: no wait, no late lines', async () => {
    const { out } = await runLate(['text', 'off', '--openid', 'oCliLate0005', '--timeout', '1000', '--late-from', 'off'])
    assert.doesNotMatch(out, /waiting up to|⇢/)
    assert.match(out, /user saw: \(no reply\)/)
  })

  test('--late-from unreachable: a warning, exit 0, the passive outcome kept', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const { code, out } = await runLate(['text', 'x', '--openid', 'oCliLate0006', '--timeout', '1000', '--late-from', `http://127.0.0.1:${port}`, '--wait', '10'])
    assert.equal(code, 0)
    assert.match(out, new RegExp(`warning: cannot read http://127\\.0\\.0\\.1:${port}/__fake/sent \\(ECONNREFUSED\\).*not shown`))
    assert.doesNotMatch(out, /no customer-service message within/)
    assert.match(out, /user saw: \(no reply\)/)
  })

  test('--json carries the late messages', async () => {
    const { code, lines } = await runLate(['text', 'j', '--openid', 'oCliLate0007', '--timeout', '1000', '--wait', '10', '--json'])
    assert.equal(code, 0)
    assert.equal(lines.length, 1)
    const result = JSON.parse(lines[0] ?? '') as { late: Array<{ kind: string; text: string }>; userSaw: string }
    assert.deepEqual(result.late.map((m) => `${m.kind}:${m.text}`), ['customer-service:answer: j'])
  })

  test('a WECHAT_API_BASE that is the real API turns late collection off by default', async () => {
    const { out } = await runLate(['text', 'real', '--openid', 'oCliLate0008', '--timeout', '1000'], { ...lateConfig, apiBase: 'https://api.weixin.qq.com' })
    assert.doesNotMatch(out, /waiting up to/)
  })
})

describe('wxmp simulate: an answer that waits for the next message (an account without customer service)', () => {
  const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
  let fake: FakeWechat
  let waitConfig: WxmpConfig
  let closeServer: () => Promise<void>
  before(async () => {
    fake = await startFakeWechat({ customerService: false })
    const env = { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, WECHAT_REPLY_TIMEOUT_MS: '300', WECHAT_LATE_REPLY: 'next-message', PORT: '0', HOST: '127.0.0.1', WECHAT_PATH: '/next', DATABASE_URL: 'memory:', WXMP_MESSAGE_LOG: '0' }
    const serverConfig = loadConfig({ ...env }, { dotenv: false })
    const running = await startServer({
      config: serverConfig,
      logger: quiet,
      setup: (bot) => {
        bot.on('text', async (ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 1200))
          await ctx.reply(`answer: ${ctx.text ?? ''}`)
        })
      },
    })
    closeServer = () => running.close({ drainMs: 2000 })
    waitConfig = { ...serverConfig, port: running.http.port }
  })
  after(async () => {
    await closeServer()
    await fake.close()
  })

  test('the notice, then "继续" written as the user would, until the answer comes; the transcript shows each exchange', async () => {
    const { code, lines, out } = await run(['text', 'slow question', '--openid', 'oCliNext0001'], waitConfig)
    assert.equal(code, 0)
    assert.equal(lines[2], '← text: 内容较长，回复任意文字获取结果')
    assert.equal(lines[3], '  the answer waits for the user\'s next message: writing "继续" as the user would')
    assert.match(out, /→ POST http:\/\/127\.0\.0\.1:\d+\/next {2}text "继续" \(follow-up 1\)/)
    assert.match(out, /← text: answer: slow question/)
    assert.match(out, /user saw: 内容较长，回复任意文字获取结果 then \(you: 继续\) .*answer: slow question$/m)
    assert.match(out, /total \d+ ms in 1 attempt, then \d follow-up messages?/)
  })

  test('--follow-up off stops at the notice; --follow-up names the word', async () => {
    const off = await run(['text', 'stop here', '--openid', 'oCliNext0002', '--follow-up', 'off'], waitConfig)
    assert.doesNotMatch(off.out, /follow-up/)
    assert.match(off.out, /user saw: 内容较长，回复任意文字获取结果$/m)
    const named = await run(['text', 'named', '--openid', 'oCliNext0003', '--follow-up', 'more'], waitConfig)
    assert.match(named.out, /text "more" \(follow-up 1\)/)
    assert.match(named.out, /answer: named/)
  })
})

describe('wxmp simulate finds the server the way the server configures itself', () => {
  test('PORT, HOST, WECHAT_PATH and WECHAT_TOKEN from a .env in the working directory (no flags)', async () => {
    const { spawn } = await import('node:child_process')
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dotenvToken = 'dotenvtoken42'
    const bot = new Bot({ token: dotenvToken })
    bot.on('text', (ctx) => ctx.reply(`dotenv ${ctx.text ?? ''}`))
    const running = await serve(bot, { port: 0, host: '127.0.0.1', path: '/from-dotenv' })
    const dir = mkdtempSync(join(tmpdir(), 'wxmp-simulate-dotenv-'))
    try {
      writeFileSync(join(dir, '.env'), `WECHAT_TOKEN=${dotenvToken}\nPORT=${running.port}\nHOST=127.0.0.1\nWECHAT_PATH=/from-dotenv\n`)
      const main = new URL('../main.ts', import.meta.url).href
      const env = { ...process.env }
      for (const name of ['WECHAT_TOKEN', 'PORT', 'HOST', 'WECHAT_PATH', 'WECHAT_API_BASE', 'WECHAT_APPID', 'WECHAT_APPSECRET']) delete env[name]
      const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '--eval', `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv.slice(1))`, 'simulate', 'text', 'hi'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      assert.equal(code, 0, out)
      assert.match(out, new RegExp(`POST http://127\\.0\\.0\\.1:${running.port}/from-dotenv {2}text "hi"`))
      assert.match(out, /← text: dotenv hi/)
    } finally {
      running.server.closeAllConnections()
      await running.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
