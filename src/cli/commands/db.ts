/**
 * Operations commands over the SQL records: `wxmp db migrate`, `wxmp log tail`,
 * `wxmp followers`. Each is a function of (args, config, print) returning an exit code, so
 * tests run them in-process; the dispatcher in cli/main.ts wires them to argv.
 */
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { openRecords, type Records } from '../../records/open-records.js'
import type { MessageRecord } from '../../records/message-log.js'
import { parseStorageUrl } from '../../storage/storage-url.js'
import { redactUrl } from '../../storage/connection-url.js'
import { logFilterOf, type CliAccount } from '../account-option.js'

/** What these commands read from the server configuration. */
export interface DbCommandConfig {
  databaseUrl: string
}

type Print = (line: string) => void

export const DB_USAGE = `wxmp db migrate
  Applies pending schema migrations to DATABASE_URL (the server also does it at start).
wxmp log tail [-n 20] [--once] [--app wx…] [--openid o…] [--xml] [--json] [--interval 1000]
  Prints the latest messages, then follows new ones until Ctrl-C (--once: print and exit).
wxmp followers [--app wx…] [--recent 10] [--hours 24] [--json]
  Follower counts, subscribes/unsubscribes in the last hours, and the latest changes.`

/** `wxmp db migrate`: brings the records schema up to date and says what it did. */
export async function runDbMigrate(config: DbCommandConfig, print: Print): Promise<number> {
  const records = await openRecords(config.databaseUrl, { migrate: false })
  try {
    print(`database: ${describeDatabase(config.databaseUrl)}`)
    const result = await records.migrate()
    for (const m of result.applied) print(`applied migration ${m.version}: ${m.name}`)
    print(result.applied.length === 0 ? `schema is up to date (version ${result.current})` : `schema is now at version ${result.current}`)
    if (result.unknown.length > 0) {
      print(`note: the database has migrations this wxmp does not know (${result.unknown.join(', ')}): a newer wxmp ran against it`)
    }
    return 0
  } finally {
    await records.close()
  }
}

export interface LogTailOptions {
  /** Stops following (the CLI aborts it on Ctrl-C). Without it `--once` is implied. */
  signal?: AbortSignal
  /** Injected clock (ms). */
  now?: () => number
  /** The account chosen with --account (an accounts file): only its messages. */
  account?: CliAccount | undefined
}

/** A message still waiting for its outcome is printed once done, or after this long regardless. */
const PENDING_GRACE_MS = 30_000
/** Rows this recent may still have lower-numbered neighbours committing (PostgreSQL ids commit out of order). */
const SETTLE_MS = 5_000

/** `wxmp log tail`: the latest messages, then new ones as they complete. */
export async function runLogTail(args: string[], config: DbCommandConfig, print: Print, options: LogTailOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      lines: { type: 'string', short: 'n', default: '20' },
      once: { type: 'boolean', default: false },
      app: { type: 'string' },
      openid: { type: 'string' },
      xml: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      interval: { type: 'string', default: '1000' },
    },
    allowPositionals: false,
  })
  const lines = wholeNumber('--lines', values.lines, 1, 1000)
  const interval = wholeNumber('--interval', values.interval, 100, 60_000)
  const now = options.now ?? Date.now
  const filter = { ...logFilterOf(options.account), ...(values.app === undefined ? {} : { appId: values.app }), ...(values.openid === undefined ? {} : { openid: values.openid }) }
  const show = (row: MessageRecord) => print(values.json ? JSON.stringify(row) : formatMessage(row, values.xml))

  const records = await openRecords(config.databaseUrl)
  try {
    const latest = await records.messages.recent({ ...filter, limit: lines })
    const once = values.once || options.signal === undefined
    if (latest.length === 0 && !values.json) {
      // an empty answer must not look like a wrong database: say which one was read
      const filtered = values.app !== undefined || filter.openid !== undefined ? ' matching the filter' : options.account === undefined ? '' : ` for account ${options.account.name}`
      print(`no messages${filtered} in ${describeDatabase(config.databaseUrl)} yet${once ? '' : '; waiting for new ones (Ctrl-C stops)'}`)
    }
    if (once || options.signal === undefined) {
      latest.forEach(show)
      return 0
    }
    const follower = new TailCursor((latest[0]?.id ?? 1) - 1, now)
    while (!options.signal.aborted) {
      for (const row of await follower.poll(records, filter)) show(row)
      await sleep(interval, undefined, { signal: options.signal }).catch(() => undefined)
    }
    return 0
  } finally {
    await records.close()
  }
}

/**
 * Which rows `log tail` has printed. Rows are printed once complete (or stuck past the grace
 * time); the cursor only moves past rows that are printed and settled, and everything after
 * it is fetched again, so a row whose id committed late is still printed, and exactly once.
 */
class TailCursor {
  private readonly printed = new Set<number>()

  constructor(
    private cursor: number,
    private readonly now: () => number,
  ) {}

