/**
 * The menu editor's server side: the live menu (menu/get), and publishing a menu checked by
 * the very function `wxmp menu push` uses (src/api/menu-limits.ts) before it is sent.
 */
import { WechatApiError } from '../../api/errors.js'
import { validateMenu } from '../../api/menu-limits.js'
import { isWxmpError } from '../../errors.js'
import { apiFailure } from '../api-errors.js'
import type { ConsoleDeps } from '../deps.js'
import { ConsoleHttpError, readJson, remoteOf, sendJson } from '../http.js'
import type { Route } from '../router.js'

export function menuRoutes(deps: ConsoleDeps): Route[] {
  const requireApi = () => {
    const api = deps.api()
    if (api === undefined) throw new ConsoleHttpError(409, 'WX_ERR_CONFIG', 'the WeChat API is off: set WECHAT_APPID and WECHAT_APPSECRET', { reason: 'no-api' })
    return api
  }
  return [
    {
      method: 'GET',
      pattern: /^\/menu$/,
      async handle(ctx) {
        const api = requireApi()
        try {
          const live = await api.menu.get()
          sendJson(ctx.res, 200, { menu: live.menu === undefined ? null : { button: live.menu.button }, conditional: live.conditionalmenu?.length ?? 0 })
        } catch (err) {
          // 46003: no menu has been made through the API yet
          if (err instanceof WechatApiError && err.errcode === 46003) return sendJson(ctx.res, 200, { menu: null, conditional: 0 })
          throw apiFailure(err)
        }
      },
    },
    {
      method: 'PUT',
      pattern: /^\/menu$/,
      async handle(ctx) {
        const body = await readJson(ctx.req)
        const menu = { button: body.button }
        try {
          validateMenu(menu)
        } catch (err) {
          if (isWxmpError(err)) throw new ConsoleHttpError(400, err.code, err.message, { reason: 'invalid' })
          throw err
        }
        const api = requireApi()
        try {
          await api.menu.create(menu)
        } catch (err) {
          await deps.audit.record({ operator: ctx.session.user, action: 'menu.publish', target: 'menu', remote: remoteOf(ctx.req), ok: false, detail: { menu, error: err instanceof Error ? err.message : String(err) } })
          throw apiFailure(err)
        }
        await deps.audit.record({ operator: ctx.session.user, action: 'menu.publish', target: 'menu', remote: remoteOf(ctx.req), ok: true, detail: { menu } })
        sendJson(ctx.res, 200, { ok: true, menu })
      },
    },
  ]
}
