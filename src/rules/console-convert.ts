/**
 * From the MP console's settings to rules and an API menu, without touching anything: the
 * follow reply, the default reply, every keyword rule with its match modes and reply mode,
 * and each menu button whose console action was "send a message" (which an API menu cannot
 * do) becomes a click button answered by a rule. What cannot be converted is listed with the
 * reason, never dropped silently.
 *
 * Conventions (see docs/rules.md, "Importing from the console"):
 * - ids are stable across runs: `console-follow`, `console-default`,
 *   `console-keyword-<create_time>`, `console-menu-<top>[-<sub>]` (the menu key too);
 * - priorities: keyword rules in the console's order, newest first (the documented sample
 *   lists them so); all console rules rank below the rules you made yourself;
 * - the default reply answers a user at most once an hour (the console's 60-minute rule);
 * - a setting switched off in the console is imported switched off.
 */
import type { ConsoleNewsArticle, ConsoleReplyInfo, SelfMenuButton, SelfMenuInfo, AutoReplyInfo } from '../api/groups/autoreply.js'
import { MENU_BUTTON_TYPES, type MenuButton } from '../api/menu-limits.js'
import { escapeBraces } from './render.js'
import type { RuleInput, RuleNewsArticle, RuleSingleReply, RuleTrigger } from './types.js'

export interface ConsoleSnapshot {
  autoreply: AutoReplyInfo
  menu: SelfMenuInfo
}

/** A converted rule before media are kept: images and voices still carry the console's temporary ids. */
export interface ConsoleDraft {
  rule: RuleInput & { id: string; name: string }
  /** Temporary media ids in the rule's replies (to download, fingerprint and copy). */
  media: Array<{ kind: 'image' | 'voice'; tempId: string }>
}

export interface ConsoleConversion {
  drafts: ConsoleDraft[]
  /** The API menu to publish; undefined when the console has no menu open. */
  menu: { button: MenuButton[] } | undefined
  /** True when some menu button was a console message button (so the menu must be published). */
  menuHasConsoleButtons: boolean
  /** What could not be converted, and why. */
  notConverted: Array<{ what: string; why: string }>
  /** Things converted differently from the console, said once each. */
  notes: string[]
}

/** The console's default reply is sent to a user at most once in 60 minutes. */
export const CONSOLE_DEFAULT_COOLDOWN_SEC = 3600
const DEFAULT_COOLDOWN = CONSOLE_DEFAULT_COOLDOWN_SEC

export function convertConsole(snapshot: ConsoleSnapshot): ConsoleConversion {
  const out: ConsoleConversion = { drafts: [], menu: undefined, menuHasConsoleButtons: false, notConverted: [], notes: [] }
  convertMenu(snapshot.menu, out)
  const { autoreply } = snapshot
  if (autoreply.add_friend_autoreply_info !== undefined) {
    single(out, { id: 'console-follow', name: '被关注回复' }, { type: 'follow' }, autoreply.add_friend_autoreply_info, autoreply.is_add_friend_reply_open === 1, '被关注回复 (follow reply)')
  }
  const keywordRules = [...(autoreply.keyword_autoreply_info?.list ?? [])].sort((a, b) => b.create_time - a.create_time)
  const usedIds = new Set<string>()
  for (const rule of keywordRules) {
    let id = `console-keyword-${rule.create_time}`
    for (let n = 2; usedIds.has(id); n++) id = `console-keyword-${rule.create_time}-${n}`
    usedIds.add(id)
    const what = `keyword rule 「${rule.rule_name}」`
    const exact = rule.keyword_list_info.filter((k) => k.match_mode === 'equal').map((k) => k.content)
    const contains = rule.keyword_list_info.filter((k) => k.match_mode === 'contain').map((k) => k.content)
    for (const k of rule.keyword_list_info) {
      if (k.match_mode !== 'equal' && k.match_mode !== 'contain') out.notConverted.push({ what: `${what} keyword ${JSON.stringify(k.content)}`, why: `unknown match_mode ${JSON.stringify(k.match_mode)}` })
    }
    if (exact.length + contains.length === 0) {
      out.notConverted.push({ what, why: 'it has no keyword the rules can match (the console lists none)' })
      continue
    }
    const trigger: RuleTrigger = { type: 'keyword', ...(exact.length === 0 ? {} : { exact }), ...(contains.length === 0 ? {} : { contains }) }
    const replies = rule.reply_list_info.map((r, i) => reply(r, `${what} reply ${i + 1}`, true, out)).filter((r) => r !== undefined)
    if (replies.length === 0) {
      out.notConverted.push({ what, why: 'none of its replies can be converted (see above)' })
      continue
    }
    const combined = replies.length === 1 ? replies[0]! : rule.reply_mode === 'reply_all' ? { type: 'all' as const, replies } : { type: 'random' as const, replies }
    out.drafts.push(draft({ id, name: clip(rule.rule_name || id), trigger, reply: combined }))
  }
  if (autoreply.message_default_autoreply_info !== undefined) {
    single(out, { id: 'console-default', name: '收到消息回复', cooldownSec: DEFAULT_COOLDOWN }, { type: 'default' }, autoreply.message_default_autoreply_info, autoreply.is_autoreply_open === 1, '收到消息回复 (default reply)')
  }
  return out
}

