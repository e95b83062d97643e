/**
 * API commands: `wxmp token`, `wxmp menu push|show|delete`, `wxmp send`, `wxmp user`. They
 * share the server's store and key namespace, so they use (and refresh) the same token as a
 * running server. Each is a function of (argv, ctx) returning an exit code; cli/main.ts wires
 * them to the command line.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { WechatApi } from '../../api/client.js'
import { WechatApiError } from '../../api/errors.js'
import { createWechatApiFromConfig } from '../../api/from-config.js'
import { validateMatchRule, validateMenu, type MatchRule, type Menu } from '../../api/menu-limits.js'
import { WxmpError } from '../../errors.js'
import { openSharedStore } from '../../server/app.js'
import type { WxmpConfig } from '../../server/config.js'

export interface ApiCommandContext {
  config: WxmpConfig
  print: (line: string) => void
  /** Where usage errors go (default: print). */
  printErr?: (line: string) => void
  /** A ready client (tests); otherwise one is built from config with openSharedStore(config). */
  api?: WechatApi
}

export const API_USAGE = `wxmp token [--refresh] [--force] [--json]
  Prints a valid access_token (cached in the shared store); --refresh fetches a new one,
  --force also sends stable_token force_refresh (kills the old token everywhere, 20/day).
wxmp menu push <menu.json> [--dry-run] | wxmp menu show | wxmp menu delete
  Publishes a menu file (checked against WeChat's limits first; with "matchrule" it is a
  conditional menu), prints the current menus, or deletes them all.
wxmp send <openid> <text…>
  Sends a customer-service text message (the user must have written in the last 48 hours).
wxmp user <openid>
  Prints what WeChat knows about a follower.`

function usage(ctx: ApiCommandContext, line: string): number {
  ;(ctx.printErr ?? ctx.print)(`wxmp: usage: ${line}`)
  return 2
}

async function withApi(ctx: ApiCommandContext, run: (api: WechatApi) => Promise<number>): Promise<number> {
  if (ctx.api !== undefined) return run(ctx.api)
  const store = openSharedStore(ctx.config)
  try {
    return await run(createWechatApiFromConfig(ctx.config, store))
  } finally {
    await store.close()
  }
}

/** `wxmp token [--refresh] [--force] [--json]` */
export async function runTokenCommand(argv: string[], ctx: ApiCommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { refresh: { type: 'boolean', default: false }, force: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  })
  if (positionals.length > 0) return usage(ctx, 'wxmp token [--refresh] [--force] [--json]')
  return withApi(ctx, async (api) => {
    const token = values.refresh || values.force ? await api.token.refresh({ force: values.force }) : await api.token.get()
    if (!values.json) {
      ctx.print(token)
      return 0
    }
    const record = await api.token.peek()
    ctx.print(
      JSON.stringify({
        access_token: token,
        ...(record === undefined || record.value !== token
          ? {}
          : { expires_at: new Date(record.expiresAt).toISOString(), refresh_at: new Date(record.refreshAt).toISOString(), fetched_at: new Date(record.fetchedAt).toISOString() }),
      }),
    )
    return 0
  })
}

/** Accepts what `menu show` prints as well as a plain `{ "button": [...] }`. */
function menuFromFile(value: unknown): Menu & { matchrule?: MatchRule } {
  const v = value as { menu?: { button?: unknown }; button?: unknown; matchrule?: unknown } | null
  if (v !== null && typeof v === 'object' && v.button === undefined && v.menu !== undefined) {
    if ((value as { conditionalmenu?: unknown[] }).conditionalmenu?.length) {
      throw new WxmpError('WX_ERR_API_INPUT', 'the file holds a default menu and conditional menus: push the default one ({"button": …}) and each conditional menu ({"button": …, "matchrule": …}) separately')
    }
    return { button: v.menu.button as Menu['button'] }
  }
  return value as Menu & { matchrule?: MatchRule }
}

/** `wxmp menu push <file> [--dry-run]` / `wxmp menu show` / `wxmp menu delete` */
export async function runMenuCommand(argv: string[], ctx: ApiCommandContext): Promise<number> {
  const [sub, ...rest] = argv
  const { values, positionals } = parseArgs({ args: rest, options: { 'dry-run': { type: 'boolean', default: false } }, allowPositionals: true })
  if (sub === 'push') {
    const [file] = positionals
    if (file === undefined || positionals.length > 1) return usage(ctx, 'wxmp menu push <menu.json> [--dry-run]')
    let parsed: unknown
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'))
    } catch (err) {
      throw new WxmpError('WX_ERR_API_INPUT', `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${(err as Error).message})`}`)
    }
    const menu = menuFromFile(parsed)
    validateMenu(menu)
    if (menu.matchrule !== undefined) validateMatchRule(menu.matchrule)
    const buttons = menu.button.length
    if (values['dry-run']) {
      ctx.print(`${file}: valid ${menu.matchrule === undefined ? 'menu' : 'conditional menu'} with ${buttons} top-level button${buttons === 1 ? '' : 's'} (not sent: --dry-run)`)
      return 0
    }
    return withApi(ctx, async (api) => {
      if (menu.matchrule !== undefined) {
        const menuid = await api.menu.addConditional({ button: menu.button, matchrule: menu.matchrule })
        ctx.print(`conditional menu published (menuid ${menuid}); clients pick it up within about 5 minutes`)
      } else {
        await api.menu.create({ button: menu.button })
        ctx.print(`menu published (${buttons} top-level button${buttons === 1 ? '' : 's'}); clients pick it up within about 5 minutes`)
      }
      return 0
    })
  }
  if (positionals.length > 0 || values['dry-run']) return usage(ctx, 'wxmp menu show | wxmp menu delete')
  if (sub === 'show') {
    return withApi(ctx, async (api) => {
      try {
        ctx.print(JSON.stringify(await api.menu.get(), null, 2))
      } catch (err) {
        if (err instanceof WechatApiError && err.errcode === 46003) {
          ctx.print('no menu has been created through the API (a menu made in the console shows in get_current_selfmenu_info only)')
          return 0
        }
        throw err
      }
      return 0
    })
  }
  if (sub === 'delete') {
    return withApi(ctx, async (api) => {
      await api.menu.delete()
      ctx.print('deleted the default menu and every conditional menu')
      return 0
    })
  }
  return usage(ctx, 'wxmp menu push <menu.json> | wxmp menu show | wxmp menu delete')
}

/** `wxmp send <openid> <text…>` */
export async function runSendCommand(argv: string[], ctx: ApiCommandContext): Promise<number> {
  const [openid, ...words] = argv
  const text = words.join(' ')
  if (openid === undefined || text.trim() === '') return usage(ctx, 'wxmp send <openid> <text…>')
  return withApi(ctx, async (api) => {
    await api.customerService.sendText(openid, text)
    ctx.print(`sent to ${openid}`)
    return 0
  })
}

/** `wxmp user <openid>` */
export async function runUserCommand(argv: string[], ctx: ApiCommandContext): Promise<number> {
  const [openid, ...extra] = argv
  if (openid === undefined || extra.length > 0) return usage(ctx, 'wxmp user <openid>')
  return withApi(ctx, async (api) => {
    const info = await api.user.info(openid)
    ctx.print(JSON.stringify(info, null, 2))
    if (info.subscribe === 0) ctx.print('(this user does not follow the account)')
    return 0
  })
}
