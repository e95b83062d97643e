/**
 * Private Redis and PostgreSQL instances for the fault suites, on their own loopback ports and
 * data folders. The fault tests stop and start THESE, never the shared services on 6379/5432
 * that other suites run against at the same time (npm test runs test files in parallel).
 * Every instance is a child of the test process and is removed in the caller's `finally`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './server-process.js'

export interface PrivateService {
  url: string
  port: number
  /** Stops the service (the port refuses connections once this resolves). */
  stop(): Promise<void>
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>
  /** Stops it and removes its data (for finally blocks; never throws). */
  destroy(): Promise<void>
}

/** Why the service cannot run here, or undefined when it can. */
export function privateRedisUnavailable(): string | undefined {
  return which('redis-server') === undefined ? 'redis-server is not installed' : undefined
}

export function privatePostgresUnavailable(): string | undefined {
  return postgresBin() === undefined ? 'PostgreSQL server binaries (initdb, pg_ctl) are not installed' : undefined
}

export async function startPrivateRedis(): Promise<PrivateService> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' })
    await waitForPort(port, true)
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGKILL') // a crash, not a polite shutdown
    await exited
    await waitForPort(port, false)
  }
  await start()
  return { url: `redis://127.0.0.1:${port}/0`, port, start, stop, destroy: () => stop().catch(() => undefined) }
}

export async function startPrivatePostgres(): Promise<PrivateService> {
  const bin = postgresBin()
  if (bin === undefined) throw new Error('PostgreSQL binaries not found')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-pg-'))
  const data = join(dir, 'data')
  const asPostgres = (command: string, args: string[]) => {
    const root = process.getuid?.() === 0
    return execFileSync(root ? 'runuser' : command, root ? ['-u', 'postgres', '--', command, ...args] : args, { stdio: 'pipe', timeout: 60_000 })
  }
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresUser()
    chownSync(dir, uid, gid)
  }
  asPostgres(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
  const start = async () => {
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '30', 'start'])
    await waitForPort(port, true)
  }
  const stop = async () => {
    // immediate: what a crash looks like to clients (connections cut, no goodbye)
    asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'])
    await waitForPort(port, false)
  }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    destroy: async () => {
      try {
        if (existsSync(join(data, 'postmaster.pid'))) await stop()
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a))
  for (const version of versions) {
    const bin = join(root, version, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  return undefined
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
  return { uid, gid }
}

function which(command: string): string | undefined {
  try {
    return execFileSync('which', [command], { stdio: 'pipe' }).toString().trim() || undefined
  } catch {
    return undefined
  }
}

/** Waits (at most 20 s) until the port accepts (`open`) or refuses (`!open`) connections. */
async function waitForPort(port: number, open: boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const accepting = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (accepting === open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within 20 s`)
}
