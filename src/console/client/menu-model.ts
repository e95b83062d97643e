/**
 * The menu being edited: moves, the per-type fields, WeChat's limits (checked by the same
 * validateMenu that `wxmp menu push` runs, bundled into the page), and the diff against the
 * live menu shown before publishing.
 */
import { MENU_BUTTON_TYPES, MENU_LIMITS, validateMenu, type MenuButton, type MenuButtonType } from '../../api/menu-limits.js'

export { MENU_BUTTON_TYPES, MENU_LIMITS, type MenuButton, type MenuButtonType }
export interface EditableMenu {
  button: MenuButton[]
}
/** [top] or [top, sub] */
export type ItemPath = [number] | [number, number]

/** The fields each type needs (beyond name), in the order the form shows them. */
export const FIELDS: Record<MenuButtonType, Array<'key' | 'url' | 'appid' | 'pagepath' | 'media_id' | 'article_id'>> = {
  click: ['key'],
  view: ['url'],
  miniprogram: ['url', 'appid', 'pagepath'],
  scancode_push: ['key'],
  scancode_waitmsg: ['key'],
  pic_sysphoto: ['key'],
  pic_photo_or_album: ['key'],
  pic_weixin: ['key'],
  location_select: ['key'],
  media_id: ['media_id'],
  view_limited: ['media_id'],
  article_id: ['article_id'],
  article_view_limited: ['article_id'],
}

export const FIELD_LIMITS: Partial<Record<string, number>> = { key: MENU_LIMITS.keyBytes, url: MENU_LIMITS.urlBytes }

export function itemAt(menu: EditableMenu, path: ItemPath): MenuButton | undefined {
  const top = menu.button[path[0]]
  return path.length === 1 ? top : top?.sub_button?.[path[1]]
}

/** The first broken limit as `validateMenu` words it, with the item it names (if any). */
export function check(menu: EditableMenu): { ok: true } | { ok: false; message: string; path: ItemPath | undefined; field: string | undefined } {
  try {
    validateMenu(menu)
    return { ok: true }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const m = /button\[(\d+)\](?:\.sub_button\[(\d+)\])?(?:\.(\w+))?/.exec(message)
    const path: ItemPath | undefined = m === null ? undefined : m[2] === undefined ? [Number(m[1])] : [Number(m[1]), Number(m[2])]
    return { ok: false, message, path, field: m?.[3] }
  }
}

/** Only the fields WeChat takes for the item's type: switching type drops the old type's fields. */
export function cleaned(menu: EditableMenu): EditableMenu {
  const clean = (b: MenuButton, top: boolean): MenuButton => {
    if (top && b.sub_button !== undefined && b.sub_button.length > 0) return { name: b.name, sub_button: b.sub_button.map((s) => clean(s, false)) }
    const out: MenuButton = { type: b.type ?? 'click', name: b.name }
    for (const f of FIELDS[out.type!] ?? []) if (b[f] !== undefined && b[f] !== '') out[f] = b[f]
    return out
  }
  return { button: menu.button.map((b) => clean(b, true)) }
}

export function move<T>(list: T[], from: number, to: number): void {
  if (from === to || from < 0 || to < 0 || from >= list.length || to >= list.length) return
  const [item] = list.splice(from, 1)
  list.splice(to, 0, item!)
}

export interface DiffLine {
  kind: 'added' | 'removed' | 'changed' | 'same'
  where: string
  text: string
}

function describe(b: MenuButton): string {
  if (b.sub_button !== undefined && b.sub_button.length > 0) return `“${b.name}” (${b.sub_button.length})`
  const fields = (FIELDS[b.type as MenuButtonType] ?? []).map((f) => `${f}=${b[f] ?? ''}`)
  return `“${b.name}” ${b.type ?? '?'}${fields.length > 0 ? ' · ' + fields.join(' · ') : ''}`
}

/** Position by position: what publishing would change on the phone. */
export function diff(live: EditableMenu | null, draft: EditableMenu): DiffLine[] {
  const lines: DiffLine[] = []
  const a = live?.button ?? []
  const b = draft.button
  const compare = (x: MenuButton | undefined, y: MenuButton | undefined, where: string) => {
    if (x === undefined && y !== undefined) lines.push({ kind: 'added', where, text: describe(y) })
    else if (x !== undefined && y === undefined) lines.push({ kind: 'removed', where, text: describe(x) })
    else if (x !== undefined && y !== undefined) lines.push({ kind: describe(x) === describe(y) ? 'same' : 'changed', where, text: describe(x) === describe(y) ? describe(y) : `${describe(x)} → ${describe(y)}` })
  }
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    compare(a[i], b[i], `${i + 1}`)
    const subsA = a[i]?.sub_button ?? []
    const subsB = b[i]?.sub_button ?? []
    for (let j = 0; j < Math.max(subsA.length, subsB.length); j++) compare(subsA[j], subsB[j], `${i + 1}.${j + 1}`)
  }
  return lines
}
