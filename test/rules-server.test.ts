/**
 * Replies without code through the real server and the simulator: rules added with the CLI
 * (in-process, on the server's own database) answer WeChat's deliveries as a user would see
 * them — follow, keywords (exact, contains, regex), menu click, default, time window, priority —
 * in both orders relative to the code handlers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runRulesCommand } from '../src/cli/commands/rules.js'
import { loadConfig, type WxmpConfig } from '../src/server/config.js'
import { startServer, type WxmpServer } from '../src/server/app.js'
import { buildSimulatedMessage, simulate } from '../src/testing/simulator.js'
import { sampleXml } from '../src/testing/samples.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const token = 'rulesservertoken'
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function config(extra: Record<string, string> = {}): WxmpConfig {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-rules-server-'))
  dirs.push(dir)
  return loadConfig({ WECHAT_TOKEN: token, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_RULES_POLL_MS: '100', ...extra }, { cwd: dir, dotenv: false })
}

let users = 0
/** What the user sees for one message sent through the simulator. */
async function saw(server: WxmpServer, kind: string, ...args: string[]): Promise<string> {
  const message = buildSimulatedMessage(kind, args, { openid: `oRulesE2e${++users}` })
  const result = await simulate({ url: server.http.url, token, xml: message.xml })
  return result.userSaw
}

async function cli(server: WxmpServer, cfg: WxmpConfig, ...argv: string[]): Promise<void> {
  const before = server.rules!.live.current.version
  await runRulesCommand(argv, { config: cfg, print: () => undefined })
  // wait for the server to pick the change up (it polls the version)
  while (server.rules!.live.current.version === before) await server.rules!.live.refresh()
}

/** HH:MM in Shanghai, `minutes` from now. */
function shanghai(minutes: number): string {
  const local = new Date(Date.now() + 8 * 3600_000 + minutes * 60_000)
  return `${String(local.getUTCHours()).padStart(2, '0')}:${String(local.getUTCMinutes()).padStart(2, '0')}`
}

describe('rules-first (the default of wxmp serve)', () => {
  let server: WxmpServer
  let cfg: WxmpConfig
  before(async () => {
    cfg = config()
    server = await startServer({
      config: cfg,
      logger: quiet,
      setup: (bot) => {
        bot.hears(/^code/, (ctx) => ctx.reply(`code handled ${ctx.text}`))
      },
    })
  })
  after(() => server.close())

  test('follow, keywords exact / contains / regex, menu click, default', async () => {
    assert.equal(server.rules?.live.current.size, 0)
    await cli(server, cfg, 'add', '--id', 'welcome', '--follow', '--text', '欢迎关注！')
    await cli(server, cfg, 'add', '--id', 'welcome-promo', '--follow', '--scene', 'promo', '--text', '欢迎，活动码 {scene}')
    await cli(server, cfg, 'add', '--id', 'hours', '--exact', '营业时间', '--text', '每天 9:00–21:00')
    await cli(server, cfg, 'add', '--id', 'price', '--contains', '价格', '--contains', '多少钱', '--text', '价格表见菜单')
    await cli(server, cfg, 'add', '--id', 'order', '--regex', '^订单\\s*(\\d{6,20})$', '--text', '正在查询 {match}')
    await cli(server, cfg, 'add', '--id', 'menu', '--click', 'V1001_TODAY', '--news-title', '今日推荐', '--news-url', 'https://example.com/today')
    await cli(server, cfg, 'add', '--id', 'fallback', '--default', '--text', '收到：{text}')
    assert.equal(await saw(server, 'event', 'subscribe'), '欢迎关注！')
    assert.equal(await saw(server, 'event', 'subscribe', 'promo'), '欢迎，活动码 promo')
    assert.equal(await saw(server, 'text', '营业时间'), '每天 9:00–21:00')
    assert.equal(await saw(server, 'text', '营业时间呢'), '收到：营业时间呢', 'exact means the whole message')
    assert.equal(await saw(server, 'text', '这个多少钱？'), '价格表见菜单')
    assert.equal(await saw(server, 'text', '订单 2026030212'), '正在查询 订单 2026030212')
    assert.match(await saw(server, 'click', 'V1001_TODAY'), /今日推荐/)
    assert.equal(await saw(server, 'text', 'code 42'), 'code handled code 42', 'no rule: the code handlers answer')
    assert.equal(await saw(server, 'text', '随便说说'), '收到：随便说说', 'nothing answered: the default rule')
    assert.equal(await saw(server, 'image'), '收到：', 'the default answers any message type')
  })

  test('priority decides between matching rules; a time window switches a rule off outside its hours', async () => {
    await cli(server, cfg, 'add', '--id', 'agent-low', '--contains', '人工', '--text', '留言，我们稍后联系', '--priority', '1000')
    await cli(server, cfg, 'add', '--id', 'agent-high', '--contains', '人工客服', '--text', '正在转接人工客服', '--priority', '2000')
    assert.equal(await saw(server, 'text', '我要人工客服'), '正在转接人工客服')
    // open now (±2 h, across midnight if need be) vs. an hour that is not now
    await cli(server, cfg, 'add', '--id', 'open-now', '--contains', '值班', '--text', '值班中', '--hours', `${shanghai(-120)}-${shanghai(120)}`, '--priority', '3001')
    await cli(server, cfg, 'add', '--id', 'closed-now', '--contains', '值班', '--text', '这条不该出现', '--hours', `${shanghai(180)}-${shanghai(240)}`, '--priority', '3002')
    assert.equal(await saw(server, 'text', '谁在值班'), '值班中')
    await cli(server, cfg, 'disable', 'open-now')
    assert.equal(await saw(server, 'text', '谁在值班'), '收到：谁在值班')
  })
})

