/**
 * `wxmp rules import` (no file): read the console's settings, convert them (console-convert.ts),
 * keep their media, and store the rules — idempotently:
 *
 * - images and voices come back as temporary media ids (new on every read, valid 3 days): each
 *   file is downloaded, and copied to permanent material only when the rule is new or its
 *   content changed. A rule's `source.fingerprint` digests the console setting with media by
 *   content, so a second import finds everything unchanged and uploads nothing;
 * - console rules rank below the rules you made yourself; rules from an earlier import that
 *   the console no longer has are listed, never deleted;
 * - the store write is one all-or-nothing import (merge by id).
 */
import { createHash } from 'node:crypto'
import type { WechatApi } from '../api/client.js'
import { validateMenu, type Menu } from '../api/menu-limits.js'
import { convertConsole, type ConsoleConversion, type ConsoleDraft, type ConsoleSnapshot } from './console-convert.js'
import { toInput } from './file.js'
import type { RulesImportResult, RuleStore } from './store.js'
import type { Rule, RuleInput, RuleReply } from './types.js'

/** Where console media go: read a temporary file, keep it as permanent material. */
export interface ConsoleMedia {
  download(tempId: string): Promise<{ data: Buffer; filename: string; contentType: string }>
  keep(kind: 'image' | 'voice', file: { data: Buffer; filename: string; contentType: string }): Promise<string>
}

export interface ConsoleImportPlan extends Omit<ConsoleConversion, 'drafts'> {
  /** The rules as they will be stored (media ids are the console's temporary ones in a dry run). */
  rules: RuleInput[]
  /** What the store did (or would do). */
  result: RulesImportResult
  /** Media files copied to permanent material (0 in a dry run), and files that will be / were copied. */
  media: { toCopy: number; copied: number }
  /** Ids of rules from an earlier console import that the console no longer has (kept). */
  stale: string[]
}

/** Reads both console endpoints. */
export async function readConsole(api: WechatApi): Promise<ConsoleSnapshot> {
  const [autoreply, menu] = await Promise.all([api.autoReply.current(), api.autoReply.currentMenu()])
  return { autoreply, menu }
}

/** Downloads temporary media with the API client and keeps them with `/cgi-bin/material/add_material`. */
export function apiConsoleMedia(api: WechatApi): ConsoleMedia {
  return {
    async download(tempId) {
      const file = await api.media.download(tempId)
      if (file.kind !== 'file') throw new Error(`media ${tempId} is a video link, not a file`)
      const data = await file.buffer()
      return { data, filename: file.filename ?? `${tempId}.bin`, contentType: file.contentType }
    },
    async keep(kind, file) {
      return (await api.material.add(kind, file.data, file.filename)).mediaId
    },
  }
}

/** Plans (dryRun) or runs the import of a console snapshot into the store. */
export async function importConsole(snapshot: ConsoleSnapshot, store: RuleStore, media: ConsoleMedia, options: { dryRun?: boolean } = {}): Promise<ConsoleImportPlan> {
  const conversion = convertConsole(snapshot)
  const existing = await store.list()
  const byId = new Map(existing.map((r) => [r.id, r]))
  const files = new Map<string, { data: Buffer; filename: string; contentType: string; sha256: string }>()
  const drafts: ConsoleDraft[] = []
  for (const d of conversion.drafts) {
    try {
      for (const m of d.media) {
        const file = await media.download(m.tempId)
        files.set(m.tempId, { ...file, sha256: createHash('sha256').update(file.data).digest('hex') })
      }
      drafts.push(d)
    } catch (err) {
      conversion.notConverted.push({ what: `${d.rule.name} (${d.rule.id})`, why: `its media could not be downloaded: ${(err as Error).message}` })
    }
  }
  const priorities = assignConsolePriorities(drafts, existing)
  const rules: RuleInput[] = []
  let toCopy = 0
  let copied = 0
  for (const d of drafts) {
    const fingerprint = digest({ ...d.rule, reply: withMedia(d.rule.reply, (id) => `sha256:${files.get(id)!.sha256}`) })
    const previous = byId.get(d.rule.id)
    const priority = priorities.get(d.rule.id)!
    if (previous?.source?.fingerprint === fingerprint) {
      rules.push({ ...toInput(previous), priority })
      continue
    }
    toCopy += d.media.length
    let reply = d.rule.reply
    if (!options.dryRun && d.media.length > 0) {
      const kept = new Map<string, string>()
      for (const m of d.media) {
        kept.set(m.tempId, await media.keep(m.kind, files.get(m.tempId)!))
        copied++
      }
      reply = withMedia(reply, (id) => kept.get(id)!)
    }
    rules.push({ ...d.rule, reply, priority, source: { kind: 'console', fingerprint } })
  }
  if (conversion.menu !== undefined) {
    try {
      validateMenu(conversion.menu)
    } catch (err) {
      conversion.notConverted.push({ what: 'the menu', why: (err as Error).message })
      conversion.menu = undefined
    }
  }
  const result = await store.import(rules, { mode: 'merge', ...(options.dryRun ? { dryRun: true } : {}) })
  const current = new Set(rules.map((r) => r.id))
  const stale = existing.filter((r) => r.source?.kind === 'console' && !current.has(r.id) && !isKeptMenuRule(r, conversion.menu)).map((r) => r.id)
  const { drafts: _drafts, ...rest } = conversion
  return { ...rest, rules, result, media: { toCopy, copied }, stale }
}

/**
 * Priorities for the console's rules, in their order (menu, follow, keyword rules newest first,
 * default), just below the lowest of your own rules, skipping those still held by console rules
 * the console no longer has. The same console and the same rules of yours give the same numbers.
 */
function assignConsolePriorities(drafts: ConsoleDraft[], existing: Rule[]): Map<string, number> {
  const ids = new Set(drafts.map((d) => d.rule.id))
  const own = existing.filter((r) => r.source?.kind !== 'console')
  const held = new Set(existing.filter((r) => r.source?.kind === 'console' && !ids.has(r.id)).map((r) => r.priority))
  let next = (own.length === 0 ? 10_000 : Math.min(...own.map((r) => r.priority))) - 1
  const out = new Map<string, number>()
  for (const d of drafts) {
    while (held.has(next)) next--
    out.set(d.rule.id, next--)
  }
  return out
}

/** A menu rule whose button is still in the (now API) menu is not stale: it answers that button. */
function isKeptMenuRule(rule: Rule, menu: Menu | undefined): boolean {
  if (rule.trigger.type !== 'click' || menu === undefined) return false
  const key = rule.trigger.key
  return menu.button.some((b) => b.key === key || (b.sub_button ?? []).some((s) => s.key === key))
}

function withMedia(reply: RuleReply, map: (tempId: string) => string): RuleReply {
  const one = <R extends RuleReply>(r: R): R => (r.type === 'image' || r.type === 'voice' ? { ...r, mediaId: map(r.mediaId) } : r)
  if (reply.type === 'all' || reply.type === 'random') return { ...reply, replies: reply.replies.map(one) }
  return one(reply)
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32)
}
