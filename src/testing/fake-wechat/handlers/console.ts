/**
 * The MP console's own settings, as the two read endpoints show them (protocol.md §8 and the
 * autoreply documentation): `get_current_autoreply_info` (follow reply, default reply, keyword
 * rules) and `get_current_selfmenu_info` (the menu users see: the API menu once one was
 * created, else the console menu with its message buttons). Every call mints new temporary
 * media ids for images and voices, as WeChat does. And `material/add_material`, where an import
 * keeps those files as permanent material.
 *
 * Tests and tools change the settings with `setConsoleSettings(fake.state, …)`; a fresh fake
 * serves `sampleConsoleSettings()`.
 */
import type { FakeMedia, FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { sampleConsoleSettings, type ConsoleButton, type ConsoleReply, type ConsoleSettings } from './console-sample.js'
import { newMediaId } from './media.js'
import { selfMenuInfo } from './menu.js'
import { materials, type FakeMaterial } from './material.js'

export { sampleConsoleSettings, type ConsoleSettings, type ConsoleButton, type ConsoleReply, type ConsoleKeywordRule, type ConsoleArticle } from './console-sample.js'

const settings = new WeakMap<FakeState, ConsoleSettings>()

/** The console settings this fake serves (the sample until set). */
export function consoleSettings(state: FakeState): ConsoleSettings {
  let current = settings.get(state)
  if (current === undefined) settings.set(state, (current = sampleConsoleSettings()))
  return current
}

/** Replaces the console settings (an account whose operators set up something else, or nothing). */
export function setConsoleSettings(state: FakeState, value: ConsoleSettings): void {
  settings.set(state, value)
}

/** Permanent material added through material/add_material, by media_id (the material endpoints' own store). */
export function permanentMaterial(state: FakeState): Map<string, FakeMaterial> {
  return materials(state)
}

/** A temporary media id for console media: a new one on every read, valid 3 days. */
function mint(state: FakeState, type: 'image' | 'voice', file: { data: Buffer; filename: string; contentType: string }): string {
  const mediaId = newMediaId()
  state.media.set(mediaId, { mediaId, type, contentType: file.contentType, filename: file.filename, data: file.data, createdAt: state.now() })
  return mediaId
}

/** A reply in the autoreply endpoint's shape: `{type, content}`, news with `news_info`. */
function autoreplyItem(state: FakeState, reply: ConsoleReply): Record<string, unknown> {
  switch (reply.type) {
    case 'text':
      return { type: 'text', content: reply.content }
    case 'img':
      return { type: 'img', content: mint(state, 'image', reply.file) }
    case 'voice':
      return { type: 'voice', content: mint(state, 'voice', reply.file) }
    case 'video':
      return { type: 'video', content: reply.url }
    case 'news':
      return { type: 'news', content: reply.mediaId, news_info: { list: reply.articles } }
  }
}

export function autoreplyInfo(_req: FakeRequest, state: FakeState): FakeResponse {
  const s = consoleSettings(state)
  return {
    json: {
      is_add_friend_reply_open: s.isAddFriendReplyOpen,
      is_autoreply_open: s.isAutoreplyOpen,
      ...(s.addFriend === undefined ? {} : { add_friend_autoreply_info: autoreplyItem(state, s.addFriend) }),
      ...(s.messageDefault === undefined ? {} : { message_default_autoreply_info: autoreplyItem(state, s.messageDefault) }),
      keyword_autoreply_info: {
        list: s.keywordRules.map((rule) => ({
          rule_name: rule.rule_name,
          create_time: rule.create_time,
          reply_mode: rule.reply_mode,
          keyword_list_info: rule.keywords.map((k) => ({ type: 'text', match_mode: k.match_mode, content: k.content })),
          reply_list_info: rule.replies.map((r) => autoreplyItem(state, r)),
        })),
      },
    },
  }
}

/** A console button in the selfmenu shape: messages in `value` (news also in `news_info`), pages in `url`. */
function menuButton(state: FakeState, button: ConsoleButton): Record<string, unknown> {
  if ('sub_button' in button) return { name: button.name, sub_button: { list: button.sub_button.map((b) => menuButton(state, b)) } }
  switch (button.type) {
    case 'view':
      return { type: 'view', name: button.name, url: button.url }
    case 'miniprogram':
      return { type: 'miniprogram', name: button.name, url: button.url, appid: button.appid, pagepath: button.pagepath }
    case 'text':
      return { type: 'text', name: button.name, value: button.content }
    case 'img':
      return { type: 'img', name: button.name, value: mint(state, 'image', button.file) }
    case 'voice':
      return { type: 'voice', name: button.name, value: mint(state, 'voice', button.file) }
    case 'video':
      return { type: 'video', name: button.name, value: button.url }
    case 'news':
      return { type: 'news', name: button.name, value: button.mediaId, news_info: { list: button.articles } }
  }
}

/** The API menu once one was created (menu/create replaces the console's), else the console menu. */
export function consoleSelfMenuInfo(req: FakeRequest, state: FakeState): FakeResponse {
  if (state.defaultMenu !== undefined) return selfMenuInfo(req, state)
  const menu = consoleSettings(state).menu
  if (menu === undefined) return { json: { is_menu_open: 0 } }
  return { json: { is_menu_open: 1, selfmenu_info: { button: menu.map((b) => menuButton(state, b)) } } }
}
