/**
 * A server under test in its own process: started, waited for, measured from /proc (CPU time
 * and peak RSS, as the kernel counts them), and stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Launch {
  command: string
  args: string[]
  env: Record<string, string>
  cwd: string
  /** Where the server's stdout goes (e.g. --trace-gc lines); default: discarded. */
  stdoutFile?: string
}

export interface RunningTarget {
  pid: number
  port: number
  /** User and system CPU seconds the process has used so far. */
  cpuSeconds(): { user: number; system: number }
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): number
  /** What the process wrote to stderr and (without a stdout file) stdout, for error messages. */
  output(): string
  stop(): Promise<void>
}

const CLOCK_TICKS = 100 // USER_HZ on Linux

/** A port the kernel says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Starts the process and resolves once its port accepts connections (at most 30 s). */
export async function startTarget(launch: Launch, port: number): Promise<RunningTarget> {
  // without a file, stdout is read too: a run that fails names the cause the server logged (a WX_ERR code)
  const stdout = launch.stdoutFile === undefined ? 'pipe' : openSync(launch.stdoutFile, 'a')
  const child: ChildProcess = spawn(launch.command, launch.args, { cwd: launch.cwd, env: { ...launch.env, BENCH_PORT: String(port), PORT: String(port) }, stdio: ['ignore', stdout, 'pipe'] })
  if (typeof stdout === 'number') closeSync(stdout)
  let output = ''
  const keep = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString()
  }
  child.stderr?.on('data', keep)
  child.stdout?.on('data', keep)
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true
    resolve()
  }))
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${launch.command} ${launch.args.join(' ')}`)
  const startedAt = Date.now()
  for (;;) {
    if (exited) throw new Error(`${launch.args.join(' ')} exited before listening: ${output.slice(0, 2000)}`)
    if (await canConnect(port)) break
    if (Date.now() - startedAt > 30_000) {
      child.kill('SIGKILL')
      throw new Error(`${launch.args.join(' ')} did not listen on ${port} within 30 s: ${output.slice(0, 2000)}`)
    }
    await sleep(50)
  }
  return {
    pid,
    port,
    cpuSeconds: () => {
      // fields after the command name: state is 3rd, utime 14th, stime 15th (1-based)
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS }
    },
    peakRss: () => {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      return match === null ? 0 : Number(match[1]) * 1024
    },
    output: () => output,
    stop: async () => {
      if (exited) return
      child.kill('SIGTERM')
      const killed = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)])
      if (!killed) {
        child.kill('SIGKILL')
        await exit
      }
    },
  }
}
