/**
 * "Switching to developer mode without losing its replies", end to end: the fake WeChat holds
 * an account's console settings; `wxmp rules import --dry-run`, then `wxmp rules import`, then
 * `wxmp menu push`; then every console keyword, the follow, an unmatched message and every
 * menu button go through the real server with the simulator, and each answer is compared with
 * what the console settings say the user should get. The expected answers are read from the
 * console settings themselves, not from the converted rules.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runMenuCommand } from '../src/cli/commands/api.js'
import { runRulesCommand } from '../src/cli/commands/rules.js'
import { loadConfig, type WxmpConfig } from '../src/server/config.js'
import { startServer, type WxmpServer } from '../src/server/app.js'
import { consoleSettings, permanentMaterial, type ConsoleButton, type ConsoleReply } from '../src/testing/fake-wechat/handlers/console.js'
import { startFakeWechat, type FakeWechat } from '../src/testing/fake-wechat/index.js'
import { buildSimulatedMessage, simulate } from '../src/testing/simulator.js'

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const token = 'consoleimporttoken'
let fake: FakeWechat
let server: WxmpServer
let cfg: WxmpConfig
let dir: string

before(async () => {
  fake = await startFakeWechat()
  dir = mkdtempSync(join(tmpdir(), 'wxmp-rules-console-'))
  cfg = loadConfig(
    { WECHAT_TOKEN: token, WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`, WXMP_RULES_POLL_MS: '100' },
    { cwd: dir, dotenv: false },
  )
  // rules only, like `wxmp serve --no-echo`
  server = await startServer({ config: cfg, logger: quiet, setup: () => undefined })
})
after(async () => {
  await server.close()
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

async function cli(run: (print: (l: string) => void) => Promise<number>): Promise<string> {
  const lines: string[] = []
  assert.equal(await run((l) => lines.push(l)), 0)
  return lines.join('\n')
}

let users = 0
/** Sends a message as a new user; returns what the user saw passively and then through customer service. */
async function send(kind: string, ...args: string[]): Promise<{ passive: string; later: string[]; openid: string }> {
  const openid = `oConsole${String(++users).padStart(4, '0')}`
  const result = await simulate({ url: server.http.url, token, xml: buildSimulatedMessage(kind, args, { openid }).xml })
  await server.bot.drain(5000)
  const later = fake.sent.filter((s) => s.kind === 'customer-service' && s.touser === openid).map((s) => seen(s.msgtype, s.body))
  return { passive: result.userSaw, later, openid }
}

function seen(msgtype: string, body: Record<string, unknown>): string {
  const part = body[msgtype] as Record<string, unknown>
  if (msgtype === 'text') return String(part.content)
  if (msgtype === 'news') return `[news "${String((part.articles as Array<{ title: string }>)[0]?.title)}"]`
  return `[${msgtype} ${String(part.media_id)}]`
}

/** What the console would have shown for a reply; media by their bytes. */
function expected(reply: ConsoleReply): string | { media: 'image' | 'voice'; data: Buffer } {
  switch (reply.type) {
    case 'text':
      return reply.content
    case 'img':
      return { media: 'image', data: reply.file.data }
    case 'voice':
      return { media: 'voice', data: reply.file.data }
    case 'news':
      return `[news "${reply.articles[0]!.title}"`
    case 'video':
      return 'video'
  }
}

/** Checks one thing the user saw against the console's reply. */
function same(actual: string, want: ReturnType<typeof expected>, what: string): void {
  if (typeof want !== 'string') {
    const m = /^\[(image|voice) (\S+)\]$/.exec(actual)
    assert.ok(m, `${what}: expected ${want.media}, saw ${actual}`)
    assert.equal(m[1], want.media, what)
    assert.deepEqual(permanentMaterial(fake.state).get(m[2]!)?.data, want.data, `${what}: the same file, kept as permanent material`)
  } else if (want.startsWith('[news')) assert.ok(actual.startsWith(want), `${what}: ${actual}`)
  else assert.equal(actual, want, what)
}