  async poll(records: Records, filter: ReturnType<typeof logFilterOf> & { openid?: string }): Promise<MessageRecord[]> {
    const rows = await records.messages.recent({ ...filter, afterId: this.cursor, limit: 1000 })
    const now = this.now()
    const ready = rows.filter(
      (row) => !this.printed.has(row.id) && (row.completedAt !== null || now - row.receivedAt > PENDING_GRACE_MS),
    )
    for (const row of ready) this.printed.add(row.id)
    for (const row of rows) {
      if (!this.printed.has(row.id) || now - row.receivedAt <= SETTLE_MS) break
      this.cursor = row.id
      this.printed.delete(row.id)
    }
    return ready
  }
}

/** One line per message: when, who, what, and what became of it. */
export function formatMessage(row: MessageRecord, withXml = false): string {
  const what = row.msgType === 'event' ? `event:${row.event ?? '?'}` : row.msgType
  const text = summary(row.rawXml)
  const outcome =
    row.completedAt === null
      ? 'pending'
      : `${row.replyVia ?? '?'}${row.replyStatus === null ? '' : `/${row.replyStatus}`} ${row.latencyMs ?? '?'}ms`
  const parts = [
    new Date(row.receivedAt).toISOString(),
    `#${row.id}`,
    printable(row.openid),
    printable(what),
    ...(text === undefined ? [] : [JSON.stringify(text)]),
    `→ ${outcome}`,
    ...(row.deliveries > 1 ? [`(${row.deliveries} deliveries)`] : []),
    ...(row.encrypted ? ['[aes]'] : []),
    ...(row.error === null ? [] : [`error: ${printable(row.error)}`]),
  ]
  const line = parts.join('  ')
  if (!withXml) return line
  return `${line}\n  in : ${printable(row.rawXml, true)}\n  out: ${printable(row.replyXml ?? '(none)', true)}`
}

/**
 * Logged text came from the network: control characters (terminal escapes, carriage returns)
 * are shown as \u escapes so a message cannot rewrite the operator's terminal.
 */
function printable(text: string, keepNewlines = false): string {
  const pattern = keepNewlines ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g : /[\u0000-\u001f\u007f-\u009f]/g
  return text.replace(pattern, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** The text or key a person would recognise, cut short; a display aid, not a parser. */
function summary(xml: string): string | undefined {
  const field = /<(Content|EventKey|Recognition|Label|Title|Url)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/.exec(xml)
  const value = field?.[2] ?? field?.[3]
  if (value === undefined || value === '') return undefined
  return value.length > 60 ? `${value.slice(0, 60)}…` : value
}

/** `wxmp followers`: counts, the recent window and the latest changes. */
export async function runFollowers(args: string[], config: DbCommandConfig, print: Print, options: { now?: () => number; account?: CliAccount | undefined } = {}): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      app: { type: 'string' },
      recent: { type: 'string', default: '10' },
      hours: { type: 'string', default: '24' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  })
  const recent = wholeNumber('--recent', values.recent, 0, 1000)
  const hours = wholeNumber('--hours', values.hours, 1, 24 * 366)
  const now = options.now ?? Date.now
  const records = await openRecords(config.databaseUrl)
  try {
    const stats = await records.followers.stats({
      ...logFilterOf(options.account),
      ...(values.app === undefined ? {} : { appId: values.app }),
      recent,
      since: now() - hours * 3600_000,
    })
    if (values.json) {
      print(JSON.stringify(stats))
      return 0
    }
    const of = values.app !== undefined ? ` of ${values.app}` : options.account === undefined ? '' : ` of account ${options.account.name}`
    print(`followers${of}: ${stats.subscribed} subscribed, ${stats.unsubscribed} unsubscribed`)
    print(`last ${hours} h: +${stats.window.subscribe} subscribe, -${stats.window.unsubscribe} unsubscribe`)
    if (stats.recent.length > 0) {
      print('recent changes:')
      for (const change of stats.recent) {
        const scene = change.scene === null ? '' : `  ${printable(change.scene)}`
        // a server without WECHAT_APPID records an empty AppID: nothing to show then
        const app = values.app === undefined && options.account === undefined && change.appId !== '' ? `  (${printable(change.appId)})` : ''
        print(`  ${new Date(change.at).toISOString()}  ${change.event === 'subscribe' ? '+' : '-'} ${printable(change.openid)}${app}${scene}`)
      }
    }
    return 0
  } finally {
    await records.close()
  }
}

function describeDatabase(url: string): string {
  const target = parseStorageUrl(url, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  if (target.kind === 'sqlite') return `SQLite ${target.filename}`
  return target.kind === 'postgres' ? `PostgreSQL ${redactUrl(target.url)}` : 'in-memory SQLite (nothing is kept)'
}

/** A bad option value is a usage error (exit 2 in the dispatcher), named with its limits. */
function wholeNumber(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw Object.assign(new TypeError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`), {
      code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
    })
  }
  return n
}
