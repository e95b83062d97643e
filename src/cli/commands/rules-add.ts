/**
 * `wxmp rules add`: command-line flags → one rule. One trigger flag and one reply flag; the
 * rest is optional. Anything the flags cannot say goes through `--json` (the rule as JSON) or a
 * rules file (`wxmp rules import file.yaml`). The rule is then checked like any other.
 */
import { parseArgs } from 'node:util'
import { WxmpError } from '../../errors.js'
import type { RuleInput, RuleReply, RuleSingleReply, RuleTrigger, TimeWindow, Weekday } from '../../rules/types.js'
import { WEEKDAYS } from '../../rules/types.js'

export const RULES_ADD_USAGE = `wxmp rules add <trigger> <reply> [--id ID] [--name NAME] [--priority N] [--disabled]
                [--hours HH:MM-HH:MM] [--days mon-fri] [--timezone Asia/Shanghai] [--cooldown SECONDS]
  Adds a rule (it answers within a second on every running instance).
  trigger: --exact WORD (repeat for more) | --contains WORD (repeatable; both may be combined)
           | --regex PATTERN [--flags i] | --follow [--scene S] | --scan [--scene S] | --click KEY
           | --type image (repeatable: image, voice, video, shortvideo, location, link, text)
           | --default (a message nothing else answered)
  reply:   --text TEXT (placeholders {text} {scene} {key} {openid} {match})
           | --image MEDIA_ID | --voice MEDIA_ID | --video MEDIA_ID [--title T] [--description D]
           | --news-title T [--news-description D] [--news-url URL] [--news-pic URL]
           | --music-thumb MEDIA_ID [--title T] [--description D] [--music-url URL] [--hq-music-url URL]
           | --random TEXT (repeat: one at random) | --all TEXT (repeat: every one, in order) | --pass
  or:      --json '{"trigger": {...}, "reply": {...}}' (the whole rule, as in a rules file)
  Without --priority the rule ranks above every other one (the newest wins, as in the console).`

const OPTIONS = {
  id: { type: 'string' },
  name: { type: 'string' },
  priority: { type: 'string' },
  disabled: { type: 'boolean' },
  exact: { type: 'string', multiple: true },
  contains: { type: 'string', multiple: true },
  regex: { type: 'string' },
  flags: { type: 'string' },
  follow: { type: 'boolean' },
  scan: { type: 'boolean' },
  scene: { type: 'string' },
  click: { type: 'string' },
  type: { type: 'string', multiple: true },
  default: { type: 'boolean' },
  text: { type: 'string' },
  image: { type: 'string' },
  voice: { type: 'string' },
  video: { type: 'string' },
  title: { type: 'string' },
  description: { type: 'string' },
  'news-title': { type: 'string' },
  'news-description': { type: 'string' },
  'news-url': { type: 'string' },
  'news-pic': { type: 'string' },
  'music-thumb': { type: 'string' },
  'music-url': { type: 'string' },
  'hq-music-url': { type: 'string' },
  random: { type: 'string', multiple: true },
  all: { type: 'string', multiple: true },
  pass: { type: 'boolean' },
  json: { type: 'string' },
  hours: { type: 'string', multiple: true },
  days: { type: 'string' },
  timezone: { type: 'string' },
  cooldown: { type: 'string' },
} as const

