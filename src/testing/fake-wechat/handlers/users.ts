/** Users and tags (protocol.md §9.2, §9.3). Users are seeded by the test with `fake.addUser`. */
import type { FakeState, FakeUser } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { OPENID, isNonEmptyString, ok, readJson } from './body.js'

function publicInfo(user: FakeUser | undefined, openid: string, lang: string): Record<string, unknown> {
  if (user === undefined || user.subscribe === 0) return { subscribe: 0, openid }
  return {
    subscribe: 1,
    openid: user.openid,
    language: lang,
    subscribe_time: user.subscribe_time,
    ...(user.unionid === undefined ? {} : { unionid: user.unionid }),
    remark: user.remark,
    groupid: 0,
    tagid_list: user.tagid_list,
    subscribe_scene: user.subscribe_scene,
    qr_scene: user.qr_scene,
    qr_scene_str: user.qr_scene_str,
  }
}

export function userInfo(req: FakeRequest, state: FakeState): FakeResponse {
  const openid = req.query.get('openid') ?? ''
  if (!OPENID.test(openid)) return state.error(40003)
  return { json: publicInfo(state.users.get(openid), openid, req.query.get('lang') ?? 'zh_CN') }
}

export function userBatchInfo(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const list = parsed.body.user_list
  if (!Array.isArray(list) || list.length === 0 || list.length > 100) return state.error(40032)
  const out: unknown[] = []
  for (const item of list as Array<{ openid?: unknown; lang?: unknown }>) {
    if (!isNonEmptyString(item?.openid) || !OPENID.test(item.openid)) return state.error(40003)
    out.push(publicInfo(state.users.get(item.openid), item.openid, typeof item.lang === 'string' ? item.lang : 'zh_CN'))
  }
  return { json: { user_info_list: out } }
}

/** Pages of `userPageSize` followers after `next_openid`; the last page has next_openid "". */
function page(openids: string[], after: string | null, size: number): { count: number; data?: { openid: string[] }; next_openid: string } {
  let start = 0
  if (after !== null && after !== '') {
    const index = openids.indexOf(after)
    start = index < 0 ? openids.length : index + 1
  }
  const slice = openids.slice(start, start + size)
  const more = start + size < openids.length
  return { count: slice.length, ...(slice.length === 0 ? {} : { data: { openid: slice } }), next_openid: more ? slice[slice.length - 1]! : '' }
}

export function userList(req: FakeRequest, state: FakeState): FakeResponse {
  const followers = [...state.users.values()].filter((u) => u.subscribe === 1).map((u) => u.openid)
  const after = req.query.get('next_openid')
  if (after !== null && after !== '' && !OPENID.test(after)) return state.error(40003)
  return { json: { total: followers.length, ...page(followers, after, state.userPageSize) } }
}

export function userRemark(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { openid, remark } = parsed.body
  const user = isNonEmptyString(openid) ? state.users.get(openid) : undefined
  if (user === undefined) return state.error(40003)
  if (typeof remark !== 'string' || [...remark].length > 30) return state.error(47001, 'data format error hint: [remark must be at most 30 characters]')
  user.remark = remark
  return ok()
}

function tagName(state: FakeState, name: unknown): FakeResponse | undefined {
  if (!isNonEmptyString(name)) return state.error(45157)
  if ([...name].length > 30) return state.error(45158)
  if ([...state.tags.values()].some((t) => t.name === name)) return state.error(45157)
  return undefined
}

export function tagCreate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const name = (parsed.body.tag as { name?: unknown } | undefined)?.name
  const bad = tagName(state, name)
  if (bad !== undefined) return bad
  if (state.tags.size >= 100) return state.error(45056)
  const tag = { id: state.nextTagId++, name: name as string }
  state.tags.set(tag.id, tag)
  return { json: { tag } }
}

export function tagList(_req: FakeRequest, state: FakeState): FakeResponse {
  const users = [...state.users.values()]
  return { json: { tags: [...state.tags.values()].map((t) => ({ ...t, count: users.filter((u) => u.tagid_list.includes(t.id)).length })) } }
}

function knownTag(state: FakeState, id: unknown): FakeResponse | number {
  const n = Number(id)
  if (!Number.isInteger(n) || !state.tags.has(n)) return state.error(45159)
  return n
}

export function tagUpdate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const tag = parsed.body.tag as { id?: unknown; name?: unknown } | undefined
  if (tag?.id === 0 || tag?.id === 1 || tag?.id === 2) return state.error(45058)
  const id = knownTag(state, tag?.id)
  if (typeof id !== 'number') return id
  const bad = tagName(state, tag?.name)
  if (bad !== undefined) return bad
  state.tags.set(id, { id, name: tag!.name as string })
  return ok()
}

export function tagDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const raw = (parsed.body.tag as { id?: unknown } | undefined)?.id
  if (raw === 0 || raw === 1 || raw === 2) return state.error(45058)
  const id = knownTag(state, raw)
  if (typeof id !== 'number') return id
  state.tags.delete(id)
  for (const user of state.users.values()) user.tagid_list = user.tagid_list.filter((t) => t !== id)
  return ok()
}

export function tagMembers(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const id = knownTag(state, parsed.body.tagid)
  if (typeof id !== 'number') return id
  const members = [...state.users.values()].filter((u) => u.tagid_list.includes(id)).map((u) => u.openid)
  const after = typeof parsed.body.next_openid === 'string' ? parsed.body.next_openid : null
  return { json: page(members, after, state.userPageSize) }
}

function batch(req: FakeRequest, state: FakeState, tagging: boolean): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const list = parsed.body.openid_list
  if (!Array.isArray(list) || list.length === 0 || list.length > 50) return state.error(40032)
  const id = knownTag(state, parsed.body.tagid)
  if (typeof id !== 'number') return id
  const users: FakeUser[] = []
  for (const openid of list) {
    const user = typeof openid === 'string' ? state.users.get(openid) : undefined
    if (user === undefined) return state.error(40003)
    if (tagging && !user.tagid_list.includes(id) && user.tagid_list.length >= 20) return state.error(45059)
    users.push(user)
  }
  for (const user of users) {
    user.tagid_list = tagging ? [...new Set([...user.tagid_list, id])] : user.tagid_list.filter((t) => t !== id)
  }
  return ok()
}

export const tagBatchTagging = (req: FakeRequest, state: FakeState) => batch(req, state, true)
export const tagBatchUntagging = (req: FakeRequest, state: FakeState) => batch(req, state, false)

export function tagIdList(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const openid = parsed.body.openid
  const user = isNonEmptyString(openid) ? state.users.get(openid) : undefined
  if (user === undefined) return state.error(40003)
  return { json: { tagid_list: user.tagid_list } }
}
