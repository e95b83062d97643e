/** Users (protocol.md §9.2): info, batch info, the follower list with paging, remarks. */
import type { ApiCaller } from '../caller.js'
import { invalidInput, requireOpenid } from './input.js'

export type Lang = 'zh_CN' | 'zh_TW' | 'en'

/** `subscribe: 0` means not following, and the other fields are absent. */
export interface UserInfo {
  subscribe: 0 | 1
  openid: string
  language?: string
  subscribe_time?: number
  unionid?: string
  remark?: string
  groupid?: number
  tagid_list?: number[]
  subscribe_scene?: string
  qr_scene?: number
  qr_scene_str?: string
}

export interface FollowerPage {
  total: number
  count: number
  openids: string[]
  /** Pass to the next `list` call; empty on the last page. */
  nextOpenid: string
}

export const BATCH_INFO_LIMIT = 100

/**
 * @example
 * const info = await api.user.info(openid)
 * for await (const openid of api.user.all()) console.log(openid)
 */
export class UserApi {
  constructor(private readonly api: ApiCaller) {}

  async info(openid: string, lang: Lang = 'zh_CN'): Promise<UserInfo> {
    return this.api.call<UserInfo>('/cgi-bin/user/info', undefined, { query: { openid: requireOpenid(openid), lang } })
  }

  /** Up to 100 users per call. */
  async batchInfo(openids: string[], lang: Lang = 'zh_CN'): Promise<UserInfo[]> {
    if (!Array.isArray(openids) || openids.length === 0 || openids.length > BATCH_INFO_LIMIT) {
      invalidInput(`batchInfo takes 1–${BATCH_INFO_LIMIT} OpenIDs, got ${Array.isArray(openids) ? openids.length : typeof openids}: split the list`)
    }
    const result = await this.api.call<{ user_info_list?: UserInfo[] }>('/cgi-bin/user/info/batchget', {
      user_list: openids.map((openid, i) => ({ openid: requireOpenid(openid, `openids[${i}]`), lang })),
    })
    return result.user_info_list ?? []
  }

  /** One page of followers (up to 10 000), starting after `nextOpenid`. */
  async list(nextOpenid?: string): Promise<FollowerPage> {
    const result = await this.api.call<{ total?: number; count?: number; data?: { openid?: string[] }; next_openid?: string }>('/cgi-bin/user/get', undefined, {
      query: { next_openid: nextOpenid === undefined || nextOpenid === '' ? undefined : requireOpenid(nextOpenid, 'nextOpenid') },
    })
    return { total: result.total ?? 0, count: result.count ?? 0, openids: result.data?.openid ?? [], nextOpenid: result.next_openid ?? '' }
  }

  /** Every follower's OpenID, page after page. */
  async *all(): AsyncGenerator<string> {
    let next: string | undefined
    const seen = new Set<string>()
    for (;;) {
      const page = await this.list(next)
      for (const openid of page.openids) yield openid
      // an empty page, or a cursor that does not move, ends the walk (no endless loop on a bad answer)
      if (page.count === 0 || page.openids.length === 0 || page.nextOpenid === '' || seen.has(page.nextOpenid)) return
      seen.add(page.nextOpenid)
      next = page.nextOpenid
    }
  }

  /** Sets the remark (备注名) shown to the account's operators; ≤ 30 characters. */
  async updateRemark(openid: string, remark: string): Promise<void> {
    if (typeof remark !== 'string') invalidInput('remark must be a string')
    if ([...remark].length > 30) invalidInput(`remark is ${[...remark].length} characters, the limit is 30`)
    await this.api.call('/cgi-bin/user/info/updateremark', { openid: requireOpenid(openid), remark })
  }
}
