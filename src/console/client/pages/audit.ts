/** The audit log: every operator action, newest first. */
import { get } from '../api.js'
import type { Page } from '../app.js'
import { h, replace } from '../dom.js'
import { dateTime } from '../format.js'
import { t, tMaybe } from '../i18n.js'

interface Entry {
  id: number
  at: number
  operator: string
  action: string
  target?: string
  detail?: unknown
  remote?: string
  ok: boolean
}

export const auditPage: Page = (root, app) => {
  const body = h('tbody')
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('audit.more'))
  let last: number | undefined
  replace(
    root,
    h(
      'div',
      { class: 'audit' },
      h('div', { class: 'table-wrap' }, h('table', null, h('caption', { class: 'visually-hidden' }, t('nav.audit')), h('thead', null, h('tr', null, [t('audit.when'), t('audit.who'), t('audit.action'), t('audit.target'), t('audit.result'), t('audit.detail'), t('audit.from')].map((c) => h('th', { scope: 'col' }, c)))), body)),
      more,
    ),
  )
  async function load(): Promise<void> {
    try {
      const r = await get<{ entries: Entry[] }>(`/audit${last === undefined ? '' : `?before=${last}`}`)
      body.append(
        ...r.entries.map((e) =>
          h(
            'tr',
            { class: e.ok ? undefined : 'failed' },
            h('td', { class: 'nowrap' }, dateTime(e.at)),
            h('td', null, e.operator),
            h('td', null, tMaybe(`action.${e.action}`, e.action)),
            h('td', { class: 'openid' }, e.target ?? ''),
            h('td', null, e.ok ? t('audit.ok') : t('audit.failed')),
            h('td', { class: 'detail' }, e.detail === undefined ? '' : JSON.stringify(e.detail).slice(0, 300)),
            h('td', { class: 'nowrap muted' }, e.remote ?? ''),
          ),
        ),
      )
      if (r.entries.length === 0 && last === undefined) replace(body, h('tr', null, h('td', { colspan: 7, class: 'empty' }, t('audit.none'))))
      last = r.entries.at(-1)?.id
      more.hidden = r.entries.length < 100
    } catch {
      app.notify(t('app.loadFailed'), 'error')
    }
  }
  more.addEventListener('click', () => void load())
  void load()
  return () => {}
}
