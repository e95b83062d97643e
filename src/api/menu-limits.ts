/**
 * The documented custom-menu limits (protocol.md §8), checked before a menu is sent so a
 * mistake names the button instead of coming back as errcode 40016–40019.
 */
import { WxmpError } from '../errors.js'

export const MENU_LIMITS = {
  topLevelButtons: 3,
  subButtons: 5,
  topLevelNameBytes: 16,
  subNameBytes: 60,
  keyBytes: 128,
  urlBytes: 1024,
} as const

export const MENU_BUTTON_TYPES = [
  'click',
  'view',
  'miniprogram',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
  'media_id',
  'view_limited',
  'article_id',
  'article_view_limited',
] as const
export type MenuButtonType = (typeof MENU_BUTTON_TYPES)[number]

export interface MenuButton {
  type?: MenuButtonType
  name: string
  key?: string
  url?: string
  appid?: string
  pagepath?: string
  media_id?: string
  article_id?: string
  sub_button?: MenuButton[]
}

export interface Menu {
  button: MenuButton[]
}

/** Conditional-menu rule: only these two fields are accepted today (others: 65320). */
export interface MatchRule {
  tag_id?: string
  client_platform_type?: '1' | '2' | '3'
}

const NEEDS_KEY = new Set(['click', 'scancode_push', 'scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album', 'pic_weixin', 'location_select'])
const NEEDS_URL = new Set(['view', 'miniprogram'])
const PRIVACY_FIELDS = ['sex', 'country', 'province', 'city', 'language']

function fail(message: string): never {
  throw new WxmpError('WX_ERR_API_INPUT', `menu: ${message}`)
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

function checkString(where: string, field: string, value: unknown, maxBytes?: number): void {
  if (typeof value !== 'string' || value.length === 0) fail(`${where}.${field} is required for this button type and must be a non-empty string`)
  if (maxBytes !== undefined && bytes(value) > maxBytes) fail(`${where}.${field} is ${bytes(value)} bytes, the limit is ${maxBytes} (UTF-8: a Chinese character is 3 bytes)`)
}

function checkButton(b: unknown, where: string, topLevel: boolean): void {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) fail(`${where} must be an object`)
  const button = b as Record<string, unknown>
  const name = button.name
  if (typeof name !== 'string' || name.length === 0) fail(`${where}.name is required`)
  const nameLimit = topLevel ? MENU_LIMITS.topLevelNameBytes : MENU_LIMITS.subNameBytes
  if (bytes(name) > nameLimit) fail(`${where}.name ${JSON.stringify(name)} is ${bytes(name)} bytes, the limit is ${nameLimit} at ${topLevel ? 'top' : 'sub'} level (a Chinese character is 3 bytes)`)
  // menu/get answers leaves with "sub_button": [], so a pushed-back copy of it stays valid
  const emptyLeafList = Array.isArray(button.sub_button) && button.sub_button.length === 0 && button.type !== undefined
  if (button.sub_button !== undefined && !emptyLeafList) {
    if (!topLevel) fail(`${where} has sub_button, but menus are two levels deep at most`)
    const subs = button.sub_button
    if (!Array.isArray(subs) || subs.length < 1 || subs.length > MENU_LIMITS.subButtons) {
      fail(`${where}.sub_button must have 1–${MENU_LIMITS.subButtons} buttons, got ${Array.isArray(subs) ? subs.length : typeof subs}`)
    }
    if (button.type !== undefined) fail(`${where} has both a type and sub_button: a parent button has no type`)
    subs.forEach((s, i) => checkButton(s, `${where}.sub_button[${i}]`, false))
    return
  }
  const type = button.type
  if (typeof type !== 'string' || !(MENU_BUTTON_TYPES as readonly string[]).includes(type)) {
    fail(`${where}.type ${JSON.stringify(type)} is not a menu button type (${MENU_BUTTON_TYPES.join(', ')}; "text" and "img" are console-only)`)
  }
  if (NEEDS_KEY.has(type)) checkString(where, 'key', button.key, MENU_LIMITS.keyBytes)
  else if (button.key !== undefined) checkString(where, 'key', button.key, MENU_LIMITS.keyBytes)
  if (NEEDS_URL.has(type)) checkString(where, 'url', button.url, MENU_LIMITS.urlBytes)
  if (type === 'miniprogram') {
    checkString(where, 'appid', button.appid)
    checkString(where, 'pagepath', button.pagepath)
  }
  if (type === 'media_id' || type === 'view_limited') checkString(where, 'media_id', button.media_id)
  if (type === 'article_id' || type === 'article_view_limited') checkString(where, 'article_id', button.article_id)
}

/**
 * Throws WX_ERR_API_INPUT naming the first broken limit.
 *
 * @example
 * validateMenu({ button: [{ type: 'click', name: 'Today', key: 'TODAY' }] })
 */
export function validateMenu(menu: unknown): asserts menu is Menu {
  if (menu === null || typeof menu !== 'object' || Array.isArray(menu)) fail('must be an object like { "button": [ … ] }')
  const buttons = (menu as { button?: unknown }).button
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > MENU_LIMITS.topLevelButtons) {
    fail(`"button" must have 1–${MENU_LIMITS.topLevelButtons} top-level buttons, got ${Array.isArray(buttons) ? buttons.length : typeof buttons}`)
  }
  buttons.forEach((b, i) => checkButton(b, `button[${i}]`, true))
}

/** Throws WX_ERR_API_INPUT for an empty rule or one using the fields WeChat now refuses. */
export function validateMatchRule(rule: unknown): asserts rule is MatchRule {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) fail('matchrule must be an object like { "tag_id": "2" }')
  const r = rule as Record<string, unknown>
  const privacy = PRIVACY_FIELDS.filter((f) => r[f] !== undefined && r[f] !== '')
  if (privacy.length > 0) fail(`matchrule uses ${privacy.join(', ')}: WeChat no longer accepts these (65320); only tag_id and client_platform_type work`)
  const unknown = Object.keys(r).filter((f) => f !== 'tag_id' && f !== 'client_platform_type' && !PRIVACY_FIELDS.includes(f))
  if (unknown.length > 0) fail(`matchrule has unknown fields ${unknown.join(', ')}: only tag_id and client_platform_type`)
  if ((r.tag_id === undefined || r.tag_id === '') && (r.client_platform_type === undefined || r.client_platform_type === '')) {
    fail('matchrule needs tag_id or client_platform_type')
  }
  if (r.client_platform_type !== undefined && !['1', '2', '3'].includes(String(r.client_platform_type))) {
    fail(`matchrule.client_platform_type must be "1" (iOS), "2" (Android) or "3" (others), got ${JSON.stringify(r.client_platform_type)}`)
  }
}
