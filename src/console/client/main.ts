/**
 * The console's page: sign-in, then a top bar and one page per hash route (#/inbox,
 * #/menu…). Plain TypeScript over the DOM: see docs/console.md for why no framework.
 */
import './style.css'
import { ApiError, base, get, post, setCsrf, whenSignedOut } from './api.js'
import type { App, Page, SessionInfo } from './app.js'
import { h, replace } from './dom.js'
import { currentLang, setLang, t, type StringKey } from './i18n.js'
import { auditPage } from './pages/audit.js'
import { dashboardPage } from './pages/dashboard.js'
import { followersPage } from './pages/followers.js'
import { inboxPage } from './pages/inbox.js'
import { loginPage } from './pages/login.js'
import { menuPage } from './pages/menu.js'

const PAGES: Array<{ id: string; label: StringKey; page: Page; when?: (s: SessionInfo) => boolean }> = [
  { id: 'inbox', label: 'nav.inbox', page: inboxPage },
  { id: 'menu', label: 'nav.menu', page: menuPage },
  { id: 'followers', label: 'nav.followers', page: followersPage },
  { id: 'dashboard', label: 'nav.dashboard', page: dashboardPage },
  { id: 'audit', label: 'nav.audit', page: auditPage },
]

const root = document.getElementById('app')!
let cleanup: () => void = () => {}
let session: SessionInfo | undefined

function langToggle(after: () => void): HTMLButtonElement {
  const next = currentLang() === 'en' ? 'zh-CN' : 'en'
  return h('button', { type: 'button', class: 'lang', lang: next, onclick: () => (setLang(next), after()) }, next === 'en' ? 'English' : '中文')
}

function showLogin(): void {
  cleanup()
  session = undefined
  document.title = t('app.title')
  cleanup = loginPage(root, (s) => start(s), () => showLogin(), langToggle)
}

function route(): { id: string; args: string[] } {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => {
    try {
      return decodeURIComponent(p)
    } catch {
      return ''
    }
  })
  const id = parts[0] !== undefined && PAGES.some((p) => p.id === parts[0]) ? parts[0] : 'inbox'
  return { id, args: parts.slice(1) }
}

function render(): void {
  if (session === undefined) return showLogin()
  cleanup()
  const s = session
  const { id, args } = route()
  const notice = h('div', { class: 'notice', role: 'status', 'aria-live': 'polite' })
  let noticeTimer: number | undefined
  const app: App = {
    session: s,
    notify(text, kind = 'ok') {
      notice.textContent = text
      notice.className = `notice show ${kind}`
      notice.setAttribute('role', kind === 'error' ? 'alert' : 'status')
      clearTimeout(noticeTimer)
      noticeTimer = window.setTimeout(() => (notice.className = 'notice'), kind === 'error' ? 8000 : 3000)
    },
    rerender: render,
  }
  const current = PAGES.find((p) => p.id === id)!
  document.title = `${t(current.label)} · ${t('app.title')}`
  const main = h('main', { id: 'main', class: `page page-${id}`, tabindex: '-1' })
  replace(
    root,
    h('a', { class: 'skip', href: '#main', onclick: (e: MouseEvent) => (e.preventDefault(), main.focus()) }, t('nav.skip')),
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', href: '#/inbox' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'wx'), h('span', null, t('app.title'))),
      h(
        'nav',
        { 'aria-label': t('nav.label') },
        PAGES.filter((p) => p.when?.(s) ?? true).map((p) => h('a', { href: `#/${p.id}`, 'aria-current': p.id === id ? 'page' : undefined, class: p.id === id ? 'active' : undefined }, t(p.label))),
      ),
      h(
        'div',
        { class: 'who' },
        langToggle(render),
        h('span', { class: 'user', title: t('nav.signedInAs', { user: s.user }) }, s.user),
        h('button', { type: 'button', class: 'link', onclick: () => void signOut() }, t('nav.signOut')),
      ),
    ),
    notice,
    main,
  )
  root.classList.remove('boot')
  cleanup = current.page(main, app, args)
}

async function signOut(): Promise<void> {
  try {
    await post('/logout')
  } catch {
    // signed out already: the login page is what follows either way
  }
  showLogin()
}

function start(s: SessionInfo): void {
  session = s
  setCsrf(s.csrf)
  render()
}

whenSignedOut(() => showLogin())
window.addEventListener('hashchange', () => render())

void (async () => {
  try {
    start(await get<SessionInfo>('/session'))
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin()
    else replace(root, h('p', { class: 'fatal', role: 'alert' }, t('app.unreachable'), ' ', base))
  }
})()
