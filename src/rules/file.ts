/**
 * Rules files, for those who keep configuration in git: JSON or YAML (by extension, or by
 * content when reading stdin), `{ "wxmpRules": 1, "rules": [ … ] }` or just the list. The YAML
 * parser (the `yaml` package) is loaded only when a YAML file is read or written.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { WxmpError } from '../errors.js'
import type { Rule, RuleInput, RulesFile } from './types.js'

export type RulesFileFormat = 'json' | 'yaml'

export function formatOf(path: string): RulesFileFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'json'
}

/** The rules of a file's text; throws WX_ERR_RULE_INVALID naming the file and the line for a syntax error. */
export async function parseRulesText(text: string, format: RulesFileFormat, where: string): Promise<unknown[]> {
  let value: unknown
  if (format === 'yaml') {
    const { parseDocument } = await import('yaml')
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
    const error = doc.errors[0]
    if (error !== undefined) {
      const line = error.linePos?.[0]
      throw new WxmpError('WX_ERR_RULE_INVALID', `${where}${line === undefined ? '' : `:${line.line}`}: not valid YAML (${error.message.split('\n')[0]})`)
    }
    value = doc.toJS({ maxAliasCount: 100 })
  } else {
    try {
      value = JSON.parse(text)
    } catch (err) {
      throw new WxmpError('WX_ERR_RULE_INVALID', `${where}: not valid JSON (${(err as Error).message})`)
    }
  }
  if (Array.isArray(value)) return value
  if (value !== null && typeof value === 'object' && Array.isArray((value as { rules?: unknown }).rules)) {
    const version = (value as { wxmpRules?: unknown }).wxmpRules
    if (version !== undefined && version !== 1) throw new WxmpError('WX_ERR_RULE_INVALID', `${where}: wxmpRules ${JSON.stringify(version)} is a format this wxmp does not know (it writes 1)`)
    return (value as { rules: unknown[] }).rules
  }
  throw new WxmpError('WX_ERR_RULE_INVALID', `${where}: expected a list of rules, or {"wxmpRules": 1, "rules": [...]}`)
}

/** Reads and parses a rules file (its digest too, to tell whether it changed since the last import). */
export async function readRulesFile(path: string): Promise<{ rules: unknown[]; sha256: string }> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new WxmpError('WX_ERR_RULE_INVALID', `${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  return { rules: await parseRulesText(text, formatOf(path), path), sha256: createHash('sha256').update(text).digest('hex') }
}

/** A stored rule as it is written to a file: no timestamps, fields in a stable order. */
export function toInput(rule: Rule): RuleInput {
  return {
    id: rule.id,
    name: rule.name,
    enabled: rule.enabled,
    priority: rule.priority,
    trigger: rule.trigger,
    reply: rule.reply,
    ...(rule.schedule === undefined ? {} : { schedule: rule.schedule }),
    ...(rule.cooldownSec === undefined ? {} : { cooldownSec: rule.cooldownSec }),
    ...(rule.source === undefined ? {} : { source: rule.source }),
  }
}

/** The text of a rules file; importing it gives back the same rules. */
export async function formatRulesFile(rules: readonly Rule[], format: RulesFileFormat): Promise<string> {
  const file: RulesFile = { wxmpRules: 1, rules: rules.map(toInput) }
  if (format === 'json') return JSON.stringify(file, null, 2) + '\n'
  const { stringify } = await import('yaml')
  return stringify(file, { lineWidth: 0 })
}
