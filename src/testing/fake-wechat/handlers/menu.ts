/**
 * Custom menus (protocol.md §8): the server-side checks answer 40016–40019 like WeChat, so
 * a client that skips its own validation still sees the real errcodes.
 */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, ok, readJson, utf8Bytes, type JsonBody } from './body.js'

const TYPES = new Set(['click', 'view', 'miniprogram', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select', 'media_id', 'view_limited', 'article_id', 'article_view_limited'])
const KEYED = new Set(['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select'])
const PRIVACY = ['sex', 'country', 'province', 'city', 'language']

function checkButtons(state: FakeState, buttons: unknown): FakeResponse | undefined {
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) return state.error(40016)
  for (const top of buttons as JsonBody[]) {
    const bad = checkButton(state, top, true)
    if (bad !== undefined) return bad
  }
  return undefined
}

function checkButton(state: FakeState, b: JsonBody, top: boolean): FakeResponse | undefined {
  if (b === null || typeof b !== 'object') return state.error(47001)
  if (!isNonEmptyString(b.name) || utf8Bytes(b.name) > (top ? 16 : 60)) return state.error(40018)
  if (b.sub_button !== undefined && !(Array.isArray(b.sub_button) && b.sub_button.length === 0 && b.type !== undefined)) {
    if (!top) return state.error(40016)
    const subs = b.sub_button
    if (!Array.isArray(subs) || subs.length < 1 || subs.length > 5) return state.error(40016)
    for (const s of subs as JsonBody[]) {
      const bad = checkButton(state, s, false)
      if (bad !== undefined) return bad
    }
    return undefined
  }
  if (!isNonEmptyString(b.type) || !TYPES.has(b.type)) return state.error(40017)
  if (KEYED.has(b.type) && (!isNonEmptyString(b.key) || utf8Bytes(b.key) > 128)) return state.error(40019)
  if ((b.type === 'view' || b.type === 'miniprogram') && (!isNonEmptyString(b.url) || utf8Bytes(b.url) > 1024)) return state.error(40055)
  if (b.type === 'miniprogram' && (!isNonEmptyString(b.appid) || !isNonEmptyString(b.pagepath))) return state.error(47001, 'data format error hint: [appid or pagepath missing]')
  if ((b.type === 'media_id' || b.type === 'view_limited') && !isNonEmptyString(b.media_id)) return state.error(40007)
  if ((b.type === 'article_id' || b.type === 'article_view_limited') && !isNonEmptyString(b.article_id)) return state.error(47001, 'data format error hint: [article_id missing]')
  return undefined
}

export function menuCreate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const bad = checkButtons(state, parsed.body.button)
  if (bad !== undefined) return bad
  state.defaultMenu = { button: parsed.body.button as unknown[], menuid: state.nextMenuId++ }
  return ok()
}

/** menu/get answers every button with a `sub_button` list, empty on leaves, as WeChat does. */
function asAnswered(buttons: unknown[]): unknown[] {
  return (buttons as JsonBody[]).map((b) => ({ ...b, sub_button: Array.isArray(b.sub_button) ? asAnswered(b.sub_button) : [] }))
}

export function menuGet(_req: FakeRequest, state: FakeState): FakeResponse {
  if (state.defaultMenu === undefined) return state.error(46003)
  const result: JsonBody = { menu: { button: asAnswered(state.defaultMenu.button), menuid: state.defaultMenu.menuid } }
  if (state.conditionalMenus.length > 0) {
    result.conditionalmenu = state.conditionalMenus.map((m) => ({ button: asAnswered(m.button), matchrule: m.matchrule, menuid: m.menuid }))
  }
  return { json: result }
}

export function selfMenuInfo(_req: FakeRequest, state: FakeState): FakeResponse {
  if (state.defaultMenu === undefined) return { json: { is_menu_open: 0 } }
  const button = (state.defaultMenu.button as JsonBody[]).map((b) => (Array.isArray(b.sub_button) ? { name: b.name, sub_button: { list: b.sub_button } } : b))
  return { json: { is_menu_open: 1, selfmenu_info: { button } } }
}

export function menuDelete(_req: FakeRequest, state: FakeState): FakeResponse {
  state.defaultMenu = undefined
  state.conditionalMenus = []
  return ok()
}

export function menuAddConditional(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  if (state.defaultMenu === undefined) return state.error(65303)
  const bad = checkButtons(state, body.button)
  if (bad !== undefined) return bad
  const rule = body.matchrule as JsonBody | undefined
  if (rule === null || typeof rule !== 'object') return state.error(65304)
  if (PRIVACY.some((f) => rule[f] !== undefined && rule[f] !== '')) return state.error(65320)
  const tag = rule.tag_id
  const platform = rule.client_platform_type
  if ((tag === undefined || tag === '') && (platform === undefined || platform === '')) return state.error(65304)
  if (tag !== undefined && tag !== '' && !state.tags.has(Number(tag))) return state.error(45159)
  const menuid = state.nextMenuId++
  state.conditionalMenus.push({ button: body.button as unknown[], matchrule: rule, menuid })
  return { json: { menuid: String(menuid) } }
}

export function menuDelConditional(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const id = Number(parsed.body.menuid)
  const index = state.conditionalMenus.findIndex((m) => m.menuid === id)
  if (index < 0) return state.error(65301)
  state.conditionalMenus.splice(index, 1)
  return ok()
}

/** Newest conditional menu whose tag the user carries, else the default menu. */
export function menuTryMatch(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const userId = parsed.body.user_id
  if (!isNonEmptyString(userId)) return state.error(47001, 'data format error hint: [user_id missing]')
  const user = state.users.get(userId)
  if (user === undefined) return state.error(65302)
  if (state.defaultMenu === undefined) return state.error(46003)
  for (const menu of [...state.conditionalMenus].reverse()) {
    const tag = menu.matchrule?.tag_id
    if (tag !== undefined && tag !== '' && user.tagid_list.includes(Number(tag))) return { json: { button: menu.button } }
  }
  return { json: { button: state.defaultMenu.button } }
}
