/**
 * Followers: the ones this server saw follow, searched by OpenID and filtered by state or tag,
 * with subscribe time and scene; a follower's profile from WeChat (user/info) and their tags.
 */
import { ApiError, del, get, post } from '../api.js'
import type { Page } from '../app.js'
import { h, replace } from '../dom.js'
import { dateTime } from '../format.js'
import { t, tMaybe } from '../i18n.js'

interface Follower {
  openid: string
  subscribed: boolean
  scene: string | null
  subscribedAt: number | null
  unsubscribedAt: number | null
}
interface Tag {
  id: number
  name: string
  count: number
}
interface Profile {
  subscribe: number
  subscribe_time?: number
  subscribe_scene?: string
  qr_scene?: number
  qr_scene_str?: string
  remark?: string
  tagid_list?: number[]
}

export const followersPage: Page = (root, app, args) => {
  let page = 0
  let tags: Tag[] = []
  const search = h('input', { type: 'search', placeholder: t('followers.search'), 'aria-label': t('followers.search'), class: 'search' })
  const state = h('select', { 'aria-label': t('followers.state') }, h('option', { value: 'all' }, t('followers.all')), h('option', { value: 'subscribed' }, t('followers.subscribed')), h('option', { value: 'unsubscribed' }, t('followers.unsubscribed')))
  const tagFilter = h('select', { 'aria-label': t('followers.tag') }, h('option', { value: '' }, t('followers.anyTag')))
  const table = h('tbody')
  const pager = h('div', { class: 'pager' })
  const detail = h('section', { class: 'follower-detail', 'aria-live': 'polite' })
  replace(
    root,
    h(
      'div',
      { class: 'followers' },
      h(
        'div',
        { class: 'followers-list' },
        h('div', { class: 'filters' }, search, state, tagFilter),
        h('div', { class: 'table-wrap' }, h('table', null, h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'OpenID'), h('th', { scope: 'col' }, t('followers.state')), h('th', { scope: 'col' }, t('followers.since')), h('th', { scope: 'col' }, t('followers.scene')))), table)),
        pager,
      ),
      detail,
    ),
  )

  let timer: number | undefined
  search.addEventListener('input', () => {
    clearTimeout(timer)
    timer = window.setTimeout(() => ((page = 0), void load()), 250)
  })
  state.addEventListener('change', () => ((page = 0), void load()))
  tagFilter.addEventListener('change', () => ((page = 0), void load()))

  async function load(): Promise<void> {
    const q = new URLSearchParams({ q: search.value.trim(), state: state.value, page: String(page) })
    if (tagFilter.value !== '') q.set('tag', tagFilter.value)
    try {
      const r = await get<{ followers: Follower[]; total: number; pageSize: number }>(`/followers?${q}`)
      replace(
        table,
        r.followers.length === 0
          ? h('tr', null, h('td', { colspan: 4, class: 'empty' }, t('followers.none')))
          : r.followers.map((f) =>
              h(
                'tr',
                null,
                h('td', { class: 'openid' }, h('a', { href: `#/followers/${encodeURIComponent(f.openid)}` }, f.openid)),
                h('td', null, h('span', { class: `badge ${f.subscribed ? 'on' : 'gone'}` }, f.subscribed ? t('followers.subscribed') : t('followers.unsubscribed'))),
                h('td', null, f.subscribedAt === null ? '—' : dateTime(f.subscribedAt)),
                h('td', null, f.scene ?? '—'),
              ),
            ),
      )
      const pages = Math.max(1, Math.ceil(r.total / r.pageSize))
      replace(
        pager,
        h('button', { type: 'button', class: 'secondary', disabled: page === 0, onclick: () => ((page -= 1), void load()) }, t('followers.prev')),
        h('span', { class: 'muted' }, t('followers.page', { page: page + 1, pages, total: r.total })),
        h('button', { type: 'button', class: 'secondary', disabled: page + 1 >= pages, onclick: () => ((page += 1), void load()) }, t('followers.next')),
      )
    } catch (err) {
      app.notify(explain(err), 'error')
    }
  }

  async function loadTags(): Promise<void> {
    if (!app.session.features.api) return
    try {
      tags = (await get<{ tags: Tag[] }>('/tags')).tags
      replace(tagFilter, h('option', { value: '' }, t('followers.anyTag')), tags.map((tag) => h('option', { value: String(tag.id) }, `${tag.name} (${tag.count})`)))
    } catch {
      tags = []
    }
  }

  async function showDetail(openid: string): Promise<void> {
    replace(detail, h('p', { class: 'muted' }, '…'))
    let r: { openid: string; local: Follower | null; profile: Profile | null; profileError: { message: string; reason?: string } | null }
    try {
      r = await get(`/followers/${encodeURIComponent(openid)}`)
    } catch (err) {
      return replace(detail, h('p', { class: 'form-error' }, explain(err)))
    }
    const p = r.profile
    const rows: Array<[string, string]> = [
      [t('followers.state'), r.local === null ? '—' : r.local.subscribed ? t('followers.subscribed') : t('followers.unsubscribed')],
      [t('followers.since'), r.local?.subscribedAt ? dateTime(r.local.subscribedAt) : p?.subscribe_time ? dateTime(p.subscribe_time * 1000) : '—'],
      [t('followers.scene'), r.local?.scene ?? (p?.qr_scene_str || (p?.qr_scene ? String(p.qr_scene) : '—'))],
    ]
    if (p?.subscribe_scene) rows.push([t('followers.how'), tMaybe(`scene.${p.subscribe_scene}`, p.subscribe_scene)])
    if (p?.remark) rows.push([t('followers.remark'), p.remark])
    if (r.local?.unsubscribedAt) rows.push([t('followers.left'), dateTime(r.local.unsubscribedAt)])
    const mine = new Set(p?.tagid_list ?? [])
    const addSelect = h('select', { 'aria-label': t('followers.addTag') }, tags.filter((tag) => !mine.has(tag.id)).map((tag) => h('option', { value: String(tag.id) }, tag.name)))
    const newTag = h('input', { placeholder: t('followers.newTag'), 'aria-label': t('followers.newTag'), maxlength: 30 })
    replace(
      detail,
      h('h2', { class: 'openid' }, openid),
      h('dl', null, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      r.profileError === null ? null : h('p', { class: 'muted' }, t('followers.profileError'), ' ', tMaybe(`reason.${r.profileError.reason ?? ''}`, r.profileError.message)),
      h('h3', null, t('followers.tags')),
      h(
        'ul',
        { class: 'chips' },
        [...mine].map((id) => {
          const name = tags.find((tag) => tag.id === id)?.name ?? `#${id}`
          return h('li', { class: 'chip' }, name, h('button', { type: 'button', class: 'chip-x', 'aria-label': t('followers.removeTag', { name }), onclick: () => void tagChange(openid, id, false) }, '×'))
        }),
      ),
      app.session.features.api
        ? h(
            'div',
            { class: 'tag-row' },
            addSelect,
            h('button', { type: 'button', class: 'secondary', disabled: addSelect.options.length === 0, onclick: () => void tagChange(openid, Number(addSelect.value), true) }, t('followers.addTag')),
            newTag,
            h('button', { type: 'button', class: 'secondary', onclick: () => void createTag(openid, newTag.value) }, t('followers.createTag')),
          )
        : h('p', { class: 'muted' }, t('reason.no-api')),
      h('p', null, h('a', { href: `#/inbox/${encodeURIComponent(openid)}` }, t('followers.openConversation'))),
    )
  }

  async function tagChange(openid: string, tagId: number, add: boolean): Promise<void> {
    try {
      if (add) await post(`/followers/${encodeURIComponent(openid)}/tags`, { tagId })
      else await del(`/followers/${encodeURIComponent(openid)}/tags/${tagId}`)
      await loadTags()
      await showDetail(openid)
      app.notify(t('followers.saved'))
    } catch (err) {
      app.notify(explain(err), 'error')
    }
  }

  async function createTag(openid: string, name: string): Promise<void> {
    if (name.trim() === '') return
    try {
      const r = await post<{ tag: Tag }>('/tags', { name })
      await post(`/followers/${encodeURIComponent(openid)}/tags`, { tagId: r.tag.id })
      await loadTags()
      await showDetail(openid)
      app.notify(t('followers.saved'))
    } catch (err) {
      app.notify(explain(err), 'error')
    }
  }

  void (async () => {
    await loadTags()
    await load()
    const openid = args[0]
    if (openid !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(openid)) await showDetail(openid)
    else replace(detail, h('p', { class: 'muted' }, t('followers.pick')))
  })()
  return () => clearTimeout(timer)
}

function explain(err: unknown): string {
  if (err instanceof ApiError) return err.errcode !== undefined ? tMaybe(`errcode.${err.errcode}`, err.message) : tMaybe(`reason.${err.reason ?? ''}`, err.message)
  return t('app.unreachable')
}

