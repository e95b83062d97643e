import { parseArgs, type ParseArgsConfig } from 'node:util'

/**
 * `parseArgs` for commands that take WeChat's ids. Those ids (media_id, article_id, publish_id)
 * are base64url: one in 64 begins with "-", and `parseArgs` would take "-4Ab…" for an unknown
 * short option and refuse the command. None of wxmp's commands has short options, so an
 * argument that begins with a single "-" is a value: it stands in as a placeholder while
 * `parseArgs` runs and is put back where it was, a positional or an option's value, in order.
 * Long options ("--json") keep their meaning (a misspelt one is still refused by name); an id
 * that begins with "--" (one in 4 096) goes after "--" as usual.
 */
export function parseArgsWithIds<T extends ParseArgsConfig>(config: T & { args: string[] }): ReturnType<typeof parseArgs<T>> {
  const ids: string[] = []
  const end = config.args.indexOf('--')
  const args = config.args.map((arg, i) => {
    if ((end !== -1 && i >= end) || arg.length < 2 || !arg.startsWith('-') || arg.startsWith('--')) return arg
    ids.push(arg)
    return `${PLACEHOLDER}${ids.length - 1}`
  })
  const parsed = parseArgs({ ...config, args }) as ReturnType<typeof parseArgs<T>>
  if (ids.length === 0) return parsed
  const restore = (value: unknown): unknown => (typeof value === 'string' && value.startsWith(PLACEHOLDER) ? ids[Number(value.slice(PLACEHOLDER.length))] : Array.isArray(value) ? value.map(restore) : value)
  const values = parsed.values as Record<string, unknown>
  for (const key of Object.keys(values)) values[key] = restore(values[key])
  const positionals = (parsed as { positionals?: string[] }).positionals
  if (positionals !== undefined) positionals.forEach((value, i) => (positionals[i] = restore(value) as string))
  return parsed
}

/** No argument a person types contains NUL, so a placeholder cannot meet a real one. */
const PLACEHOLDER = '\u0000id:'
