/**
 * The menu editor: the three-by-five menu laid out as the phone shows it, drag (or the move
 * buttons, for keyboards and touch) to reorder, each item's type with its fields, WeChat's
 * limits checked as you type by the checks `wxmp menu push` runs, pull the live menu, and a
 * diff to confirm before publishing. The draft survives a reload (kept in this browser).
 */
import { ApiError, currentAccount, get, put } from '../api.js'
import type { Page } from '../app.js'
import { h, replace } from '../dom.js'
import { utf8Bytes } from '../format.js'
import { t, tMaybe } from '../i18n.js'
import { check, cleaned, diff, FIELD_LIMITS, FIELDS, itemAt, MENU_BUTTON_TYPES, MENU_LIMITS, move, type EditableMenu, type ItemPath, type MenuButtonType } from '../menu-model.js'

// one draft per account: a draft for one account's menu never shows up on another's
const draftKey = () => `wxmp-console-menu-draft${currentAccount() === undefined ? '' : `:${currentAccount()}`}`

export const menuPage: Page = (root, app) => {
  let live: EditableMenu | null = null
  let draft: EditableMenu = loadDraft() ?? { button: [] }
  let selected: ItemPath | undefined = draft.button.length > 0 ? [0] : undefined
  let dragging: ItemPath | undefined
  const phone = h('div', { class: 'phone', role: 'group', 'aria-label': t('menu.preview') })
  const form = h('div', { class: 'menu-form' })
  const status = h('div', { class: 'menu-status', role: 'status', 'aria-live': 'polite' })
  const refusal = h('div', { class: 'refusal', role: 'alert' })
  const diffBox = h('div', { class: 'diff', hidden: true })
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('button', { type: 'button', class: 'secondary', onclick: () => void pull(true) }, t('menu.pull')),
    h('button', { type: 'button', class: 'secondary', onclick: () => showDiff(false) }, t('menu.diff')),
    h('button', { type: 'button', class: 'secondary', onclick: () => discard() }, t('menu.discard')),
    h('button', { type: 'button', class: 'primary', onclick: () => showDiff(true) }, t('menu.publish')),
  )
  replace(root, h('div', { class: 'menu-editor' }, h('div', { class: 'menu-left' }, toolbar, status, refusal, phone), h('div', { class: 'menu-right' }, form, diffBox)))

  function loadDraft(): EditableMenu | undefined {
    try {
      const saved = JSON.parse(localStorage.getItem(draftKey()) ?? 'null') as EditableMenu | null
      return saved !== null && Array.isArray(saved.button) ? saved : undefined
    } catch {
      return undefined
    }
  }
  const saveDraft = () => localStorage.setItem(draftKey(), JSON.stringify(draft))

  function changed(): void {
    saveDraft()
    diffBox.hidden = true
    draw()
  }

  function refuse(text: string): void {
    refusal.textContent = text
  }

  function addTop(): void {
    if (draft.button.length >= MENU_LIMITS.topLevelButtons) return refuse(t('menu.maxTop', { n: MENU_LIMITS.topLevelButtons }))
    draft.button.push({ type: 'click', name: t('menu.newItem'), key: `KEY_${draft.button.length + 1}` })
    selected = [draft.button.length - 1]
    refuse('')
    changed()
  }

  function addSub(i: number): void {
    const top = draft.button[i]!
    const subs = top.sub_button ?? []
    if (subs.length >= MENU_LIMITS.subButtons) return refuse(t('menu.maxSub', { n: MENU_LIMITS.subButtons }))
    if (subs.length === 0) {
      // the parent keeps only its name: its type and fields move to the first sub-item
      subs.push({ type: top.type ?? 'click', name: t('menu.newSub'), ...(top.key === undefined ? { key: `KEY_${i + 1}_1` } : { key: top.key }) })
      delete top.type
      delete top.key
      delete top.url
    } else subs.push({ type: 'click', name: t('menu.newSub'), key: `KEY_${i + 1}_${subs.length + 1}` })
    top.sub_button = subs
    selected = [i, subs.length - 1]
    refuse('')
    changed()
  }

  function remove(path: ItemPath): void {
    if (path.length === 1) draft.button.splice(path[0], 1)
    else {
      const top = draft.button[path[0]]!
      top.sub_button!.splice(path[1], 1)
      if (top.sub_button!.length === 0) {
        delete top.sub_button
        top.type = 'click'
        top.key = `KEY_${path[0] + 1}`
      }
    }
    selected = draft.button.length === 0 ? undefined : [Math.min(path[0], draft.button.length - 1)]
    changed()
  }

  function shift(path: ItemPath, by: -1 | 1): void {
    if (path.length === 1) {
      move(draft.button, path[0], path[0] + by)
      selected = [Math.max(0, Math.min(draft.button.length - 1, path[0] + by))]
    } else {
      const subs = draft.button[path[0]]!.sub_button!
      move(subs, path[1], path[1] + by)
      selected = [path[0], Math.max(0, Math.min(subs.length - 1, path[1] + by))]
    }
    changed()
  }

  /** Drop `from` onto `to`: same level only (top with top, sub with sub, across columns too). */
  function drop(from: ItemPath, to: ItemPath): void {
    if (from.length === 1 && to.length === 1) move(draft.button, from[0], to[0])
    else if (from.length === 2 && to.length === 2) {
      const source = draft.button[from[0]]!.sub_button!
      const target = draft.button[to[0]]!.sub_button!
      if (source === target) move(source, from[1], to[1])
      else if (target.length >= MENU_LIMITS.subButtons) return refuse(t('menu.maxSub', { n: MENU_LIMITS.subButtons }))
      else {
        const [item] = source.splice(from[1], 1)
        target.splice(to[1], 0, item!)
        if (source.length === 0) remove([from[0], 0])
      }
    } else return
    selected = to
    changed()
  }

  function dragProps(path: ItemPath) {
    return {
      draggable: 'true',
      ondragstart: (e: DragEvent) => {
        dragging = path
        e.dataTransfer?.setData('text/plain', path.join('.'))
      },
      ondragover: (e: DragEvent) => {
        if (dragging !== undefined && dragging.length === path.length) e.preventDefault()
      },
      ondrop: (e: DragEvent) => {
        e.preventDefault()
        if (dragging !== undefined) drop(dragging, path)
        dragging = undefined
      },
    }
  }

  function draw(): void {
    const result = check(draft)
    const bad = (path: ItemPath) => !result.ok && result.path !== undefined && result.path.join('.') === path.join('.')
    status.className = `menu-status ${result.ok ? 'ok' : 'bad'}`
    status.textContent = result.ok ? t('menu.valid') : `${t('menu.invalid')} ${result.message}`
    const isSel = (path: ItemPath) => selected !== undefined && selected.join('.') === path.join('.')
    const columns = draft.button.map((top, i) => {
      const subs = top.sub_button ?? []
      return h(
        'div',
        { class: 'column' },
        h(
          'ul',
          { class: 'subs', 'aria-label': t('menu.subsOf', { name: top.name }) },
          subs.map((s, j) => h('li', null, h('button', { type: 'button', class: `item sub${isSel([i, j]) ? ' selected' : ''}${bad([i, j]) ? ' invalid' : ''}`, 'aria-pressed': String(isSel([i, j])), onclick: () => ((selected = [i, j]), draw()), 'data-path': `${i}.${j}`, ...dragProps([i, j]) }, s.name || '—'))),
          h('li', null, h('button', { type: 'button', class: 'item add-sub', 'aria-disabled': String(subs.length >= MENU_LIMITS.subButtons), 'aria-label': t('menu.addSub', { name: top.name }), onclick: () => addSub(i) }, '+')),
        ),
        h('button', { type: 'button', class: `item top${isSel([i]) ? ' selected' : ''}${bad([i]) ? ' invalid' : ''}`, 'aria-pressed': String(isSel([i])), onclick: () => ((selected = [i]), draw()), 'data-path': `${i}`, ...dragProps([i]) }, subs.length > 0 ? h('span', { class: 'has-subs', 'aria-hidden': 'true' }, '≡ ') : null, top.name || '—'),
      )
    })
    replace(
      phone,
      h('div', { class: 'phone-screen' }, h('div', { class: 'phone-title' }, app.session.account.appId ?? t('menu.account')), h('div', { class: 'phone-chat muted' }, t('menu.previewNote'))),
      h('div', { class: 'phone-bar' }, h('span', { class: 'keyboard', 'aria-hidden': 'true' }, '⌨'), columns, draft.button.length < MENU_LIMITS.topLevelButtons ? h('div', { class: 'column' }, h('button', { type: 'button', class: 'item top add-top', onclick: addTop, 'aria-label': t('menu.addTop') }, '+')) : null),
    )
    drawForm(result.ok ? undefined : result)
  }

  function drawForm(problem: { message: string; path: ItemPath | undefined; field: string | undefined } | undefined): void {
    const path = selected
    const item = path === undefined ? undefined : itemAt(draft, path)
    if (path === undefined || item === undefined) return replace(form, h('p', { class: 'muted' }, draft.button.length === 0 ? t('menu.empty') : t('menu.pick')))
    const top = path.length === 1
    const parent = top && (item.sub_button?.length ?? 0) > 0
    const nameLimit = top ? MENU_LIMITS.topLevelNameBytes : MENU_LIMITS.subNameBytes
    const here = problem?.path !== undefined && problem.path.join('.') === path.join('.')
    const formError = h('p', { class: 'form-error', role: 'alert' }, here ? problem!.message : '')
    const field = (name: 'name' | 'key' | 'url' | 'appid' | 'pagepath' | 'media_id' | 'article_id', limit: number | undefined) => {
      const id = `menu-field-${name}`
      const counter = h('span', { class: 'counter muted' })
      const input = h('input', { id, value: item[name] ?? '', 'aria-invalid': String(here && problem?.field === name), autocomplete: 'off', spellcheck: 'false' })
      const update = () => {
        const bytes = utf8Bytes(input.value)
        counter.textContent = limit === undefined ? '' : t('menu.bytes', { n: bytes, max: limit })
        counter.classList.toggle('over', limit !== undefined && bytes > limit)
      }
      input.addEventListener('input', () => {
        item[name] = input.value
        update()
        saveDraft()
        diffBox.hidden = true
        const result = check(draft)
        status.className = `menu-status ${result.ok ? 'ok' : 'bad'}`
        status.textContent = result.ok ? t('menu.valid') : `${t('menu.invalid')} ${result.message}`
        input.setAttribute('aria-invalid', String(!result.ok && result.path?.join('.') === path.join('.') && result.field === name))
        // update the preview in place: redrawing it here would swallow a click that blurred this field
        phone.querySelector('.selected')?.replaceChildren(document.createTextNode(top && parent ? `≡ ${item.name}` : item.name || '—'))
        for (const el of phone.querySelectorAll<HTMLElement>('[data-path]')) el.classList.toggle('invalid', !result.ok && result.path?.join('.') === el.dataset.path)
        formError.textContent = !result.ok && result.path?.join('.') === path.join('.') ? result.message : ''
      })
      update()
      return h('div', { class: 'field' }, h('label', { for: id }, tMaybe(`menu.field.${name}`, name)), input, counter)
    }
    const typeSelect = h('select', { id: 'menu-field-type' }, MENU_BUTTON_TYPES.map((type) => h('option', { value: type, selected: item.type === type }, `${tMaybe(`menu.type.${type}`, type)} (${type})`)))
    typeSelect.addEventListener('change', () => {
      item.type = typeSelect.value as MenuButtonType
      draft = cleaned(draft)
      changed()
    })
    replace(
      form,
      h('h2', null, top ? t('menu.editTop', { n: path[0] + 1 }) : t('menu.editSub', { n: path[0] + 1, m: path[1] + 1 })),
      field('name', nameLimit),
      parent ? h('p', { class: 'muted' }, t('menu.parentNote')) : [h('div', { class: 'field' }, h('label', { for: 'menu-field-type' }, t('menu.type')), typeSelect), (FIELDS[item.type ?? 'click'] ?? []).map((f) => field(f, FIELD_LIMITS[f]))],
      formError,
      h(
        'div',
        { class: 'move-row' },
        h('button', { type: 'button', class: 'secondary', onclick: () => shift(path, -1), disabled: (top ? path[0] : path[1]) === 0 }, top ? t('menu.left') : t('menu.up')),
        h('button', { type: 'button', class: 'secondary', onclick: () => shift(path, 1), disabled: top ? path[0] === draft.button.length - 1 : path[1] === (draft.button[path[0]]!.sub_button!.length - 1) }, top ? t('menu.right') : t('menu.down')),
        top ? h('button', { type: 'button', class: 'secondary', onclick: () => addSub(path[0]) }, t('menu.addSubShort')) : null,
        h('button', { type: 'button', class: 'danger', onclick: () => remove(path) }, t('menu.remove')),
      ),
    )
  }

  async function pull(replaceDraft: boolean): Promise<void> {
    try {
      const r = await get<{ menu: EditableMenu | null }>('/menu')
      live = r.menu === null ? null : cleaned(r.menu)
      if (replaceDraft) {
        draft = live === null ? { button: [] } : structuredClone(live)
        selected = draft.button.length > 0 ? [0] : undefined
        changed()
        app.notify(live === null ? t('menu.noLive') : t('menu.pulled'))
      }
    } catch (err) {
      app.notify(err instanceof ApiError ? tMaybe(`reason.${err.reason}`, err.message) : t('app.unreachable'), 'error')
    }
  }

  function discard(): void {
    localStorage.removeItem(draftKey())
    void pull(true)
  }

  function showDiff(publishing: boolean): void {
    const result = check(draft)
    if (publishing && !result.ok) {
      app.notify(`${t('menu.invalid')} ${result.message}`, 'error')
      return
    }
    const lines = diff(live, cleaned(draft))
    const changes = lines.filter((l) => l.kind !== 'same')
    replace(
      diffBox,
      h('h2', null, publishing ? t('menu.confirmTitle') : t('menu.diffTitle')),
      changes.length === 0 ? h('p', { class: 'muted' }, t('menu.noChanges')) : null,
      h('ul', { class: 'diff-lines' }, lines.map((l) => h('li', { class: `diff-${l.kind}` }, h('span', { class: 'diff-mark', 'aria-label': tMaybe(`menu.diff.${l.kind}`, l.kind) }, { added: '+', removed: '−', changed: '~', same: ' ' }[l.kind]), h('span', { class: 'diff-where' }, l.where), h('span', null, l.text)))),
      publishing ? h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'secondary', onclick: () => (diffBox.hidden = true) }, t('menu.cancel')), h('button', { type: 'button', class: 'primary', id: 'menu-confirm', onclick: () => void publish() }, t('menu.confirm'))) : null,
    )
    diffBox.hidden = false
    diffBox.scrollIntoView({ block: 'nearest' })
    ;(diffBox.querySelector('#menu-confirm') as HTMLButtonElement | null)?.focus()
  }

  async function publish(): Promise<void> {
    try {
      await put('/menu', cleaned(draft))
      live = structuredClone(cleaned(draft))
      diffBox.hidden = true
      app.notify(t('menu.published'))
    } catch (err) {
      app.notify(err instanceof ApiError ? `${tMaybe(`reason.${err.reason}`, '')} ${err.message}`.trim() : t('app.unreachable'), 'error')
    }
  }

  draw()
  void pull(loadDraft() === undefined)
  return () => {}
}
