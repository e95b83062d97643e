/**
 * RuleStore: the rules in SQL (SQLite by default, PostgreSQL for a fleet) with a version per
 * account. Every change runs in one transaction that takes the database-wide write lock,
 * re-reads the rules, checks the whole set (ids and priorities unique) and bumps the version;
 * a server polls that one version row and reloads only when it moved (LiveRules). This is the
 * programmatic API the CLI and the operator console call: list, get, create, update,
 * setEnabled, delete, import, export, test — with the same validation messages everywhere.
 *
 * @example
 * const store = await openRuleStore('sqlite:./data/wxmp.db', { appId })
 * await store.create({ trigger: { type: 'keyword', exact: ['营业时间'] }, reply: { type: 'text', content: '9:00–18:00' } })
 * const { rule, replies } = await store.test({ text: '营业时间' })
 */
import { isDeepStrictEqual } from 'node:util'
import { WxmpError } from '../errors.js'
import { runMigrations } from '../records/migrations.js'
import { PostgresDatabase, SqliteDatabase, type PostgresDatabaseOptions, type SqlDatabase, type SqlExecutor } from '../records/sql-database.js'
import { checkSqlIdentifier } from '../storage/sql-identifier.js'
import { parseStorageUrl } from '../storage/storage-url.js'
import { assignPriorities, randomRuleId, toRule } from './compile.js'
import { explain, testMessage, type RuleTestInput, type RuleTestResult } from './explain.js'
import { formatRulesFile, readRulesFile, toInput, type RulesFileFormat } from './file.js'
import { RuleSet } from './rule-set.js'
import type { Rule, RuleInput } from './types.js'
import { checkRules, labelOf, RuleValidationError, type CheckedRule, type RuleProblem } from './validate.js'

export interface RuleStoreOptions {
  /** The account the rules belong to (WECHAT_APPID); '' when the bot runs without one. */
  appId?: string
  now?: () => number
  /** Id for rules created without one. Default `r-` + 8 random hex digits. */
  newId?: () => string
}

export interface OpenRuleStoreOptions extends RuleStoreOptions {
  /** Apply pending migrations while opening. Default true. */
  migrate?: boolean
  /** PostgreSQL only: keep the tables in this schema. */
  schema?: string
  postgres?: Omit<PostgresDatabaseOptions, 'schema'>
}

/** What an import did (or, with dryRun, would do), by rule id. */
export interface RulesImportResult {
  created: string[]
  updated: string[]
  unchanged: string[]
  removed: string[]
  /** True when the stored rules changed (the version moved). */
  changed: boolean
}

export interface RulesImportOptions {
  /** `merge` (default): add and update by id, keep the others; `replace`: the stored rules become exactly these. */
  mode?: 'merge' | 'replace'
  /** Check and report, store nothing. */
  dryRun?: boolean
}

/** A partial update: fields given replace the stored ones; `null` removes an optional field. */
export type RulePatch = Partial<Omit<RuleInput, 'id' | 'schedule' | 'cooldownSec'>> & { schedule?: RuleInput['schedule'] | null; cooldownSec?: number | null }

interface RuleRow {
  id: string
  name: string
  priority: number
  enabled: number
  body: string
  created_at: number
  updated_at: number
}

const COLUMNS = 'id, name, priority, enabled, body, created_at, updated_at'
const BUMP = `INSERT INTO wxmp_rules_version (app_id, version, changed_at, file_sha256) VALUES (?, 1, ?, ?)
  ON CONFLICT (app_id) DO UPDATE SET version = wxmp_rules_version.version + 1, changed_at = excluded.changed_at,
  file_sha256 = COALESCE(excluded.file_sha256, wxmp_rules_version.file_sha256)`

/** Opens the database a URL names (like openRecords) and returns its rules; `close()` closes the connection. */
export async function openRuleStore(databaseUrl: string, options: OpenRuleStoreOptions = {}): Promise<RuleStore> {
  const target = parseStorageUrl(databaseUrl, 'DATABASE_URL', ['sqlite', 'postgres', 'memory'])
  const schema = options.schema === undefined ? undefined : checkSqlIdentifier('schema', options.schema)
  const db: SqlDatabase =
    target.kind === 'postgres'
      ? new PostgresDatabase(target.url, { pool: { max: 2 }, ...options.postgres, ...(schema === undefined ? {} : { schema }) })
      : new SqliteDatabase(target.kind === 'sqlite' ? target.filename : ':memory:')
  try {
    if (options.migrate !== false) await runMigrations(db, options.now)
  } catch (err) {
    await db.close().catch(() => undefined)
    throw err
  }
  return new RuleStore(db, { ...options, ownsDatabase: true })
}

export class RuleStore {
  readonly appId: string
  private readonly now: () => number
  private readonly newId: () => string
  private readonly ownsDatabase: boolean

