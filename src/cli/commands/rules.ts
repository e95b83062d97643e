/**
 * `wxmp rules …`: the rules in the database (DATABASE_URL), for this account (WECHAT_APPID).
 * A change here reaches every running instance within about a second (they poll the version).
 * Every subcommand answers `--help` without touching anything.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import type { WechatApi } from '../../api/client.js'
import { createWechatApiFromConfig } from '../../api/from-config.js'
import { WxmpError } from '../../errors.js'
import { apiConsoleMedia, importConsole, readConsole, type ConsoleImportPlan } from '../../rules/console-import.js'
import { describeRule } from '../../rules/describe.js'
import type { RuleTestInput } from '../../rules/explain.js'
import { formatOf, readRulesFile } from '../../rules/file.js'
import { describeRuleReply } from '../../rules/render.js'
import { openRuleStore, type RuleStore, type RulesImportResult } from '../../rules/store.js'
import { RULE_MESSAGE_TYPES } from '../../rules/types.js'
import { openSharedStore } from '../../server/app.js'
import type { WxmpConfig } from '../../server/config.js'
import { RULES_ADD_USAGE, ruleFromFlags } from './rules-add.js'

export const RULES_SUBCOMMANDS: Record<string, string> = {
  list: `wxmp rules list [--json]
  Every rule, highest priority first: priority, id, when it answers, what, [off], windows.`,
  add: RULES_ADD_USAGE,
  remove: `wxmp rules remove <id>
  Deletes a rule.`,
  enable: `wxmp rules enable <id>
  Switches a rule on.`,
  disable: `wxmp rules disable <id>
  Switches a rule off (it stays stored).`,
  test: `wxmp rules test "<message>" | --click KEY | --follow [--scene S] | --scan SCENE | --type image [--at 2026-03-02T10:00+08:00] [--json]
  Which rule answers the message and the reply it gets, without WeChat. A default rule answers
  only when the code handlers leave the message unanswered.`,
  export: `wxmp rules export [file.json|file.yaml] [--format json|yaml]
  Writes the rules to a file (or prints them); "wxmp rules import" of that file gives them back.`,
  import: `wxmp rules import <file.json|file.yaml> [--replace] [--dry-run]
  Imports a rules file all or nothing: every problem is listed with the rule and the field, and
  nothing is stored unless the whole file passes. Default: add and update by id, keep the others;
  --replace: the stored rules become exactly the file's.
wxmp rules import [--dry-run] [--menu-file data/console-menu.json] [--push-menu]
  Without a file: reads the MP console's current settings (get_current_autoreply_info and
  get_current_selfmenu_info; needs WECHAT_APPID and WECHAT_APPSECRET) and turns them into rules
  (follow reply, default reply, keyword rules) and an API menu (message buttons become click
  keys answered by rules), lists what cannot be converted, and copies console images and voices
  to permanent material. Running it again changes only what changed in the console.
  --menu-file: where the converted menu is written; --push-menu: publish it now (menu/create).`,
}

export const RULES_USAGE = `wxmp rules list | add | remove | enable | disable | test | export | import
  Replies without code (docs/rules.md); wxmp rules <command> --help for each.`

export interface RulesCommandContext {
  config: Pick<WxmpConfig, 'databaseUrl' | 'appId'> & Partial<WxmpConfig>
  print: (line: string) => void
  /** Injected in tests; otherwise opened from config. */
  store?: RuleStore
  api?: WechatApi
  now?: () => number
}

function usageError(message: string): never {
  throw Object.assign(new TypeError(message), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' })
}

export async function runRulesCommand(argv: string[], ctx: RulesCommandContext): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    ctx.print([RULES_USAGE, '', ...Object.values(RULES_SUBCOMMANDS)].join('\n'))
    return sub === undefined ? 2 : 0
  }
  const help = RULES_SUBCOMMANDS[sub]
  if (help === undefined) usageError(`unknown rules command ${JSON.stringify(sub)}: use ${Object.keys(RULES_SUBCOMMANDS).join(', ')}`)
  if (rest.includes('--help') || rest.includes('-h')) {
    ctx.print(help)
    return 0
  }
  if (sub === 'import' && importPositionals(rest).length === 0) return importFromConsole(rest, ctx)
  return withStore(ctx, (store) => {
    switch (sub) {
      case 'list':
        return list(rest, store, ctx)
      case 'add':
        return add(rest, store, ctx)
      case 'remove':
      case 'enable':
      case 'disable':
        return byId(sub, rest, store, ctx)
      case 'test':
        return test(rest, store, ctx)
      case 'export':
        return exportRules(rest, store, ctx)
      default:
        return importFile(rest, store, ctx)
    }
  })
}

async function withStore(ctx: RulesCommandContext, run: (store: RuleStore) => Promise<number>): Promise<number> {
  if (ctx.store !== undefined) return run(ctx.store)
  const store = await openRuleStore(ctx.config.databaseUrl, { appId: ctx.config.appId ?? '' })
  try {
    return await run(store)
  } finally {
    await store.close()
  }
}

