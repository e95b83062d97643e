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

export { sampleConsoleSettings, type ConsoleSettings, type ConsoleButton, type ConsoleReply, type ConsoleKeywordRule, type ConsoleArticle } from './console-sample.js'

const settings = new WeakMap<FakeState, ConsoleSettings>()
const permanent = new WeakMap<FakeState, Map<string, FakeMedia>>()

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

/** Permanent material added through material/add_material, by media_id. */
export function permanentMaterial(state: FakeState): Map<string, FakeMedia> {
  let map = permanent.get(state)
  if (map === undefined) permanent.set(state, (map = new Map()))
  return map
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

const MATERIAL_LIMITS: Record<FakeMedia['type'], { maxBytes: number; extensions: string[] }> = {
  image: { maxBytes: 10 * 1024 * 1024, extensions: ['bmp', 'png', 'jpeg', 'jpg', 'gif'] },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['mp3', 'wma', 'wav', 'amr'] },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
}

/** Permanent material (永久素材): multipart field `media`, `type` in the query; answers media_id (and url for images). */
export async function materialAdd(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const type = req.query.get('type') as FakeMedia['type'] | null
  if (type === null || !(type in MATERIAL_LIMITS)) return state.error(40004)
  const contentType = String(req.headers['content-type'] ?? '')
  if (!/^multipart\/form-data/i.test(contentType)) return state.error(41005)
  let form: FormData
  try {
    form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: req.body }).formData()
  } catch {
    return state.error(41005)
  }
  const file = form.get('media')
  if (file === null || typeof file === 'string') return state.error(41005)
  const filename = file.name ?? ''
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase()
  const limits = MATERIAL_LIMITS[type]
  if (ext === undefined || !limits.extensions.includes(ext)) return state.error(40005)
  const data = Buffer.from(await file.arrayBuffer())
  if (data.length === 0 || data.length > limits.maxBytes) return state.error(40006)
  if (type === 'video' && typeof form.get('description') !== 'string') return state.error(40097, 'invalid args hint: [description missing for a video]')
  const mediaId = newMediaId().slice(0, 43)
  permanentMaterial(state).set(mediaId, { mediaId, type, contentType: file.type || 'application/octet-stream', filename, data, createdAt: state.now() })
  return { json: type === 'image' ? { media_id: mediaId, url: `http://mmbiz.qpic.cn/mmbiz_png/${mediaId}/0?wx_fmt=png` } : { media_id: mediaId } }
}
