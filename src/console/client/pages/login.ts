/** Sign-in: name and password; wrong input, lock-out and network trouble each said plainly. */
import { ApiError, post, setCsrf } from '../api.js'
import type { SessionInfo } from '../app.js'
import { h, replace } from '../dom.js'
import { t } from '../i18n.js'

export function loginPage(root: HTMLElement, signedIn: (s: SessionInfo) => void, redraw: () => void, langToggle: (after: () => void) => HTMLButtonElement): () => void {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' })
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off', spellcheck: 'false', 'aria-describedby': 'login-error' })
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' })
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'))
  const form = h(
    'form',
    {
      class: 'login-card',
      onsubmit: async (e: SubmitEvent) => {
        e.preventDefault()
        submit.disabled = true
        error.textContent = ''
        try {
          const s = await post<SessionInfo>('/login', { user: user.value, password: password.value })
          setCsrf(s.csrf)
          signedIn(s)
        } catch (err) {
          password.value = ''
          if (err instanceof ApiError && err.status === 429) {
            const sec = Number((err.body as { retryAfterSec?: unknown }).retryAfterSec ?? 900)
            error.textContent = t('login.locked', { minutes: Math.max(1, Math.ceil(sec / 60)) })
          } else if (err instanceof ApiError && err.status === 401) error.textContent = t('login.wrong')
          else if (err instanceof ApiError && err.status === 403) error.textContent = t('login.forbidden')
          else error.textContent = t('app.unreachable')
          password.focus()
        } finally {
          submit.disabled = false
        }
      },
    },
    h('div', { class: 'login-head' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, 'wx'), h('h1', null, t('app.title')), langToggle(redraw)),
    h('p', { class: 'muted' }, t('login.intro')),
    h('label', { for: 'login-user' }, t('login.user')),
    user,
    h('label', { for: 'login-password' }, t('login.password')),
    password,
    error,
    submit,
  )
  replace(root, h('main', { class: 'login' }, form))
  root.classList.remove('boot')
  user.focus()
  return () => {}
}
