/**
 * The console's page: sign-in, then a top bar and one page per hash route (#/inbox,
 * #/menu…). Plain TypeScript over the DOM: see docs/console.md for why no framework.
 */
import './style.css'
import { ApiError, base, get, post, setAccount, setCsrf, whenAccountGone, whenSignedOut } from './api.js'
import type { App, Page, SessionInfo } from './app.js'
import { h, replace } from './dom.js'
import { currentLang, setLang, t, type StringKey } from './i18n.js'
import { auditPage } from './pages/audit.js'
import { dashboardPage } from './pages/dashboard.js'
import { followersPage } from './pages/followers.js'
import { inboxPage } from './pages/inbox.js'
import { loginPage } from './pages/login.js'
import { menuPage } from './pages/menu.js'
import { rulesPage } from './pages/rules.js'

const PAGES: Array<{ id: string; label: StringKey; page: Page; when?: (s: SessionInfo) => boolean }> = [
  { id: 'inbox', label: 'nav.inbox', page: inboxPage },
  { id: 'rules', label: 'nav.rules', page: rulesPage, when: (s) => s.features.rules },
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
      accountSwitcher(s),
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

const ACCOUNT_KEY = 'wxmp-console-account'

/** The account switcher: one account on screen at a time; hidden when the server has one. */
function accountSwitcher(s: SessionInfo): HTMLElement | null {
  if (s.accounts.length < 2) return null
  const select = h(
    'select',
    { id: 'account-switch', 'aria-label': t('nav.account'), onchange: () => void switchAccount(select.value) },
    s.accounts.map((a) => h('option', { value: a.name, selected: a.name === s.account.name ? true : undefined, title: a.path }, a.name)),
  )
  return h('label', { class: 'account-switch', title: t('nav.account') }, h('span', { class: 'account-label' }, t('nav.account')), select)
}

/** Shows another account: its session answer (what it can do), then the same page for it. */
async function switchAccount(name: string): Promise<void> {
  setAccount(name)
  try {
    const next = await get<SessionInfo>('/session')
    localStorage.setItem(ACCOUNT_KEY, name)
    session = next
    // the same page for the other account; a conversation or a rule open here is this account's
    const { id, args } = route()
    if (args.some((a) => a !== '')) location.hash = `#/${id}` // the hashchange renders
    else render()
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) replace(root, h('p', { class: 'fatal', role: 'alert' }, t('app.unreachable'), ' ', base))
  }
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
  setCsrf(s.csrf)
  // the account last shown in this browser, when the server still has it
  const saved = localStorage.getItem(ACCOUNT_KEY)
  if (s.accounts.length > 1 && saved !== null && saved !== s.account.name && s.accounts.some((a) => a.name === saved)) {
    void switchAccount(saved)
    return
  }
  setAccount(s.accounts.length > 1 ? s.account.name : undefined)
  session = s
  render()
}

async function boot(): Promise<void> {
  try {
    start(await get<SessionInfo>('/session'))
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showLogin()
    else replace(root, h('p', { class: 'fatal', role: 'alert' }, t('app.unreachable'), ' ', base))
  }
}

whenSignedOut(() => showLogin())
// the account on screen is no longer served: start over on the server's first account
whenAccountGone(() => {
  localStorage.removeItem(ACCOUNT_KEY)
  setAccount(undefined)
  void boot()
})
window.addEventListener('hashchange', () => render())
void boot()
