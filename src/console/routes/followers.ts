/**
 * Followers: the ones this server saw subscribe (time and scene, from the records), searched
 * by OpenID, filtered by state or by a WeChat tag; one follower's profile from user/info; and
 * tagging.
 */
import { apiFailure } from '../api-errors.js'
import type { ConsoleDeps } from '../deps.js'
import { badInput, ConsoleHttpError, readJson, remoteOf, sendJson } from '../http.js'
import type { Route } from '../router.js'
import type { SqlParam } from '../../records/sql-database.js'

const OPENID = '(?<openid>[A-Za-z0-9_-]{1,64})'

export function followerRoutes(deps: ConsoleDeps): Route[] {
  const requireApi = () => {
    const api = deps.api()
    if (api === undefined) throw new ConsoleHttpError(409, 'WX_ERR_CONFIG', 'the WeChat API is off: set WECHAT_APPID and WECHAT_APPSECRET', { reason: 'no-api' })
    return api
  }
  const tagId = (value: unknown) => {
    const id = Number(value)
    if (!Number.isInteger(id) || id < 0 || id > 2 ** 31) throw badInput('tagId must be a tag id (a whole number)')
    return id
  }
  return [
    {
      method: 'GET',
      pattern: /^\/followers$/,
      async handle(ctx) {
        const q = ctx.url.searchParams
        const search = q.get('q')?.trim().slice(0, 64) ?? ''
        const state = q.get('state') ?? 'all'
        const page = Math.max(0, Math.min(10_000, Number(q.get('page') ?? 0) | 0))
        const where = ['app_id = ?']
        const params: SqlParam[] = [deps.appId]
        if (state === 'subscribed' || state === 'unsubscribed') {
          where.push('subscribed = ?')
          params.push(state === 'subscribed' ? 1 : 0)
        }
        if (search !== '') {
          where.push("openid LIKE ? ESCAPE '\\'")
          params.push(`%${search.replace(/[\\%_]/g, (c) => '\\' + c)}%`)
        }
        let tagged: string[] | undefined
        const tag = q.get('tag')
        if (tag !== null && tag !== '') {
          try {
            tagged = (await requireApi().tag.members(tagId(tag))).openids.slice(0, 1000)
          } catch (err) {
            throw err instanceof ConsoleHttpError ? err : apiFailure(err)
          }
          if (tagged.length === 0) return sendJson(ctx.res, 200, { followers: [], total: 0, page })
          where.push(`openid IN (${tagged.map(() => '?').join(', ')})`)
          params.push(...tagged)
        }
        const pageSize = 50
        const [rows, [count]] = await Promise.all([
          deps.records.db.all(
            `SELECT openid, subscribed, scene, subscribed_at, unsubscribed_at FROM wxmp_followers WHERE ${where.join(' AND ')} ORDER BY COALESCE(subscribed_at, unsubscribed_at) DESC, openid LIMIT ? OFFSET ?`,
            [...params, pageSize, page * pageSize],
          ),
          deps.records.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM wxmp_followers WHERE ${where.join(' AND ')}`, params),
        ])
        sendJson(ctx.res, 200, {
          followers: rows.map((r) => ({
            openid: r.openid,
            subscribed: Number(r.subscribed) === 1,
            scene: r.scene,
            subscribedAt: r.subscribed_at === null ? null : Number(r.subscribed_at),
            unsubscribedAt: r.unsubscribed_at === null ? null : Number(r.unsubscribed_at),
          })),
          total: Number(count?.n ?? 0),
          page,
          pageSize,
        })
      },
    },
    {
      method: 'GET',
      pattern: new RegExp(`^/followers/${OPENID}$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const local = await deps.records.followers.get(deps.appId, openid)
        const api = deps.api()
        let profile: unknown = null
        let profileError: unknown = null
        if (api !== undefined) {
          try {
            profile = await api.user.info(openid)
          } catch (err) {
            const failure = apiFailure(err)
            profileError = { message: failure.message, ...failure.extra }
          }
        }
        sendJson(ctx.res, 200, { openid, local: local ?? null, profile, profileError })
      },
    },
    {
      method: 'GET',
      pattern: /^\/tags$/,
      async handle(ctx) {
        try {
          sendJson(ctx.res, 200, { tags: await requireApi().tag.list() })
        } catch (err) {
          throw err instanceof ConsoleHttpError ? err : apiFailure(err)
        }
      },
    },
    {
      method: 'POST',
      pattern: /^\/tags$/,
      async handle(ctx) {
        const body = await readJson(ctx.req)
        const name = typeof body.name === 'string' ? body.name.trim() : ''
        if (name === '' || [...name].length > 30) throw badInput('a tag name is 1–30 characters')
        const api = requireApi()
        try {
          const tag = await api.tag.create(name)
          await deps.audit.record({ operator: ctx.session.user, action: 'tag.create', target: String(tag.id), remote: remoteOf(ctx.req), ok: true, detail: { name } })
          sendJson(ctx.res, 200, { tag })
        } catch (err) {
          await deps.audit.record({ operator: ctx.session.user, action: 'tag.create', remote: remoteOf(ctx.req), ok: false, detail: { name } })
          throw apiFailure(err)
        }
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/followers/${OPENID}/tags$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        const id = tagId((await readJson(ctx.req)).tagId)
        await changeTag(ctx, openid, id, 'tag.add')
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/followers/${OPENID}/tags/(?<tagId>\\d{1,10})$`),
      async handle(ctx) {
        const { openid } = ctx.params as { openid: string }
        await changeTag(ctx, openid, tagId(ctx.params.tagId), 'tag.remove')
      },
    },
  ]

  async function changeTag(ctx: Parameters<Route['handle']>[0], openid: string, id: number, action: 'tag.add' | 'tag.remove') {
    const api = requireApi()
    try {
      if (action === 'tag.add') await api.tag.tagUsers(id, [openid])
      else await api.tag.untagUsers(id, [openid])
    } catch (err) {
      await deps.audit.record({ operator: ctx.session.user, action, target: openid, remote: remoteOf(ctx.req), ok: false, detail: { tagId: id } })
      throw apiFailure(err)
    }
    await deps.audit.record({ operator: ctx.session.user, action, target: openid, remote: remoteOf(ctx.req), ok: true, detail: { tagId: id } })
    sendJson(ctx.res, 200, { tagIds: await api.tag.tagsOfUser(openid).catch(() => null) })
  }
}
