/**
 * The message log spool's files (src/records/spool.ts): the JSONL lines, the file names that
 * say which instance owns a spool, the rewrite, the rejected file, and how a stopped
 * instance's spool is recognised.
 */
import { appendFileSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { InboundRecord, OutcomeRecord } from '../bot-options.js'
import type { FollowerChange } from './followers.js'
import { processAlive } from '../storage/instance-files.js'

export type SpoolLine =
  | { op: 'inbound'; ref: string; entry: InboundRecord }
  | { op: 'outcome'; id: string | number; outcome: OutcomeRecord }
  | { op: 'follower'; change: FollowerChange }

const FILE_NAME = /^spool-(\d+)-([a-z0-9]+)@(.+)\.jsonl$/
/** Spooled records are users' messages: readable by this user only. */
const PRIVATE = 0o600
/** Spool files held open by this process (several servers can run in one process, e.g. tests). */
export const liveFiles = new Set<string>()

/** This process's spool file: `spool-<pid>-<id>@<host>.jsonl` in `dir`. */
export function spoolFileName(dir: string, id: string, host: string): string {
  return join(dir, `spool-${process.pid}-${id}@${safeHost(host)}.jsonl`)
}

/** The name a stopped instance's spool is renamed to while it is adopted (`n` keeps it unique). */
export function claimedFileName(dir: string, id: string, n: number, host: string): string {
  return join(dir, `spool-${process.pid}-${id}c${n}@${safeHost(host)}.claimed`)
}

export function appendSpoolLine(file: string, line: SpoolLine): void {
  appendFileSync(file, JSON.stringify(line) + '\n', { mode: PRIVATE })
}

/** Rewrites a spool file with these lines (atomically, through a rename); no lines deletes it. */
export function rewriteSpool(file: string, lines: readonly SpoolLine[]): void {
  if (lines.length === 0) {
    unlinkQuietly(file)
    return
  }
  const text = lines.map((line) => JSON.stringify(line) + '\n').join('')
  const tmp = `${file}.tmp`
  writeFileSync(tmp, text, { mode: PRIVATE })
  renameSync(tmp, file)
}

/** Sets a refused record aside in `rejected.jsonl` with its error; returns that file's path. */
export function setAside(dir: string, line: SpoolLine, err: unknown): string {
  const file = join(dir, 'rejected.jsonl')
  appendFileSync(file, JSON.stringify({ at: new Date().toISOString(), error: errorText(err), line }) + '\n', { mode: PRIVATE })
  return file
}

/** Reads a spool file; a line cut short by a crash mid-append is set aside, not fatal. */
function readSpool(dir: string, path: string): SpoolLine[] {
  const out: SpoolLine[] = []
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (text.trim() === '') continue
    try {
      const line = JSON.parse(text) as SpoolLine
      if (line.op !== 'inbound' && line.op !== 'outcome' && line.op !== 'follower') throw new Error(`unknown op ${String((line as { op?: unknown }).op)}`)
      out.push(line)
    } catch (err) {
      appendFileSync(join(dir, 'rejected.jsonl'), JSON.stringify({ at: new Date().toISOString(), error: `unreadable spool line: ${errorText(err)}`, text }) + '\n', { mode: PRIVATE })
    }
  }
  return out
}

/**
 * Takes over the spool files of stopped instances in `dir`: each is renamed to `claimedName()`
 * first (so only one taker wins), read, handed to `take`, then deleted. Returns how many lines
 * were taken.
 */
export function adoptOrphanSpools(dir: string, own: string, host: string, orphanAfterMs: number, claimedName: () => string, take: (lines: SpoolLine[]) => void): number {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let adopted = 0
  for (const name of names) {
    const path = join(dir, name)
    if (path === own || !isOrphanSpool(name, path, host, orphanAfterMs)) continue
    const claimed = claimedName()
    try {
      renameSync(path, claimed)
    } catch {
      continue // another instance took it first
    }
    const lines = readSpool(dir, claimed)
    take(lines)
    adopted += lines.length
    unlinkQuietly(claimed)
  }
  return adopted
}

/**
 * True for the spool file of a stopped instance: untouched for `orphanAfterMs`, or of this
 * host with a dead pid (or this pid, and not held open here).
 */
function isOrphanSpool(name: string, path: string, host: string, orphanAfterMs: number): boolean {
  const match = FILE_NAME.exec(name)
  if (match === null) return false
  let mtimeMs: number
  try {
    mtimeMs = statSync(path).mtimeMs
  } catch {
    return false
  }
  if (Date.now() - mtimeMs > orphanAfterMs) return true
  if (match[3] !== safeHost(host)) return false
  const pid = Number(match[1])
  if (pid === process.pid) return !liveFiles.has(path)
  return !processAlive(pid)
}

function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_') || 'host'
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // already gone
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
