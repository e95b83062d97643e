/**
 * The console's browser-test fixture: the real server (SQLite in a temp folder) with the
 * console on, the fake WeChat API behind it, an operator `alice`, and Debian's Chromium
 * driven by playwright-core (Playwright's own browser download is not used).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { hashPassword } from '../../src/console/password.js'
import { startServer, type WxmpServer } from '../../src/server/app.js'
import { loadConfig } from '../../src/server/config.js'
import { startFakeWechat, type FakeWechat } from '../../src/testing/fake-wechat/index.js'
import { sampleXml, type SampleKind } from '../../src/testing/samples.js'
import { simulate } from '../../src/testing/simulator.js'

export const CHROMIUM = process.env.WXMP_CHROMIUM ?? '/usr/bin/chromium'
export const TOKEN = 'consoletoken'
export const OPERATOR = { user: 'alice', password: 'correct horse battery' }
export const DESKTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }

const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {}, child: () => quiet, level: 'silent' }

export interface ConsoleFixture {
  fake: FakeWechat
  server: WxmpServer
  browser: Browser
  /** e.g. http://127.0.0.1:41234/console/ */
  consoleUrl: string
  webhookUrl: string
  dir: string
  close(): Promise<void>
}

export async function startConsoleFixture(env: Record<string, string> = {}): Promise<ConsoleFixture> {
  const fake = await startFakeWechat()
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-console-'))
  // a cheap hash (2^12): the format and the check are the production ones
  const hash = await hashPassword(OPERATOR.password, { log2N: 12, r: 8, p: 1 })
  const config = loadConfig(
    {
      WECHAT_TOKEN: TOKEN,
      WECHAT_APPID: fake.appId,
      WECHAT_APPSECRET: fake.appSecret,
      WECHAT_API_BASE: fake.url,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
      WXMP_CONSOLE_USERS: `${OPERATOR.user}:${hash}, bob:${hash}`,
      ...env,
    },
    { cwd: dir, dotenv: false },
  )
  const server = await startServer({ config, logger: quiet as never })
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  return {
    fake,
    server,
    browser,
    consoleUrl: server.console!.url,
    webhookUrl: server.http.url,
    dir,
    async close() {
      await browser.close().catch(() => undefined)
      await server.close({ drainMs: 2000 })
      await fake.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Signs in through the form, as an operator would, and waits for the inbox. */
export async function signIn(page: Page, fixture: ConsoleFixture, path = ''): Promise<void> {
  await page.goto(fixture.consoleUrl + path)
  await page.fill('#login-user', OPERATOR.user)
  await page.fill('#login-password', OPERATOR.password)
  await page.click('form.login-card button[type=submit]')
  await page.waitForSelector('header.topbar')
}

/** A follower's message delivered the way WeChat delivers it (signed, 5 s budget, retries). */
export async function deliver(fixture: ConsoleFixture, kind: SampleKind, fields: Record<string, string>, openid: string) {
  return simulate({ url: fixture.webhookUrl, token: TOKEN, xml: sampleXml(kind, fields, { openid }) })
}

/**
 * Saves a screenshot: into docs/console/ when WXMP_SCREENSHOTS=docs (npm run console:screenshots),
 * else into a temp folder (every test run still takes them, so a broken page still fails).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = process.env.WXMP_SCREENSHOTS === 'docs' ? new URL('../../docs/console/', import.meta.url).pathname : join(tmpdir(), 'wxmp-console-screens')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  return file
}
