/** Custom menu (自定义菜单, protocol.md §8): default and conditional menus, validated before sending. */
import type { ApiCaller } from '../caller.js'
import { validateMatchRule, validateMenu, type MatchRule, type Menu, type MenuButton } from '../menu-limits.js'
import { requireString } from './input.js'

export interface MenuGetResult {
  menu?: { button: MenuButton[]; menuid?: string }
  conditionalmenu?: Array<{ button: MenuButton[]; matchrule: MatchRule; menuid: string }>
}

/**
 * @example
 * await api.menu.create({ button: [{ type: 'click', name: 'Today', key: 'TODAY' }] })
 * const { menu } = await api.menu.get()
 */
export class MenuApi {
  constructor(private readonly api: ApiCaller) {}

  /** Replaces the default menu (the client checks every documented limit first). */
  async create(menu: Menu): Promise<void> {
    validateMenu(menu)
    await this.api.call('/cgi-bin/menu/create', { button: menu.button })
  }

  /** Menus created through the API (`menu/get`); errcode 46003 when there is none. */
  async get(): Promise<MenuGetResult> {
    return this.api.call<MenuGetResult>('/cgi-bin/menu/get')
  }

  /** The menu users see, whether set in the console or through the API. */
  async getCurrentSelfMenuInfo(): Promise<{ is_menu_open: number; selfmenu_info?: { button: unknown[] } }> {
    return this.api.call('/cgi-bin/get_current_selfmenu_info')
  }

  /** Deletes the default menu and every conditional menu. */
  async delete(): Promise<void> {
    await this.api.call('/cgi-bin/menu/delete')
  }

  /** Adds a conditional menu; returns its menuid (a string). */
  async addConditional(menu: Menu & { matchrule: MatchRule }): Promise<string> {
    validateMenu(menu)
    validateMatchRule(menu.matchrule)
    const result = await this.api.call<{ menuid: string | number }>('/cgi-bin/menu/addconditional', { button: menu.button, matchrule: menu.matchrule })
    return String(result.menuid)
  }

  async deleteConditional(menuid: string): Promise<void> {
    await this.api.call('/cgi-bin/menu/delconditional', { menuid: requireString('menuid', String(menuid)) })
  }

  /** The menu a user (OpenID or WeChat ID) would see. */
  async tryMatch(userId: string): Promise<{ button: MenuButton[] }> {
    return this.api.call('/cgi-bin/menu/trymatch', { user_id: requireString('userId', userId) })
  }
}
