/**
 * Runs test/hardening/support/server-main.ts as a child process and reads its stdout: the
 * JSON log lines (parsed) and the READY line. Everything stays on loopback; every wait is
 * bounded and the child is killed by `stop()` in the caller's `finally`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('./server-main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface LogLine {
  level: number
  msg?: string
  code?: string
  [field: string]: unknown
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  /** Every stdout line, raw (the redaction test searches these). */
  raw: string[]
  /** The JSON log lines parsed. */
  logs: LogLine[]
  /** Resolves with the first log line (from index `from` on) that matches; rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<LogLine>
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>
  /** SIGKILL if still running (for finally blocks). */
  stop(): Promise<void>
}

/** A TCP port that was free a moment ago (for restarting a server on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

export async function startServerProcess(env: Record<string, string>, options: { readyTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOST: '127.0.0.1', PORT: '0', WXMP_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const raw: string[] = []
  const logs: LogLine[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  let buffered = ''
  let readyUrl: ((url: string) => void) | undefined
  const ready = new Promise<string>((resolve) => (readyUrl = resolve))
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline)
      buffered = buffered.slice(newline + 1)
      raw.push(line)
      if (line.startsWith('READY ')) readyUrl?.(line.slice(6).trim())
      else if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as LogLine)
        } catch {
          // not JSON after all: kept in raw only
        }
      }
      for (const wake of waiters) wake()
    }
  })
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000)
  })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000
  let timer: NodeJS.Timeout | undefined
  const url = await Promise.race([
    ready,
    exited.then((code) => Promise.reject(new Error(`server exited (${code}) before READY:\n${stderr}\n${raw.join('\n')}`))),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`server not READY within ${readyTimeoutMs} ms:\n${stderr}`)), readyTimeoutMs))),
  ]).catch(async (err: unknown) => {
    await stop()
    throw err
  })
  clearTimeout(timer)

  const waitForLog = (match: (line: LogLine) => boolean, { from = 0, timeoutMs = 5000 } = {}) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.slice(from).find(match)
        if (found === undefined) return false
        cleanup()
        resolve(found)
        return true
      }
      const deadline = setTimeout(() => {
        cleanup()
        reject(new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${raw.slice(-5).join('\n')}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(deadline)
        waiters.delete(wake)
      }
      const wake = () => void check()
      if (!check()) waiters.add(wake)
    })

  return { child, url, raw, logs, waitForLog, exited, stop }
}
