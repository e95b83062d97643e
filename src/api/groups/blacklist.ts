/** The blacklist (黑名单): blocked users cannot write to the account or see its messages. */
import type { ApiCaller } from '../caller.js'
import type { FollowerPage } from './user.js'
import { invalidInput, requireOpenid } from './input.js'

/** OpenIDs per block/unblock call. */
export const BLACKLIST_BATCH_LIMIT = 20

function checkBatch(openids: string[]): string[] {
  if (!Array.isArray(openids) || openids.length === 0 || openids.length > BLACKLIST_BATCH_LIMIT) {
    invalidInput(`blacklisting takes 1–${BLACKLIST_BATCH_LIMIT} OpenIDs per call, got ${Array.isArray(openids) ? openids.length : typeof openids} (WeChat answers 40032)`)
  }
  return openids.map((o, i) => requireOpenid(o, `openids[${i}]`))
}

/**
 * @example
 * await api.blacklist.block([openid])
 * const { openids } = await api.blacklist.list()
 */
export class BlacklistApi {
  constructor(private readonly api: ApiCaller) {}

  /** One page (up to 10 000) of blocked users, after `beginOpenid`. */
  async list(beginOpenid = ''): Promise<FollowerPage> {
    const result = await this.api.call<{ total?: number; count?: number; data?: { openid?: string[] }; next_openid?: string }>(
      '/cgi-bin/tags/members/getblacklist',
      { begin_openid: beginOpenid === '' ? '' : requireOpenid(beginOpenid, 'beginOpenid') },
      { idempotent: true },
    )
    return { total: result.total ?? 0, count: result.count ?? 0, openids: result.data?.openid ?? [], nextOpenid: result.next_openid ?? '' }
  }

  async block(openids: string[]): Promise<void> {
    await this.api.call('/cgi-bin/tags/members/batchblacklist', { openid_list: checkBatch(openids) })
  }

  async unblock(openids: string[]): Promise<void> {
    await this.api.call('/cgi-bin/tags/members/batchunblacklist', { openid_list: checkBatch(openids) })
  }
}
