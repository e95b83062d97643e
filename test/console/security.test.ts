/**
 * The console's doors: no session, no answer; a change from another origin (a real page in
 * Chromium, and forged requests) is refused even with the operator's cookie; the CSRF token is
 * required; sign-in locks out after repeated failures; sign-out ends the session; strict CSP
 * and cookie attributes; and no secret ever reaches the browser.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deliver, DESKTOP, OPERATOR, PHONE, screenshot, signIn, startConsoleFixture, TOKEN, type ConsoleFixture } from './support.js'

// the callbacks given to page.evaluate/waitForFunction run in the page: these names are the
// page's globals (declared here, in this module only, so Node code elsewhere keeps no DOM types)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any, window: any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLImageElement = any
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HTMLFormElement = any

async function login(fixture: ConsoleFixture, user: string, password: string, headers: Record<string, string> = {}) {
  const origin = new URL(fixture.consoleUrl).origin
  return fetch(`${fixture.consoleUrl}api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin, ...headers }, body: JSON.stringify({ user, password }) })
}

async function session(fixture: ConsoleFixture) {
  const res = await login(fixture, OPERATOR.user, OPERATOR.password)
  assert.equal(res.status, 200)
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!
  const { csrf } = (await res.json()) as { csrf: string }
  return { cookie, csrf, origin: new URL(fixture.consoleUrl).origin }
}

describe('console security', () => {
  let fixture: ConsoleFixture
  let attacker: Server
  let attackerPort: number
  before(async () => {
    fixture = await startConsoleFixture()
    await deliver(fixture, 'text', { Content: 'hello' }, 'oVictim000001')
    const target = `${fixture.consoleUrl}api/conversations/oVictim000001/pause`
    // a page on another origin that tries to act with the operator's cookie
    attacker = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain"><input name='{"minutes":60,"x":"' value='"}'></form>
        <script>
          window.fetchResult = fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{"minutes":60}' })
            .then((r) => 'status ' + r.status, (e) => 'blocked ' + e.name)
        </script>`)
    })
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
    attackerPort = (attacker.address() as AddressInfo).port
  })
  after(async () => {
    await new Promise((resolve) => attacker?.close(resolve))
    await fixture?.close()
  })

  test('a request without a session is refused', async () => {
    const origin = new URL(fixture.consoleUrl).origin
    for (const [method, path] of [['GET', 'conversations'], ['GET', 'conversations/oVictim000001'], ['GET', 'live'], ['GET', 'audit'], ['POST', 'conversations/oVictim000001/text']] as const) {
      const res = await fetch(`${fixture.consoleUrl}api/${path}`, { method, headers: { origin, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"content":"x"}' } : {}) })
      assert.equal(res.status, 401, `${method} ${path}`)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'WX_ERR_CONSOLE_UNAUTHORIZED')
    }
    assert.equal(fixture.fake.sent.length, 0)
  })

  test('a CSRF attempt from another origin is refused, even with the operator signed in', async () => {
    const context = await fixture.browser.newContext({ viewport: DESKTOP })
    const page = await context.newPage()
    await signIn(page, fixture)
    for (const host of ['127.0.0.1', 'localhost']) {
      const evil = await context.newPage()
      await evil.goto(`http://${host}:${attackerPort}/`)
      assert.match(String(await evil.evaluate(() => (window as unknown as { fetchResult: Promise<string> }).fetchResult)), /^(blocked|status 40[13])/)
      await Promise.all([evil.waitForNavigation(), evil.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())])
      const body = (await evil.textContent('body')) ?? ''
      assert.match(body, /WX_ERR_CONSOLE_(FORBIDDEN|UNAUTHORIZED)/, `${host}: ${body}`)
      await evil.close()
    }
    assert.equal((await fixture.server.records.db.all('SELECT * FROM wxmp_console_paused')).length, 0)
    await context.close()
  })

  test('forged requests: a wrong Origin, a cross-site fetch, a missing CSRF token, a form body', async () => {
    const s = await session(fixture)
    const url = `${fixture.consoleUrl}api/conversations/oVictim000001/pause`
    const post = (headers: Record<string, string>, body = '{"minutes":5}') => fetch(url, { method: 'POST', headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers }, body })
    assert.equal((await post({ origin: 'http://evil.example', 'x-csrf-token': s.csrf })).status, 403)
    assert.equal((await post({ origin: s.origin, 'sec-fetch-site': 'cross-site', 'x-csrf-token': s.csrf })).status, 403)
    assert.equal((await post({ origin: s.origin })).status, 403)
    assert.equal((await post({ origin: s.origin, 'x-csrf-token': 'A'.repeat(32) })).status, 403)
    assert.equal((await post({ origin: s.origin, 'x-csrf-token': s.csrf, 'content-type': 'application/x-www-form-urlencoded' }, 'minutes=5')).status, 403)
    assert.equal((await fetch(`${fixture.consoleUrl}api/conversations`, { headers: { cookie: s.cookie, 'sec-fetch-site': 'cross-site' } })).status, 403)
    assert.equal((await fixture.server.records.db.all('SELECT * FROM wxmp_console_paused')).length, 0)
    // the same request from the console's own origin with its token works
    assert.equal((await post({ origin: s.origin, 'x-csrf-token': s.csrf })).status, 200)
    assert.equal((await fetch(url, { method: 'DELETE', headers: { cookie: s.cookie, origin: s.origin, 'x-csrf-token': s.csrf } })).status, 200)
  })

  test('sign-in locks out after five failures, even for the right password; wrong names look the same', async () => {
    const unknown = await login(fixture, 'nobody', 'wrong password')
    assert.equal(unknown.status, 401)
    for (let i = 0; i < 5; i++) assert.equal((await login(fixture, 'bob', 'wrong password')).status, 401)
    const locked = await login(fixture, 'bob', OPERATOR.password)
    assert.equal(locked.status, 429)
    assert.ok(Number(locked.headers.get('retry-after')) > 800)
    assert.equal(((await locked.json()) as { error: { code: string } }).error.code, 'WX_ERR_CONSOLE_LOCKED')
    // another operator is not locked out
    assert.equal((await login(fixture, OPERATOR.user, OPERATOR.password)).status, 200)
    const rows = await fixture.server.records.db.all<{ operator: string; ok: number }>("SELECT operator, ok FROM wxmp_console_audit WHERE action = 'sign-in' AND operator = 'bob'")
    assert.equal(rows.length, 6)
    assert.ok(rows.every((r) => Number(r.ok) === 0))
  })

  test('sign-out ends the session', async () => {
    const s = await session(fixture)
    const headers = { cookie: s.cookie, origin: s.origin, 'x-csrf-token': s.csrf }
    assert.equal((await fetch(`${fixture.consoleUrl}api/session`, { headers })).status, 200)
    const out = await fetch(`${fixture.consoleUrl}api/logout`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(out.status, 200)
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/)
    assert.equal((await fetch(`${fixture.consoleUrl}api/session`, { headers })).status, 401)
  })

  test('strict CSP, an HttpOnly SameSite=Strict cookie (Secure behind HTTPS), and no secret in anything the browser gets', async () => {
    const shell = await fetch(fixture.consoleUrl)
    const csp = shell.headers.get('content-security-policy') ?? ''
    assert.match(csp, /script-src 'self'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    assert.match(csp, /frame-ancestors 'none'/)
    const html = await shell.text()
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]/, 'no inline script')
    const plain = (await login(fixture, OPERATOR.user, OPERATOR.password)).headers.get('set-cookie') ?? ''
    assert.match(plain, /HttpOnly/)
    assert.match(plain, /SameSite=Strict/)
    assert.doesNotMatch(plain, /Secure/)
    assert.match((await login(fixture, OPERATOR.user, OPERATOR.password, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie') ?? '', /; Secure/)
    const s = await session(fixture)
    const headers = { cookie: s.cookie, origin: s.origin }
    // make sure an access token exists, then read everything the page reads
    await fixture.server.bot.api.token.get()
    const bodies = [html]
    for (const path of ['assets/app.js', 'assets/app.css', 'api/session', 'api/conversations', 'api/conversations/oVictim000001', 'api/dashboard', 'api/audit', 'api/followers', 'api/menu']) {
      const res = await fetch(`${fixture.consoleUrl}${path}`, { headers })
      bodies.push(await res.text())
    }
    const secrets = [TOKEN, fixture.fake.appSecret, ...fixture.fake.tokensIssued.map((t) => t.token)]
    assert.ok(fixture.fake.tokensIssued.length > 0)
    for (const secret of secrets) for (const body of bodies) assert.ok(!body.includes(secret), 'a secret reached the browser')
  })

  test('the sign-in page, at desktop and phone width', async () => {
    const page = await fixture.browser.newPage({ viewport: DESKTOP })
    await page.goto(fixture.consoleUrl)
    await page.waitForSelector('#login-user')
    await page.fill('#login-user', OPERATOR.user)
    await page.fill('#login-password', 'not the password')
    await page.click('form.login-card button[type=submit]')
    await page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '')
    assert.match((await page.textContent('#login-error')) ?? '', /账号或密码错误/)
    await screenshot(page, 'login-desktop')
    await page.setViewportSize(PHONE)
    await screenshot(page, 'login-phone')
    await page.close()
  })
})