function single(out: ConsoleConversion, base: { id: string; name: string; cooldownSec?: number }, trigger: RuleTrigger, info: ConsoleReplyInfo, open: boolean, what: string): void {
  const converted = reply(info, what, trigger.type === 'default', out)
  if (converted === undefined) return
  if (!open) out.notes.push(`${what} is switched off in the console: imported switched off (wxmp rules enable ${base.id})`)
  out.drafts.push(draft({ ...base, enabled: open, trigger, reply: converted }))
}

function draft(rule: ConsoleDraft['rule']): ConsoleDraft {
  const media: ConsoleDraft['media'] = []
  const replies = rule.reply.type === 'all' || rule.reply.type === 'random' ? rule.reply.replies : [rule.reply]
  for (const r of replies) if (r.type === 'image' || r.type === 'voice') media.push({ kind: r.type, tempId: r.mediaId })
  return { rule, media }
}

/** One console reply as a rule reply; undefined (and listed) when it cannot be one. */
function reply(info: ConsoleReplyInfo, what: string, toMessage: boolean, out: ConsoleConversion): RuleSingleReply | undefined {
  const content = info.content ?? ''
  switch (info.type) {
    case 'text':
      if (content.trim() === '') return fail(out, what, 'the text is empty')
      return { type: 'text', content: escapeBraces(content) }
    case 'img':
    case 'voice':
      if (content === '') return fail(out, what, 'no media id was returned')
      return { type: info.type === 'img' ? 'image' : 'voice', mediaId: content }
    case 'video':
      return fail(out, what, 'WeChat returns a console video as a download link, not a media id a reply can use: upload the video as permanent material and add a rule with --video <media_id>')
    case 'news':
      return news(info.news_info?.list ?? [], what, toMessage, out)
    default:
      return fail(out, what, `unknown reply type ${JSON.stringify(info.type)}`)
  }
}

function news(list: ConsoleNewsArticle[], what: string, toMessage: boolean, out: ConsoleConversion): RuleSingleReply | undefined {
  const articles: RuleNewsArticle[] = list
    .filter((a) => typeof a.title === 'string' && a.title.trim() !== '')
    .map((a) => ({
      title: a.title,
      ...(a.digest ? { description: a.digest } : {}),
      ...(a.cover_url && isHttp(a.cover_url) ? { picUrl: a.cover_url } : {}),
      ...(a.content_url && isHttp(a.content_url) ? { url: a.content_url } : {}),
    }))
  if (articles.length === 0) return fail(out, what, 'the news material has no article with a title')
  const max = toMessage ? 1 : 8
  if (articles.length > max) {
    const dropped = articles.slice(max).map((a) => `「${a.title}」`).join(', ')
    out.notes.push(`${what}: WeChat lets a reply ${toMessage ? 'to a message' : 'to an event'} carry ${max} article${max === 1 ? '' : 's'}; converted with 「${articles[0]!.title}」${max > 1 ? ' and the next ones' : ''}, not with ${dropped}`)
  }
  return { type: 'news', articles: articles.slice(0, max) }
}

function fail(out: ConsoleConversion, what: string, why: string): undefined {
  out.notConverted.push({ what, why })
  return undefined
}

const API_TYPES = new Set<string>(MENU_BUTTON_TYPES)
const API_FIELDS = ['key', 'url', 'appid', 'pagepath', 'media_id', 'article_id'] as const

function convertMenu(info: SelfMenuInfo, out: ConsoleConversion): void {
  const buttons = info.is_menu_open === 1 ? info.selfmenu_info?.button : undefined
  if (buttons === undefined || buttons.length === 0) return
  const converted = buttons.map((b, i) => {
    const subs = subButtons(b)
    if (subs === undefined) return leaf(b, `console-menu-${i + 1}`, [b.name], out)
    return { name: b.name, sub_button: subs.map((s, j) => leaf(s, `console-menu-${i + 1}-${j + 1}`, [b.name, s.name], out)) }
  })
  out.menu = { button: converted }
}

function subButtons(b: SelfMenuButton): SelfMenuButton[] | undefined {
  const subs = b.sub_button
  const list = Array.isArray(subs) ? subs : subs?.list
  return list === undefined || list.length === 0 ? undefined : list
}

/** A button of the API menu; a console message button becomes a click answered by a rule. */
function leaf(b: SelfMenuButton, id: string, path: string[], out: ConsoleConversion): MenuButton {
  const type = b.type ?? ''
  const what = `menu button 「${path.join(' / ')}」`
  if (API_TYPES.has(type)) {
    const kept: MenuButton = { type: type as MenuButton['type'], name: b.name }
    for (const field of API_FIELDS) if (b[field] !== undefined && b[field] !== '') kept[field] = b[field]
    return kept
  }
  out.menuHasConsoleButtons = true
  const click: MenuButton = { type: 'click', name: b.name, key: id }
  const converted = reply({ type: type, ...(b.value === undefined ? {} : { content: b.value }), ...(b.news_info === undefined ? {} : { news_info: b.news_info }) }, what, false, out)
  if (converted === undefined) {
    out.notes.push(`${what} stays in the menu as a click button with key ${id}; nothing answers it until you add a rule (wxmp rules add --click ${id} …)`)
    return click
  }
  out.drafts.push(draft({ id, name: clip(`菜单 ${path.join('/')}`), trigger: { type: 'click', key: id }, reply: converted }))
  return click
}

function clip(name: string): string {
  const chars = [...name]
  return chars.length <= 60 ? name : chars.slice(0, 59).join('') + '…'
}

function isHttp(url: string): boolean {
  return /^https?:\/\/\S+$/i.test(url) && url.length <= 1024
}