function usage(message: string): never {
  throw Object.assign(new TypeError(`${message}\n\n${RULES_ADD_USAGE}`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' })
}

/** The rule the flags describe (not yet checked: the store checks it like any other input). */
export function ruleFromFlags(argv: string[]): unknown {
  const { values: v, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  if (positionals.length > 0) usage(`unexpected ${JSON.stringify(positionals[0])}: every part of a rule is a flag (quote texts with spaces)`)
  if (v.json !== undefined) {
    try {
      return JSON.parse(v.json) as unknown
    } catch (err) {
      throw new WxmpError('WX_ERR_RULE_INVALID', `--json is not valid JSON (${(err as Error).message})`)
    }
  }
  const rule: Partial<RuleInput> = { trigger: trigger(v), reply: reply(v) }
  if (v.id !== undefined) rule.id = v.id
  if (v.name !== undefined) rule.name = v.name
  if (v.disabled) rule.enabled = false
  if (v.priority !== undefined) rule.priority = number('--priority', v.priority, true)
  if (v.cooldown !== undefined) rule.cooldownSec = number('--cooldown', v.cooldown, false)
  if (v.hours !== undefined || v.days !== undefined || v.timezone !== undefined) {
    const days = v.days === undefined ? undefined : parseDays(v.days)
    const windows: TimeWindow[] = (v.hours ?? ['00:00-24:00']).map((h) => {
      const m = /^(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})$/.exec(h)
      if (m === null) usage(`--hours ${JSON.stringify(h)}: use HH:MM-HH:MM, e.g. 09:00-18:00 (22:00-06:00 runs past midnight)`)
      return { from: m[1]!.padStart(5, '0'), to: m[2]!.padStart(5, '0'), ...(days === undefined ? {} : { days }) }
    })
    rule.schedule = { ...(v.timezone === undefined ? {} : { timezone: v.timezone }), windows }
  }
  return rule
}

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values']

function trigger(v: Values): RuleTrigger {
  const found: RuleTrigger[] = []
  if (v.exact !== undefined || v.contains !== undefined) found.push({ type: 'keyword', ...(v.exact === undefined ? {} : { exact: v.exact }), ...(v.contains === undefined ? {} : { contains: v.contains }) })
  if (v.regex !== undefined) found.push({ type: 'regex', pattern: v.regex, ...(v.flags === undefined ? {} : { flags: v.flags }) })
  if (v.follow) found.push({ type: 'follow', ...(v.scene === undefined ? {} : { scene: v.scene }) })
  if (v.scan) found.push({ type: 'scan', ...(v.scene === undefined ? {} : { scene: v.scene }) })
  if (v.click !== undefined) found.push({ type: 'click', key: v.click })
  if (v.type !== undefined) found.push({ type: 'message', msgTypes: v.type as Extract<RuleTrigger, { type: 'message' }>['msgTypes'] })
  if (v.default) found.push({ type: 'default' })
  if (found.length !== 1) usage(found.length === 0 ? 'say when the rule answers: --exact, --contains, --regex, --follow, --scan, --click, --type or --default' : 'give one trigger (--exact and --contains may go together)')
  if (v.scene !== undefined && !v.follow && !v.scan) usage('--scene goes with --follow or --scan')
  return found[0]!
}

function reply(v: Values): RuleReply {
  const found: RuleReply[] = []
  if (v.text !== undefined) found.push({ type: 'text', content: v.text })
  if (v.image !== undefined) found.push({ type: 'image', mediaId: v.image })
  if (v.voice !== undefined) found.push({ type: 'voice', mediaId: v.voice })
  if (v.video !== undefined) found.push({ type: 'video', mediaId: v.video, ...opt('title', v.title), ...opt('description', v.description) })
  if (v['news-title'] !== undefined) {
    found.push({ type: 'news', articles: [{ title: v['news-title'], ...opt('description', v['news-description']), ...opt('url', v['news-url']), ...opt('picUrl', v['news-pic']) }] })
  }
  if (v['music-thumb'] !== undefined) found.push({ type: 'music', thumbMediaId: v['music-thumb'], ...opt('title', v.title), ...opt('description', v.description), ...opt('musicUrl', v['music-url']), ...opt('hqMusicUrl', v['hq-music-url']) })
  const texts = (list: string[]): RuleSingleReply[] => list.map((content) => ({ type: 'text', content }))
  if (v.random !== undefined) found.push({ type: 'random', replies: texts(v.random) })
  if (v.all !== undefined) found.push({ type: 'all', replies: texts(v.all) })
  if (v.pass) found.push({ type: 'pass' })
  if (found.length !== 1) usage(found.length === 0 ? 'say what the rule answers: --text, --image, --voice, --video, --news-title, --music-thumb, --random, --all or --pass' : 'give one reply')
  return found[0]!
}

function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }
}

function number(flag: string, raw: string, negative: boolean): number {
  if (!(negative ? /^-?\d+$/ : /^\d+$/).test(raw)) usage(`${flag} must be a whole number, got ${JSON.stringify(raw)}`)
  return Number(raw)
}

/** `mon-fri`, `sat,sun`, `mon,wed-fri` → days. */
function parseDays(raw: string): Weekday[] {
  const days = new Set<Weekday>()
  for (const part of raw.toLowerCase().split(',')) {
    const [from, to = from] = part.trim().split('-') as [string, string?]
    const a = WEEKDAYS.indexOf(from as Weekday)
    const b = WEEKDAYS.indexOf(to as Weekday)
    if (a < 0 || b < 0) usage(`--days ${JSON.stringify(raw)}: use ${WEEKDAYS.join(', ')}, ranges (mon-fri) and commas`)
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(WEEKDAYS[d]!)
      if (d === b) break
    }
  }
  return WEEKDAYS.filter((d) => days.has(d))
}
