/**
 * The WeChat API side: this machine's clock against WeChat's, the access token (with the fix
 * for 40164 and 40125), getcallbackip, and which permissions the account has, hence how a reply
 * after the 5-second deadline reaches the user. Every call here reads; nothing is sent to a
 * follower and nothing in the account changes.
 */
import { HttpError, WechatApiError } from '../api/errors.js'
import type { WechatApi } from '../api/client.js'
import type { CheckResult } from './report.js'
import type { LateMode } from '../pipeline/late/settings.js'

export interface ApiCheckContext {
  /** undefined when WECHAT_APPID / WECHAT_APPSECRET are not set. */
  api: WechatApi | undefined
  apiBase: string
  /** WECHAT_TIMESTAMP_TOLERANCE (seconds; 0 = no check). */
  toleranceSec: number
  /** WECHAT_LATE_REPLY. */
  late: LateMode
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

const NO_API = 'set WECHAT_APPID and WECHAT_APPSECRET (基本配置) to check the API side'

/**
 * WeChat signs each delivery with its own clock and the server refuses timestamps outside
 * ±tolerance of its clock: compare this machine with the Date header WeChat's API answers
 * with (one second resolution, so a skew under 2 s reads as 0).
 */
export async function checkClock(ctx: ApiCheckContext): Promise<CheckResult> {
  const title = 'clock'
  if (ctx.api === undefined) return { id: 'clock', title, status: 'skip', detail: "not compared with WeChat's", advice: NO_API }
  const now = ctx.now ?? Date.now
  const before = now()
  let date: string | null
  try {
    // any answer carries WeChat's Date header: ask for no endpoint, so nothing is counted
    const response = await (ctx.fetch ?? fetch)(`${ctx.apiBase}/`, { signal: AbortSignal.timeout(ctx.timeoutMs) })
    await response.arrayBuffer()
    date = response.headers.get('date')
  } catch (err) {
    return { id: 'clock', title, status: 'fail', detail: `could not reach ${ctx.apiBase} (${(err as Error).message})`, advice: 'this machine must reach the WeChat API over HTTPS for replies after the deadline, menus and tokens: check DNS, the firewall and any outbound proxy' }
  }
  const after = now()
  const theirs = date === null ? Number.NaN : Date.parse(date)
  if (Number.isNaN(theirs)) return { id: 'clock', title, status: 'skip', detail: 'the API answered without a Date header', advice: 'compare the clock with an NTP server (chronyc tracking)' }
  const mine = (before + after) / 2
  const skewSec = Math.abs(mine - theirs) < 2000 ? 0 : Math.round((mine - theirs) / 1000)
  const direction = skewSec > 0 ? 'ahead of' : 'behind'
  const detail = skewSec === 0 ? "within 2 s of WeChat's" : `${Math.abs(skewSec)} s ${direction} WeChat's`
  if (ctx.toleranceSec === 0) return { id: 'clock', title, status: 'ok', detail: `${detail} (the timestamp check is off: WECHAT_TIMESTAMP_TOLERANCE=0)` }
  if (Math.abs(skewSec) * 2 > ctx.toleranceSec) {
    return {
      id: 'clock',
      title,
      status: 'fail',
      detail: `${detail}; the server accepts ±${ctx.toleranceSec} s`,
      advice: `${Math.abs(skewSec) > ctx.toleranceSec ? "WeChat's deliveries are refused as stale now" : 'little margin is left before deliveries are refused as stale'}: sync the clock (chrony or systemd-timesyncd)`,
    }
  }
  return { id: 'clock', title, status: 'ok', detail: `${detail} (the server accepts ±${ctx.toleranceSec} s)` }
}

/** The access token, with the console fix for the errcodes a deployment meets. */
export async function checkToken(ctx: ApiCheckContext): Promise<CheckResult> {
  const title = 'access token'
  if (ctx.api === undefined) return { id: 'token', title, status: 'skip', detail: 'no API credentials', advice: NO_API }
  try {
    // fetched now, not read from the cache: a cached token would hide a wrong AppSecret or a
    // whitelist that no longer holds. stable_token hands back the same token, so nothing breaks
    await ctx.api.token.refresh()
    return { id: 'token', title, status: 'ok', detail: `fetched an access_token for ${ctx.api.appId}` }
  } catch (err) {
    return { id: 'token', title, status: 'fail', ...tokenProblem(err) }
  }
}

function tokenProblem(err: unknown): { detail: string; advice: string } {
  if (err instanceof WechatApiError) {
    const detail = `errcode ${err.errcode}: ${err.errmsg}`
    if (err.errcode === 40164) {
      const ip = /invalid ip ([0-9a-fA-F.:]+)/.exec(err.errmsg)?.[1]
      return { detail, advice: `add ${ip === undefined ? "this server's outbound IP" : `this server's outbound IP ${ip}`} to 公众号后台 → 基本配置 → IP白名单 (every instance's, or the NAT gateway's)` }
    }
    if (err.errcode === 40125) return { detail, advice: 'the AppSecret is wrong (or was reset): copy it from 基本配置 → AppSecret into WECHAT_APPSECRET' }
    if (err.errcode === 40013) return { detail, advice: 'the AppID is wrong: WECHAT_APPID is the wx… AppID from 基本配置, not the gh_… 原始ID' }
    if (err.errcode === 40243) return { detail, advice: 'the AppSecret is frozen: unfreeze it in 基本配置' }
    return { detail, advice: err.hint ?? 'see the errcode in docs/api.md' }
  }
  if (err instanceof HttpError) return { detail: err.message, advice: 'this machine must reach the WeChat API (WECHAT_API_BASE) over HTTPS: check DNS, the firewall and any outbound proxy' }
  return { detail: (err as Error).message, advice: 'see the message above' }
}

/** getcallbackip: the addresses WeChat delivers from, for a firewall in front of the webhook. */
export async function checkCallbackIp(ctx: ApiCheckContext): Promise<CheckResult> {
  const title = 'callback IPs'
  if (ctx.api === undefined) return { id: 'callback-ip', title, status: 'skip', detail: 'no API credentials', advice: NO_API }
  try {
    const ips = await ctx.api.getCallbackIp()
    const shown = ips.slice(0, 3).join(', ') + (ips.length > 3 ? ', …' : '')
    return { id: 'callback-ip', title, status: 'ok', detail: `WeChat delivers from ${ips.length} address${ips.length === 1 ? '' : 'es'} (${shown}): allow them if a firewall filters inbound traffic` }
  } catch (err) {
    return { id: 'callback-ip', title, status: 'fail', ...apiProblem(err) }
  }
}

type Permission = 'granted' | 'denied' | { error: unknown }

/** Calls a read-only endpoint: 48001 means the account lacks the permission; listed errcodes mean it has it. */
async function permission(run: () => Promise<unknown>, grantedErrcodes: number[] = []): Promise<Permission> {
  try {
    await run()
    return 'granted'
  } catch (err) {
    if (err instanceof WechatApiError && err.errcode === 48001) return 'denied'
    if (err instanceof WechatApiError && grantedErrcodes.includes(err.errcode)) return 'granted'
    return { error: err }
  }
}

/**
 * 客服消息 decides how a reply after the deadline reaches the user: through the customer-service
 * API when the account has it; otherwise only a passive reply in time can.
 */
export async function checkPermissions(ctx: ApiCheckContext): Promise<CheckResult[]> {
  if (ctx.api === undefined) {
    return [{ id: 'customer-service', title: 'customer service', status: 'skip', detail: 'permissions not checked', advice: NO_API }]
  }
  const api = ctx.api
  const [service, menus, mass] = await Promise.all([
    permission(() => api.call('/cgi-bin/customservice/getkflist')),
    permission(() => api.call('/cgi-bin/menu/get'), [46003]),
    permission(() => api.call('/cgi-bin/message/mass/speed/get', {})),
  ])
  const results: CheckResult[] = []
  const title = 'customer service'
  if (service === 'granted') {
    const how = ctx.late === 'drop' ? ' (but WECHAT_LATE_REPLY=drop drops it)' : ctx.late === 'retry-window' || ctx.late === 'next-message' ? ` (but WECHAT_LATE_REPLY=${ctx.late} keeps it off that path)` : ''
    results.push({ id: 'customer-service', title, status: 'ok', detail: `客服消息 allowed: a reply after the deadline goes out through the customer-service API${how}` })
  } else if (service === 'denied') {
    results.push(
      ctx.late === 'drop'
        ? { id: 'customer-service', title, status: 'info', detail: 'no 客服消息 permission (48001); late replies are dropped (WECHAT_LATE_REPLY=drop): only answers within the deadline reach the user' }
        : ctx.late !== 'customer-service'
          ? { id: 'customer-service', title, status: 'info', detail: `no 客服消息 permission (48001, e.g. an unverified 订阅号): a slow reply uses WeChat's retries as one ~15 s window, then waits for the user's next message (WECHAT_LATE_REPLY=${ctx.late})` }
          : {
              id: 'customer-service',
              title,
              status: 'fail',
              detail: "no 客服消息 permission (48001): WECHAT_LATE_REPLY=customer-service, so a reply after the deadline cannot be sent",
              advice: "leave WECHAT_LATE_REPLY unset (auto: WeChat's retries and pending answers carry slow replies), or set WECHAT_LATE_REPLY=drop; a verified 服务号 has the permission (docs/deadline.md)",
            },
    )
  } else {
    results.push({ id: 'customer-service', title, status: 'fail', ...apiProblem(service.error) })
  }
  results.push(permissionRow('menus', 'menus', menus, '自定义菜单 API allowed (wxmp menu push)', 'no 自定义菜单 API permission (48001): edit the menu in the console instead'))
  results.push(permissionRow('mass-send', 'mass send', mass, '群发 API allowed', 'no 群发 API permission (48001): mass sends only from the console'))
  return results
}

function permissionRow(id: string, title: string, found: Permission, granted: string, denied: string): CheckResult {
  if (found === 'granted') return { id, title, status: 'ok', detail: granted }
  if (found === 'denied') return { id, title, status: 'info', detail: denied }
  return { id, title, status: 'fail', ...apiProblem(found.error) }
}

function apiProblem(err: unknown): { detail: string; advice: string } {
  if (err instanceof WechatApiError) return { detail: `errcode ${err.errcode}: ${err.errmsg}`, advice: err.hint ?? 'see the errcode in docs/api.md' }
  return tokenProblem(err)
}