describe('code-first (WXMP_RULES=code-first)', () => {
  let server: WxmpServer
  let cfg: WxmpConfig
  before(async () => {
    cfg = config({ WXMP_RULES: 'code-first' })
    server = await startServer({
      config: cfg,
      logger: quiet,
      setup: (bot) => {
        bot.hears(/价格/, (ctx) => ctx.reply('code: 今日特价'))
      },
    })
  })
  after(() => server.close())

  test('the code answers first; rules answer what it leaves', async () => {
    await cli(server, cfg, 'add', '--contains', '价格', '--text', 'rule: 价格表')
    await cli(server, cfg, 'add', '--contains', '地址', '--text', 'rule: 北京市')
    assert.equal(await saw(server, 'text', '价格'), 'code: 今日特价')
    assert.equal(await saw(server, 'text', '地址'), 'rule: 北京市')
  })
})

test('WXMP_RULES=off installs no rules; WXMP_RULES_FILE is imported at start', async () => {
  const off = await startServer({ config: config({ WXMP_RULES: 'off' }), logger: quiet, setup: () => undefined })
  assert.equal(off.rules, undefined)
  await off.close()
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-rules-file-'))
  dirs.push(dir)
  const file = join(dir, 'rules.yaml')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(file, 'wxmpRules: 1\nrules:\n  - id: hi\n    trigger: { type: keyword, exact: [hi] }\n    reply: { type: text, content: hello from the file }\n')
  const server = await startServer({ config: config({ WXMP_RULES_FILE: file }), logger: quiet, setup: () => undefined })
  try {
    const result = await simulate({ url: server.http.url, token, xml: sampleXml('text', { Content: 'hi' }) })
    assert.equal(result.userSaw, 'hello from the file')
  } finally {
    await server.close()
  }
  await assert.rejects(
    startServer({ config: config({ WXMP_RULES_FILE: join(dir, 'missing.json') }), logger: quiet }),
    /missing\.json: no such file/,
    'a rules file that cannot be read stops the start',
  )
})
