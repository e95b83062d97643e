/**
 * Replies without code, from the console: list, create, edit, switch on and off, delete and
 * test the rules (docs/rules.md) through the very RuleStore the CLI uses, so a refusal carries
 * the CLI's message (`rule #1 trigger.pattern: …`) and names the field. After a change the
 * server's live cache reloads at once (other instances follow within their poll, ~1 s).
 */
import { isWxmpError } from '../../errors.js'
import type { RuleTestInput, RuleTestResult } from '../../rules/explain.js'
import { describeConditions, describeReply, describeTrigger } from '../../rules/describe.js'
import { describeRuleReply } from '../../rules/render.js'
import type { ServerRules } from '../../rules/server.js'
import type { RulePatch } from '../../rules/store.js'
import { RULE_MESSAGE_TYPES, type Rule } from '../../rules/types.js'
import { formatProblem, RuleValidationError } from '../../rules/validate.js'
import type { ConsoleDeps } from '../deps.js'
import { badInput, ConsoleHttpError, readJson, remoteOf, sendJson } from '../http.js'
import type { Route, RouteContext } from '../router.js'

const RULE_ID = '(?<id>[A-Za-z0-9][A-Za-z0-9_.:-]{0,63})'

export function rulesRoutes(deps: ConsoleDeps): Route[] {
  const requireRules = (): ServerRules => {
    const rules = deps.rules()
    if (rules === undefined) throw new ConsoleHttpError(409, 'WX_ERR_CONFIG', 'the rules are off on this server (WXMP_RULES=off)', { reason: 'rules-off' })
    return rules
  }

  /** Runs one change: refusals as the CLI words them, the audit row, the live cache reloaded. */
  const change = async <T>(ctx: RouteContext, action: string, target: string, run: (rules: ServerRules) => Promise<T>, detail: (result: T) => unknown): Promise<T> => {
    const rules = requireRules()
    let result: T
    try {
      result = await run(rules)
    } catch (err) {
      await deps.audit.record({ operator: ctx.session.user, action, target, remote: remoteOf(ctx.req), ok: false, detail: { error: err instanceof Error ? err.message.slice(0, 2000) : String(err) } })
      throw refusal(err)
    }
    await deps.audit.record({ operator: ctx.session.user, action, target, remote: remoteOf(ctx.req), ok: true, detail: detail(result) })
    await reloadNow(rules)
    return result
  }

  const view = (rule: Rule) => ({ ...rule, summary: { trigger: describeTrigger(rule.trigger), reply: describeReply(rule.reply), conditions: describeConditions(rule) } })

  return [
    {
      method: 'GET',
      pattern: /^\/rules$/,
      async handle(ctx) {
        const rules = requireRules()
        const [list, version] = await Promise.all([rules.store.list(), rules.store.version()])
        sendJson(ctx.res, 200, { rules: list.map(view), version, order: deps.config.rules, inUse: rules.live.current.version })
      },
    },
    {
      method: 'POST',
      pattern: /^\/rules$/,
      async handle(ctx) {
        const input = await readJson(ctx.req)
        const rule = await change(ctx, 'rule.create', typeof input.id === 'string' ? input.id.slice(0, 64) : 'new', (rules) => rules.store.create(input), (r) => ({ rule: r }))
        sendJson(ctx.res, 201, { rule: view(rule) })
      },
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^/rules/${RULE_ID}$`),
      async handle(ctx) {
        const id = ctx.params.id!
        const input = await readJson(ctx.req)
        if (input.id !== undefined && input.id !== id) throw badInput('a rule keeps its id: create a new rule for another id')
        // the editor sends the whole rule: what it leaves out is removed (schedule, cooldown) or kept (priority)
        const { id: _id, ...fields } = input
        const patch = { ...fields, schedule: fields.schedule ?? null, cooldownSec: fields.cooldownSec ?? null } as RulePatch
        if (fields.priority === undefined || fields.priority === null) delete patch.priority
        const rule = await change(ctx, 'rule.update', id, (rules) => rules.store.update(id, patch), (r) => ({ rule: r }))
        sendJson(ctx.res, 200, { rule: view(rule) })
      },
    },
    {
      method: 'POST',
      pattern: new RegExp(`^/rules/${RULE_ID}/enabled$`),
      async handle(ctx) {
        const id = ctx.params.id!
        const { enabled } = await readJson(ctx.req)
        if (typeof enabled !== 'boolean') throw badInput('give {"enabled": true} or {"enabled": false}')
        const rule = await change(ctx, enabled ? 'rule.enable' : 'rule.disable', id, (rules) => rules.store.setEnabled(id, enabled), () => ({ enabled }))
        sendJson(ctx.res, 200, { rule: view(rule) })
      },
    },
    {
      method: 'DELETE',
      pattern: new RegExp(`^/rules/${RULE_ID}$`),
      async handle(ctx) {
        const id = ctx.params.id!
        const before = await requireRules().store.get(id)
        const deleted = await change(ctx, 'rule.delete', id, (rules) => rules.store.delete(id), () => ({ rule: before ?? null }))
        if (!deleted) throw new ConsoleHttpError(404, 'WX_ERR_NOT_FOUND', `no rule with id ${JSON.stringify(id)}`)
        sendJson(ctx.res, 200, { deleted: id })
      },
    },
    {
      method: 'POST',
      pattern: /^\/rules\/test$/,
      async handle(ctx) {
        const result = await requireRules().store.test(testInput(await readJson(ctx.req)))
        sendJson(ctx.res, 200, testView(result))
      },
    },
  ]
}

/** The page's test form → the store's test input; anything else is refused by name. */
function testInput(body: Record<string, unknown>): RuleTestInput {
  const text = (name: string, max: number) => {
    const v = body[name]
    if (typeof v !== 'string' || v === '' || v.length > max) throw badInput(`${name} must be a text of 1–${max} characters`)
    return v
  }
  switch (body.kind) {
    case 'text':
      return { text: text('text', 2048) }
    case 'click':
      return { click: text('key', 128) }
    case 'follow':
      return typeof body.scene === 'string' && body.scene !== '' ? { follow: true, scene: text('scene', 64) } : { follow: true }
    case 'scan':
      return { scan: text('scene', 64) }
    case 'message': {
      const type = body.msgType
      if (typeof type !== 'string' || type === 'text' || !(RULE_MESSAGE_TYPES as readonly string[]).includes(type)) throw badInput(`msgType must be one of ${RULE_MESSAGE_TYPES.filter((t) => t !== 'text').join(', ')}`)
      return { msgType: type as Exclude<(typeof RULE_MESSAGE_TYPES)[number], 'text'> }
    }
    default:
      throw badInput('kind must be text, click, follow, scan or message')
  }
}

function testView(result: RuleTestResult) {
  return {
    outcome: result.outcome,
    rule: result.rule === undefined ? null : { id: result.rule.id, name: result.rule.name, priority: result.rule.priority },
    match: result.match ?? null,
    mode: result.mode ?? null,
    replies: result.replies.map((r) => ({ type: r.type, text: describeRuleReply(r) })),
    skipped: result.skipped.map((s) => ({ id: s.rule.id, name: s.rule.name, why: s.why })),
    cooldownSec: result.cooldownSec ?? null,
  }
}

/** A refusal with the CLI's wording: the whole message, and each problem with its rule and field. */
function refusal(err: unknown): unknown {
  if (err instanceof RuleValidationError) {
    return new ConsoleHttpError(400, err.code, err.message, { reason: 'invalid', problems: err.problems.map((p) => ({ ...p, text: formatProblem(p) })) })
  }
  if (isWxmpError(err, 'WX_ERR_RULE_INVALID') && (err.details as { notFound?: string } | undefined)?.notFound !== undefined) {
    return new ConsoleHttpError(404, 'WX_ERR_NOT_FOUND', err.message, { reason: 'not-found' })
  }
  return err
}

/** The server's cache takes the change before the page hears "saved" (a poll in flight may predate it). */
async function reloadNow(rules: ServerRules): Promise<void> {
  const version = await rules.store.version()
  for (let i = 0; i < 3 && rules.live.current.version < version; i++) await rules.live.refresh()
}
