/**
 * `wxmp serve` and `wxmp fake-wechat` as a user starts them: child processes configured by
 * environment variables, in a folder of their own, found through the URL they print. The CLI
 * runs from the sources (test/support/wxmp-cli.ts is what bin/wxmp.js runs from dist/), so the
 * suites check the code under test without a build.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../support/wxmp-cli.ts', import.meta.url))
const PROBE_BOT = fileURLToPath(new URL('./probe-bot.ts', import.meta.url))
/** tsx by its resolved location: the child runs in a temporary folder, where a bare `tsx` is not found. */
const TSX = import.meta.resolve('tsx')

export interface Running {
  url: string
  dir: string
  output(): string
  stop(): Promise<void>
}

/** Runs `wxmp <argv>` in a fresh folder and resolves once a line of its output matches `ready`. */
export async function runWxmp(argv: string[], env: Record<string, string>, ready: RegExp): Promise<Running & { match: RegExpExecArray }> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-blackbox-'))
  const child: ChildProcess = spawn(process.execPath, ['--import', TSX, CLI, ...argv], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir, WXMP_LOG_FORMAT: 'json', WXMP_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wxmp ${argv[0]} printed no ${ready} within 30 s:\n${output}`)), 30_000)
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8')
      const found = ready.exec(output)
      if (found !== null) {
        clearTimeout(timer)
        resolve(found)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    void exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`wxmp ${argv[0]} exited before it was ready:\n${output}`))
    })
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 12_000)
      await exited
      clearTimeout(killer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  return { url: match[1] ?? '', dir, match, output: () => output, stop }
}

export interface WebhookServer extends Running {
  /** Everything the handlers saw, one entry per handled delivery, in order. */
  seen(): Seen[]
  /** The entry for the message whose FromUserName is `openid` (the last one), or undefined. */
  seenFrom(openid: string): Seen | undefined
}

export interface Seen {
  message: Record<string, unknown>
  openid: string
  msgId?: string
  event?: string
  eventKey?: string
  scene?: string
  text?: string
}

/**
 * `wxmp serve --bot probe-bot.ts` (or, with `echoBot`, plain `wxmp serve`: the echo bot) on
 * 127.0.0.1 and a free port, memory storage, the given variables.
 */
export async function startWebhook(env: Record<string, string>, options: { echoBot?: boolean } = {}): Promise<WebhookServer> {
  const logFile = join(tmpdir(), `wxmp-blackbox-seen-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`)
  const running = await runWxmp(options.echoBot === true ? ['serve'] : ['serve', '--bot', PROBE_BOT], { HOST: '127.0.0.1', PORT: '0', DATABASE_URL: 'memory:', WXMP_CONSOLE: '0', BLACKBOX_LOG: logFile, ...env }, /Webhook URL : (http:\/\/\S+)/)
  const seen = (): Seen[] =>
    existsSync(logFile)
      ? readFileSync(logFile, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Seen)
      : []
  return {
    ...running,
    seen,
    seenFrom: (openid) => seen().findLast((entry) => entry.openid === openid),
    stop: async () => {
      await running.stop()
      rmSync(logFile, { force: true })
    },
  }
}

/** `wxmp fake-wechat` on a free port; its URL and the credentials it accepts. */
export async function startFakeWechat(argv: string[] = []): Promise<Running & { appId: string; appSecret: string }> {
  const running = await runWxmp(['fake-wechat', '--port', '0', ...argv], {}, /WECHAT_API_BASE=(http:\/\/\S+) WECHAT_APPID=(\S+) WECHAT_APPSECRET=(\S+)/)
  return { ...running, appId: running.match[2]!, appSecret: running.match[3]! }
}

/** Runs a short `wxmp` command to its end in a fresh folder: its exit code and output. */
export async function execWxmp(argv: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-blackbox-'))
  try {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...argv], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
    clearTimeout(killer)
    return { code, output }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