  constructor(
    private readonly db: SqlDatabase,
    options: RuleStoreOptions & { ownsDatabase?: boolean } = {},
  ) {
    this.appId = options.appId ?? ''
    this.now = options.now ?? Date.now
    this.newId = options.newId ?? randomRuleId
    this.ownsDatabase = options.ownsDatabase ?? false
  }

  /** Where the rules live, for messages ("SQLite ./data/wxmp.db"). */
  get where(): string {
    return this.db.where
  }

  /** The version of the stored rules: it moves on every change (0 before the first). */
  async version(): Promise<number> {
    const [row] = await this.db.all<{ version: number }>('SELECT version FROM wxmp_rules_version WHERE app_id = ?', [this.appId])
    return row === undefined ? 0 : Number(row.version)
  }

  /** Every rule, highest priority first. */
  async list(): Promise<Rule[]> {
    return this.readAll(this.db)
  }

  async get(id: string): Promise<Rule | undefined> {
    const [row] = await this.db.all<RuleRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM wxmp_rules WHERE app_id = ? AND id = ?`, [this.appId, id])
    return row === undefined ? undefined : fromRow(row)
  }

  /** The rules compiled for matching, with the version they were read at. */
  async load(): Promise<RuleSet> {
    // version first: a change landing in between makes the next poll reload, never the reverse
    const version = await this.version()
    return new RuleSet(await this.list(), version)
  }

  /** Adds a rule; without a priority it ranks above every other rule (the newest wins, as in the console). */
  async create(input: unknown): Promise<Rule> {
    const [checked] = await checkRules([input], { newId: this.newId })
    return this.mutate(async (current) => {
      if (current.has(checked!.id)) throw new RuleValidationError([{ rule: JSON.stringify(checked!.id), field: 'id', message: 'a rule with this id exists already (update it, or pick another id)' }])
      const [rule] = this.settle([checked!], current)
      return { upsert: [toRule(rule!, this.now())], result: (stored: Rule[]) => stored[0]! }
    })
  }

  /** Changes some fields of a rule; the result is checked as a whole. */
  async update(id: string, patch: RulePatch): Promise<Rule> {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new RuleValidationError([{ rule: JSON.stringify(id), field: '', message: 'an update is an object of the fields to change' }])
    const existing = await this.require(id)
    const merged: Record<string, unknown> = { ...toInput(existing), ...patch, id }
    for (const [key, value] of Object.entries(patch)) if (value === null) delete merged[key]
    const [checked] = await checkRules([merged], { newId: this.newId })
    return this.mutate(async (current) => {
      const previous = current.get(id)
      if (previous === undefined) throw notFound(id)
      const [rule] = this.settle([checked!], current)
      return { upsert: [toRule(rule!, this.now(), previous)], result: (stored: Rule[]) => stored[0]! }
    })
  }

  async setEnabled(id: string, enabled: boolean): Promise<Rule> {
    return this.update(id, { enabled })
  }

  /** Deletes a rule; false when there was none with this id. */
  async delete(id: string): Promise<boolean> {
    return this.mutate(async (current) => (current.has(id) ? { remove: [id], result: () => true } : { result: () => false }))
  }

  /**
   * Imports a list of rules all or nothing: every problem in the list is reported at once and
   * nothing is stored unless all of them pass.
   */
  async import(inputs: readonly unknown[], options: RulesImportOptions = {}): Promise<RulesImportResult> {
    return this.importList(inputs, options, undefined)
  }

  /** Imports a rules file (JSON or YAML) in `replace` mode, only when it changed since the last time it was imported here. */
  async importFileOnce(path: string): Promise<RulesImportResult & { skipped: boolean }> {
    const file = await readRulesFile(path)
    const [row] = await this.db.all<{ file_sha256: string | null }>('SELECT file_sha256 FROM wxmp_rules_version WHERE app_id = ?', [this.appId])
    if (row?.file_sha256 === file.sha256) return { created: [], updated: [], unchanged: [], removed: [], changed: false, skipped: true }
    return { ...(await this.importList(file.rules, { mode: 'replace' }, file.sha256)), skipped: false }
  }

  private async importList(inputs: readonly unknown[], options: RulesImportOptions, fileSha256: string | undefined): Promise<RulesImportResult> {
    const checked = await checkRules(inputs, { newId: this.newId })
    const replace = options.mode === 'replace'
    const plan = (current: Map<string, Rule>) => {
      // in merge mode a rule updated without a priority keeps its own
      const kept = checked.map((c) => (c.priority === undefined && !replace && current.has(c.id) ? { ...c, priority: current.get(c.id)!.priority } : c))
      const result: RulesImportResult = { created: [], updated: [], unchanged: [], removed: [], changed: false }
      const upsert: Rule[] = []
      for (const rule of this.settle(kept, current, replace)) {
        const previous = current.get(rule.id)
        if (previous === undefined) result.created.push(rule.id)
        else if (isDeepStrictEqual(toInput(toRule(rule, 0)), toInput(previous))) {
          result.unchanged.push(rule.id)
          continue
        } else result.updated.push(rule.id)
        upsert.push(toRule(rule, this.now(), previous))
      }
      const incoming = new Set(checked.map((c) => c.id))
      if (replace) for (const id of current.keys()) if (!incoming.has(id)) result.removed.push(id)
      result.changed = upsert.length + result.removed.length > 0
      return { upsert, remove: result.removed, result: () => result }
    }
    if (options.dryRun) return plan(toMap(await this.list())).result()
    return this.mutate(async (current) => plan(current), fileSha256)
  }

  /** The rules as a file's text (JSON or YAML); importing it gives back the same rules. */
  async export(format: RulesFileFormat = 'json'): Promise<string> {
    return formatRulesFile(await this.list(), format)
  }

  /** Which stored rule would answer a message at `now`, and how (no WeChat involved). */
  async test(input: RuleTestInput, options: { now?: number } = {}): Promise<RuleTestResult> {
    const now = options.now ?? this.now()
    return explain(await this.load(), testMessage(input, now), now)
  }

  async close(): Promise<void> {
    if (this.ownsDatabase) await this.db.close()
  }

  private async require(id: string): Promise<Rule> {
    const rule = await this.get(id)
    if (rule === undefined) throw notFound(id)
    return rule
  }

  /**
   * Priorities for rules about to be stored, checked against the rules that stay: missing ones
   * above everything, a duplicate refused naming both rules.
   */
  private settle(rules: CheckedRule[], current: Map<string, Rule>, replaceAll = false): Array<CheckedRule & { priority: number }> {
    const written = new Set(rules.map((r) => r.id))
    const staying = replaceAll ? [] : [...current.values()].filter((r) => !written.has(r.id))
    const settled = assignPriorities(rules, staying.map((r) => r.priority))
    const taken = new Map(staying.map((r) => [r.priority, r.id]))
    const problems: RuleProblem[] = []
    settled.forEach((r, i) => {
      const other = taken.get(r.priority)
      if (other !== undefined) {
        problems.push({ rule: labelOf(i, r), field: 'priority', message: `${r.priority} is the priority of stored rule ${JSON.stringify(other)}: priorities are unique (pick another, or leave it out to rank above every rule)` })
      }
    })
    if (problems.length > 0) throw new RuleValidationError(problems)
    return settled
  }

  /** One change under the write lock: re-read, compute, write the difference, bump the version. */
  private async mutate<T>(
    change: (current: Map<string, Rule>) => Promise<{ upsert?: Rule[]; remove?: string[]; result: (stored: Rule[]) => T }>,
    fileSha256?: string,
  ): Promise<T> {
    return this.db.exclusive(async (tx) => {
      const current = toMap(await this.readAll(tx))
      const { upsert = [], remove = [], result } = await change(current)
      if (upsert.length === 0 && remove.length === 0 && fileSha256 === undefined) return result([])
      // rows that change are deleted first, so priorities may move between rules in one change
      for (const id of [...remove, ...upsert.filter((r) => current.has(r.id)).map((r) => r.id)]) {
        await tx.run('DELETE FROM wxmp_rules WHERE app_id = ? AND id = ?', [this.appId, id])
      }
      for (const rule of upsert) {
        const { id, name, priority, enabled, createdAt, updatedAt, ...body } = rule
        await tx.run(`INSERT INTO wxmp_rules (app_id, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [this.appId, id, name, priority, enabled ? 1 : 0, JSON.stringify(body), createdAt, updatedAt])
      }
      await tx.run(BUMP, [this.appId, this.now(), fileSha256 ?? null])
      return result(upsert)
    })
  }

  private async readAll(on: SqlExecutor): Promise<Rule[]> {
    const rows = await on.all<RuleRow & Record<string, unknown>>(`SELECT ${COLUMNS} FROM wxmp_rules WHERE app_id = ? ORDER BY priority DESC`, [this.appId])
    return rows.map(fromRow)
  }
}

function fromRow(row: RuleRow): Rule {
  const body = JSON.parse(row.body) as Pick<Rule, 'trigger' | 'reply' | 'schedule' | 'cooldownSec' | 'source'>
  return { id: row.id, name: row.name, enabled: Number(row.enabled) === 1, priority: Number(row.priority), ...body, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) }
}

function toMap(rules: Rule[]): Map<string, Rule> {
  return new Map(rules.map((r) => [r.id, r]))
}

function notFound(id: string): WxmpError {
  return new WxmpError('WX_ERR_RULE_INVALID', `no rule with id ${JSON.stringify(id)} (wxmp rules list shows the ids)`, { details: { notFound: id } })
}