async function list(argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } }, allowPositionals: false })
  const rules = await store.list()
  if (values.json) ctx.print(JSON.stringify(rules, null, 2))
  else if (rules.length === 0) ctx.print(`no rules yet (${store.where}): wxmp rules add --help, or wxmp rules import`)
  else for (const rule of rules) ctx.print(describeRule(rule))
  return 0
}

async function add(argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const rule = await store.create(ruleFromFlags(argv))
  ctx.print(`added: ${describeRule(rule)}`)
  return 0
}

async function byId(sub: 'remove' | 'enable' | 'disable', argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true })
  if (positionals.length !== 1) usageError(`usage: wxmp rules ${sub} <id>`)
  const id = positionals[0]!
  if (sub === 'remove') {
    if (!(await store.delete(id))) throw new WxmpError('WX_ERR_RULE_INVALID', `no rule with id ${JSON.stringify(id)} (wxmp rules list shows the ids)`)
    ctx.print(`removed ${id}`)
    return 0
  }
  const rule = await store.setEnabled(id, sub === 'enable')
  ctx.print(`${sub}d: ${describeRule(rule)}`)
  return 0
}

async function test(argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { click: { type: 'string' }, follow: { type: 'boolean' }, scene: { type: 'string' }, scan: { type: 'string' }, type: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
  })
  const inputs: RuleTestInput[] = []
  if (positionals.length > 0) inputs.push({ text: positionals.join(' ') })
  if (values.click !== undefined) inputs.push({ click: values.click })
  if (values.follow) inputs.push({ follow: true, ...(values.scene === undefined ? {} : { scene: values.scene }) })
  if (values.scan !== undefined) inputs.push({ scan: values.scan })
  if (values.type !== undefined) {
    if (!(RULE_MESSAGE_TYPES as readonly string[]).includes(values.type) || values.type === 'text') usageError(`--type must be one of ${RULE_MESSAGE_TYPES.filter((t) => t !== 'text').join(', ')} (for text, give the message)`)
    inputs.push({ msgType: values.type as Exclude<(typeof RULE_MESSAGE_TYPES)[number], 'text'> })
  }
  if (inputs.length !== 1) usageError(`usage: ${RULES_SUBCOMMANDS.test!.split('\n')[0]}`)
  const at = values.at === undefined ? undefined : Date.parse(values.at)
  if (at !== undefined && Number.isNaN(at)) usageError(`--at ${JSON.stringify(values.at)} is not a date and time (e.g. 2026-03-02T10:00+08:00)`)
  const result = await store.test(inputs[0]!, at === undefined ? {} : { now: at })
  if (values.json) {
    ctx.print(JSON.stringify(result, null, 2))
    return 0
  }
  for (const s of result.skipped) ctx.print(`skipped ${s.rule.id}: ${s.why}`)
  if (result.rule === undefined) {
    ctx.print('no rule answers: the message goes to the code handlers')
    return 0
  }
  if (result.outcome === 'pass') {
    ctx.print(`rule ${result.rule.id} hands it on to the code handlers`)
    return 0
  }
  const how = result.outcome === 'default' ? 'default rule (answers only if the code handlers do not)' : 'rule'
  ctx.print(`${how} ${result.rule.id} (priority ${result.rule.priority}${result.match === undefined ? '' : `, matched ${JSON.stringify(result.match)}`}) answers:`)
  const lead = result.mode === 'random' ? 'one of' : result.mode === 'all' ? 'in order' : ''
  if (lead !== '') ctx.print(`  ${lead}:`)
  result.replies.forEach((r, i) => ctx.print(`  ${result.mode === 'all' ? (i === 0 ? 'passive:          ' : 'customer service: ') : ''}${describeRuleReply(r)}`))
  if (result.cooldownSec !== undefined) ctx.print(`  (each user at most once per ${result.cooldownSec} s)`)
  return 0
}

async function exportRules(argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { format: { type: 'string' } }, allowPositionals: true })
  if (positionals.length > 1) usageError('usage: wxmp rules export [file] [--format json|yaml]')
  const file = positionals[0]
  const format = values.format ?? (file === undefined ? 'json' : formatOf(file))
  if (format !== 'json' && format !== 'yaml') usageError('--format must be json or yaml')
  const text = await store.export(format)
  if (file === undefined) {
    ctx.print(text.trimEnd())
    return 0
  }
  await writeFile(file, text)
  ctx.print(`wrote ${(await store.list()).length} rules to ${file}`)
  return 0
}

const IMPORT_OPTIONS = {
  replace: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  'menu-file': { type: 'string', default: 'data/console-menu.json' },
  'push-menu': { type: 'boolean', default: false },
} as const

/** The files named to `rules import` (none: from the console). */
function importPositionals(argv: string[]): string[] {
  return parseArgs({ args: argv, options: IMPORT_OPTIONS, allowPositionals: true }).positionals
}

