/**
 * Files that belong to one running instance (`<kind>-<pid>-<random>@<host>-<n>.log`), and
 * finding those of instances that stopped, so that the next start takes them over (the
 * message log's records not yet loaded into SQLite, the replay and dedup journal).
 */
import { randomBytes } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

/** This instance's tag for a kind of file: `<kind>-<pid>-<random>@<host>`. */
export function instancePrefix(kind: string): string {
  return `${kind}-${process.pid}-${randomBytes(4).toString('hex')}@${safeHost(hostname())}`
}

/** Prefixes in use by this process (several stores can be open in one process, e.g. tests). */
const live = new Set<string>()

export function claimPrefix(prefix: string): void {
  live.add(prefix)
}

export function releasePrefix(prefix: string): void {
  live.delete(prefix)
}

/**
 * The `<kind>-…` files in `dir` of instances that stopped: this host's dead processes, or files
 * nobody has written for `staleMs` (another host's). Oldest first; within one instance, by
 * segment number.
 */
export function orphanFiles(dir: string, kind: string, staleMs = 120_000): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const pattern = new RegExp(`^(${kind}-(\\d+)-[a-z0-9]+@([^-]+))-(\\d+)\\.log$`)
  const host = safeHost(hostname())
  const found: Array<{ name: string; mtime: number; segment: number }> = []
  for (const name of names) {
    const match = pattern.exec(name)
    if (match === null || live.has(match[1]!)) continue
    let mtime: number
    try {
      mtime = statSync(join(dir, name)).mtimeMs
    } catch {
      continue
    }
    const pid = Number(match[2])
    // a file with this process's pid and no live prefix is from an earlier process that had the same pid
    const dead = match[3] === host && (pid === process.pid || !processAlive(pid))
    if (dead || Date.now() - mtime > staleMs) found.push({ name, mtime, segment: Number(match[4]) })
  }
  return found.sort((a, b) => a.mtime - b.mtime || a.segment - b.segment).map((f) => f.name)
}

/** Whether a process with this pid runs on this machine (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.]/g, '_') || 'host'
}