test('rules import --dry-run, import, menu push: the console behaviour, message for message', async () => {
  const settings = consoleSettings(fake.state)
  const menuFile = join(dir, 'console-menu.json')

  const dry = await cli((print) => runRulesCommand(['import', '--dry-run'], { config: cfg, print }))
  assert.match(dry, /console settings → \d+ rules \(3 media files to copy to permanent material\)/)
  assert.match(dry, /not converted \(3\):\n {2}- menu button 「服务 \/ 视频介绍」: WeChat returns a console video as a download link/)
  assert.match(dry, /\(dry run: nothing stored, no media copied, no menu written\)/)
  assert.equal((await server.rules!.store.list()).length, 0)

  const real = await cli((print) => runRulesCommand(['import', '--menu-file', menuFile], { config: cfg, print }))
  assert.match(real, /rules: \d+ created, 0 updated/)
  assert.match(real, /menu: written to .*console-menu\.json; publish it once developer mode is on: wxmp menu push/)
  assert.match(await cli((print) => runMenuCommand(['push', menuFile], { config: cfg, print })), /menu published/)
  await server.rules!.live.refresh()
  const again = await cli((print) => runRulesCommand(['import', '--menu-file', menuFile], { config: cfg, print }))
  assert.match(again, /rules: 0 created, 0 updated, \d+ unchanged/, 'the import is idempotent')

  // the follow reply (console text with braces kept literally)
  assert.equal((await send('event', 'subscribe')).passive, settings.addFriend!.type === 'text' ? settings.addFriend!.content : '')

  // every keyword of every console rule
  for (const rule of settings.keywordRules) {
    const wants = rule.replies.map(expected)
    for (const keyword of rule.keywords) {
      const message = keyword.match_mode === 'equal' ? keyword.content : `请问${keyword.content}呢`
      const what = `「${rule.rule_name}」 ${message}`
      const got = await send('text', message)
      if (wants.every((w) => w === 'video')) {
        // listed as not converted: the message gets what an unmatched one gets
        assert.equal(got.passive, (settings.messageDefault as { content: string }).content, what)
        continue
      }
      if (rule.reply_mode === 'reply_all') {
        same(got.passive, wants[0]!, `${what} (first, passive)`)
        assert.equal(got.later.length, wants.length - 1, `${what}: the other replies through customer service`)
        got.later.forEach((later, i) => same(later, wants[i + 1]!, `${what} (reply ${i + 2})`))
      } else {
        const matches = wants.filter((w) => {
          try {
            same(got.passive, w, what)
            return true
          } catch {
            return false
          }
        })
        assert.equal(matches.length >= 1, true, `${what}: ${got.passive} is one of the console's replies`)
        assert.deepEqual(got.later, [])
      }
    }
  }

  // the default reply, once per user per hour as in the console
  const unmatched = await send('text', '没有任何关键词的一句话')
  assert.equal(unmatched.passive, (settings.messageDefault as { content: string }).content)
  const secondTime = await simulate({ url: server.http.url, token, xml: buildSimulatedMessage('text', ['再说一句'], { openid: unmatched.openid }).xml })
  assert.equal(secondTime.final.kind, 'no-reply')

  // every menu button: the published menu has the console's layout; message buttons answer as before
  const published = JSON.parse(readFileSync(menuFile, 'utf8')) as { button: Array<{ name: string; type?: string; key?: string; url?: string; sub_button?: Array<{ name: string; type?: string; key?: string; url?: string }> }> }
  assert.deepEqual(fake.state.defaultMenu?.button, published.button)
  const flat = (buttons: ConsoleButton[], pub: typeof published.button) =>
    buttons.flatMap((b, i): Array<[ConsoleButton, (typeof published.button)[number]]> => ('sub_button' in b ? b.sub_button.map((s, j) => [s, pub[i]!.sub_button![j]!]) : [[b, pub[i]!]]))
  for (const [button, pub] of flat(settings.menu!, published.button)) {
    assert.equal(pub.name, button.name)
    if (!('type' in button) || button.type === 'view' || button.type === 'miniprogram') {
      assert.equal(pub.type, (button as { type: string }).type)
      assert.equal(pub.url, (button as { url: string }).url)
      continue
    }
    assert.equal(pub.type, 'click', `${button.name} became a click button`)
    const got = await send('click', pub.key!)
    const want = expected(button as ConsoleReply)
    if (want === 'video') assert.equal(got.passive, '(no reply)', `${button.name}: listed as not converted, nothing answers yet`)
    else same(got.passive, want, `menu ${button.name}`)
  }
})