async function importFile(argv: string[], store: RuleStore, ctx: RulesCommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: IMPORT_OPTIONS, allowPositionals: true })
  if (positionals.length !== 1) usageError('usage: wxmp rules import <file> [--replace] [--dry-run]')
  if (values['push-menu'] || argv.includes('--menu-file')) usageError('--menu-file and --push-menu go with an import from the console (no file)')
  const { rules } = await readRulesFile(positionals[0]!)
  const result = await store.import(rules, { mode: values.replace ? 'replace' : 'merge', dryRun: values['dry-run'] })
  printResult(result, ctx, values['dry-run'])
  return 0
}

function printResult(result: RulesImportResult, ctx: RulesCommandContext, dryRun: boolean): void {
  const verb = dryRun ? 'would be ' : ''
  ctx.print(`rules: ${result.created.length} ${verb}created, ${result.updated.length} ${verb}updated, ${result.unchanged.length} unchanged, ${result.removed.length} ${verb}removed`)
  for (const [sign, ids] of [['+', result.created], ['~', result.updated], ['-', result.removed]] as const) for (const id of ids) ctx.print(`  ${sign} ${id}`)
  if (dryRun) ctx.print('(dry run: nothing stored)')
}

async function importFromConsole(argv: string[], ctx: RulesCommandContext): Promise<number> {
  const { values } = parseArgs({ args: argv, options: IMPORT_OPTIONS, allowPositionals: false })
  if (values.replace) usageError('--replace goes with a rules file; an import from the console never removes rules')
  const dryRun = values['dry-run']
  if (dryRun && values['push-menu']) usageError('--push-menu publishes the menu: leave out --dry-run to do it')
  return withApi(ctx, (api) =>
    withStore(ctx, async (store) => {
      const snapshot = await readConsole(api)
      const plan = await importConsole(snapshot, store, apiConsoleMedia(api), { dryRun })
      printPlan(plan, ctx, dryRun)
      if (plan.menu !== undefined && !dryRun) {
        const file = values['menu-file']
        await mkdir(dirname(file), { recursive: true })
        await writeFile(file, JSON.stringify(plan.menu, null, 2) + '\n')
        if (values['push-menu']) {
          await api.menu.create(plan.menu)
          ctx.print(`menu: written to ${file} and published (clients pick it up within about 5 minutes)`)
        } else {
          ctx.print(`menu: written to ${file}; publish it once developer mode is on: wxmp menu push ${file}`)
        }
      }
      return 0
    }),
  )
}

async function withApi(ctx: RulesCommandContext, run: (api: WechatApi) => Promise<number>): Promise<number> {
  if (ctx.api !== undefined) return run(ctx.api)
  const config = ctx.config as WxmpConfig
  if (config.appId === undefined || config.appSecret === undefined) throw new WxmpError('WX_ERR_CONFIG', 'reading the console settings needs WECHAT_APPID and WECHAT_APPSECRET')
  const shared = openSharedStore(config)
  try {
    return await run(createWechatApiFromConfig(config, shared))
  } finally {
    await shared.close()
  }
}

function printPlan(plan: ConsoleImportPlan, ctx: RulesCommandContext, dryRun: boolean): void {
  ctx.print(`console settings → ${plan.rules.length} rules${plan.media.toCopy > 0 ? ` (${plan.media.toCopy} media file${plan.media.toCopy === 1 ? '' : 's'} ${dryRun ? 'to copy' : 'copied'} to permanent material)` : ''}:`)
  const { created, updated, unchanged } = plan.result
  for (const rule of plan.rules) ctx.print(`${created.includes(rule.id!) ? '+' : updated.includes(rule.id!) ? '~' : '='} ${describeRule(rule as Parameters<typeof describeRule>[0])}`)
  ctx.print(`rules: ${created.length} ${dryRun ? 'to create' : 'created'}, ${updated.length} ${dryRun ? 'to update' : 'updated'}, ${unchanged.length} unchanged (+ new, ~ changed in the console, = as before)`)
  if (plan.menu !== undefined) {
    const buttons = plan.menu.button.reduce((n, b) => n + (b.sub_button?.length ?? 1), 0)
    ctx.print(`menu: ${buttons} buttons${plan.menuHasConsoleButtons ? '; message buttons become click keys answered by the rules above' : ' (already an API menu: nothing to convert)'}`)
  } else ctx.print('menu: none open in the console')
  if (plan.notConverted.length > 0) {
    ctx.print(`not converted (${plan.notConverted.length}):`)
    for (const n of plan.notConverted) ctx.print(`  - ${n.what}: ${n.why}`)
  }
  if (plan.notes.length > 0) {
    ctx.print('notes:')
    for (const note of plan.notes) ctx.print(`  - ${note}`)
  }
  for (const id of plan.stale) ctx.print(`kept ${id}: it came from an earlier import and the console no longer has it (wxmp rules remove ${id})`)
  if (dryRun) ctx.print('(dry run: nothing stored, no media copied, no menu written)')
}
