/** User tags (用户标签, protocol.md §9.3). */
import type { ApiCaller } from '../caller.js'
import type { FollowerPage } from './user.js'
import { invalidInput, requireInteger, requireOpenid, requireString } from './input.js'

export interface Tag {
  id: number
  name: string
  count?: number
}

export const TAG_NAME_MAX_CHARS = 30
export const TAG_BATCH_LIMIT = 50

/**
 * @example
 * const tag = await api.tag.create('VIP')
 * await api.tag.tagUsers(tag.id, [openid])
 */
export class TagApi {
  constructor(private readonly api: ApiCaller) {}

  async create(name: string): Promise<Tag> {
    const result = await this.api.call<{ tag: Tag }>('/cgi-bin/tags/create', { tag: { name: requireString('tag name', name, { maxChars: TAG_NAME_MAX_CHARS }) } })
    return result.tag
  }

  async list(): Promise<Tag[]> {
    const result = await this.api.call<{ tags?: Tag[] }>('/cgi-bin/tags/get')
    return result.tags ?? []
  }

  async update(id: number, name: string): Promise<void> {
    await this.api.call('/cgi-bin/tags/update', { tag: { id: requireInteger('tag id', id, 0, 2 ** 31), name: requireString('tag name', name, { maxChars: TAG_NAME_MAX_CHARS }) } })
  }

  async delete(id: number): Promise<void> {
    await this.api.call('/cgi-bin/tags/delete', { tag: { id: requireInteger('tag id', id, 0, 2 ** 31) } })
  }

  /** One page of the followers carrying a tag. */
  async members(id: number, nextOpenid = ''): Promise<FollowerPage> {
    const result = await this.api.call<{ count?: number; data?: { openid?: string[] }; next_openid?: string }>('/cgi-bin/user/tag/get', {
      tagid: requireInteger('tag id', id, 0, 2 ** 31),
      next_openid: nextOpenid,
    })
    const openids = result.data?.openid ?? []
    return { total: openids.length, count: result.count ?? openids.length, openids, nextOpenid: result.next_openid ?? '' }
  }

  /** Tags up to 50 users at once. */
  async tagUsers(id: number, openids: string[]): Promise<void> {
    await this.api.call('/cgi-bin/tags/members/batchtagging', { openid_list: checkBatch(openids), tagid: requireInteger('tag id', id, 0, 2 ** 31) })
  }

  async untagUsers(id: number, openids: string[]): Promise<void> {
    await this.api.call('/cgi-bin/tags/members/batchuntagging', { openid_list: checkBatch(openids), tagid: requireInteger('tag id', id, 0, 2 ** 31) })
  }

  /** The tag ids one user carries. */
  async tagsOfUser(openid: string): Promise<number[]> {
    const result = await this.api.call<{ tagid_list?: number[] }>('/cgi-bin/tags/getidlist', { openid: requireOpenid(openid) })
    return result.tagid_list ?? []
  }
}

function checkBatch(openids: string[]): string[] {
  if (!Array.isArray(openids) || openids.length === 0 || openids.length > TAG_BATCH_LIMIT) {
    invalidInput(`tagging takes 1–${TAG_BATCH_LIMIT} OpenIDs per call, got ${Array.isArray(openids) ? openids.length : typeof openids} (WeChat answers 40032)`)
  }
  return openids.map((o, i) => requireOpenid(o, `openids[${i}]`))
}
