/**
 * The servers under test and how each is started: wxmp as the real `wxmp serve` (dist/, echo
 * bot), the incumbents and the bare ceiling as small scripts under bench/targets/. Each runs
 * in its own process with NODE_ENV=production, like a deployment.
 */
import { fileURLToPath } from 'node:url'
import type { Launch } from './server-process.js'
import { ACCOUNT, type Mode } from './requests.js'

export type TargetGroup = 'core' | 'storage' | 'baseline' | 'console'

export interface Target {
  id: string
  label: string
  mode: Mode
  group: TargetGroup
  /** The bare ceiling answers a constant, so only its status is checked. */
  echoes: boolean
  launch(workDir: string): Launch
}

const root = fileURLToPath(new URL('..', import.meta.url))
const node = process.execPath

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: 'production', WECHAT_TOKEN: ACCOUNT.token }
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

function aesEnv(mode: Mode): Record<string, string> {
  return mode === 'aes' ? { WECHAT_AES_KEY: ACCOUNT.encodingAESKey, WECHAT_APPID: ACCOUNT.appId } : {}
}

/** `wxmp serve` with the echo bot; `storage` is the env that picks the stores; `checkout` another build's root. */
function wxmp(id: string, label: string, mode: Mode, group: TargetGroup, storage: (workDir: string) => Record<string, string>, checkout = root): Target {
  return {
    id,
    label,
    mode,
    group,
    echoes: true,
    launch: (workDir) => ({
      command: node,
      args: [`${checkout}bin/wxmp.js`, 'serve', '--host', '127.0.0.1', '--path', '/wechat'],
      cwd: workDir, // no .env of the developer's is read, no data/ is written in the repo
      env: {
        ...baseEnv(),
        ...aesEnv(mode),
        ...(mode === 'aes' ? { WECHAT_REQUIRE_ENCRYPTION: '1' } : {}),
        WXMP_LOG_LEVEL: 'warn',
        ...storage(workDir),
      },
    }),
  }
}

/** A bench/targets/*.mjs script. */
function script(id: string, label: string, file: string, mode: Mode, echoes = true, group: TargetGroup = 'core', env: (workDir: string) => Record<string, string> = () => ({})): Target {
  return {
    id,
    label,
    mode,
    group,
    echoes,
    launch: (workDir) => ({
      command: node,
      args: [`${root}bench/targets/${file}`],
      cwd: workDir,
      env: { ...baseEnv(), ...aesEnv(mode), BENCH_MODE: mode, ...env(workDir) },
    }),
  }
}

/** The fleet's setup: Redis for the replay guard, dedup and sessions, PostgreSQL for the message log. */
const redisPostgres = () => ({ REDIS_URL: DURABLE.redisUrl, DATABASE_URL: DURABLE.postgresUrl, WXMP_MESSAGE_LOG: '1' })

/** The operator console's scenario (bench/targets/console-live.mjs): run with --only wxmp-console-off,wxmp-console-live. */
const consoleEnv = (watching: boolean) => (workDir: string) => ({ DATABASE_URL: `sqlite:${workDir}/wxmp.db`, WXMP_MESSAGE_LOG: '1', WXMP_LOG_LEVEL: 'warn', BENCH_CONSOLE: watching ? 'on' : 'off' })

const memoryOnly = () => ({ DATABASE_URL: 'memory:', WXMP_MESSAGE_LOG: '0' })
/** What `npm start` runs: the SQLite file (message log on, replay and dedup journaled), no Redis. */
const npmStart = (workDir: string) => ({ DATABASE_URL: `sqlite:${workDir}/data/wxmp.db` })

/** Where the Redis + PostgreSQL variant keeps its data (a database and a Redis db of its own). */
export const DURABLE = {
  redisUrl: 'redis://127.0.0.1:6379/13',
  postgresAdminUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  postgresUrl: 'postgres://postgres@127.0.0.1:5432/wxmp_bench',
}

export const TARGETS: Target[] = [
  wxmp('wxmp-default', 'wxmp as npm start runs it (plaintext)', 'plain', 'core', npmStart),
  wxmp('wxmp-plain', 'wxmp memory mode (plaintext)', 'plain', 'core', memoryOnly),
  script('wechat-plain', 'wechat + Express 4 (plaintext)', 'wechat-express.mjs', 'plain'),
  script('co-wechat-plain', 'co-wechat + Koa 2 (plaintext)', 'co-wechat-koa.mjs', 'plain'),
  script('bare', 'bare node:http (ceiling)', 'bare.mjs', 'plain', false),
  wxmp('wxmp-default-aes', 'wxmp as npm start runs it (safe mode)', 'aes', 'core', npmStart),
  wxmp('wxmp-aes', 'wxmp memory mode (safe mode)', 'aes', 'core', memoryOnly),
  script('wechat-aes', 'wechat + Express 4 (safe mode)', 'wechat-express.mjs', 'aes'),
  script('co-wechat-aes', 'co-wechat + Koa 2 (safe mode)', 'co-wechat-koa.mjs', 'aes'),
  wxmp('wxmp-redis-pg', 'wxmp + Redis + PostgreSQL log (plaintext)', 'plain', 'storage', redisPostgres),
  script('wxmp-console-off', 'wxmp (plaintext) + SQLite log, console off', 'console-live.mjs', 'plain', true, 'console', consoleEnv(false)),
  script('wxmp-console-live', 'wxmp (plaintext) + SQLite log, console open and streaming', 'console-live.mjs', 'plain', true, 'console', consoleEnv(true)),
]

/**
 * The same wxmp targets from another build (a checkout of an earlier commit with `npm run
 * build` done), for before/after comparisons in one interleaved run: `--baseline DIR`.
 */
export function baselineTargets(checkout: string): Target[] {
  const dir = checkout.endsWith('/') ? checkout : `${checkout}/`
  return [
    wxmp('baseline-default', 'wxmp as npm start runs it (plaintext) @ baseline', 'plain', 'baseline', npmStart, dir),
    wxmp('baseline-plain', 'wxmp memory mode (plaintext) @ baseline', 'plain', 'baseline', memoryOnly, dir),
    wxmp('baseline-default-aes', 'wxmp as npm start runs it (safe mode) @ baseline', 'aes', 'baseline', npmStart, dir),
    wxmp('baseline-aes', 'wxmp memory mode (safe mode) @ baseline', 'aes', 'baseline', memoryOnly, dir),
    wxmp('baseline-redis-pg', 'wxmp + Redis + PostgreSQL log (plaintext) @ baseline', 'plain', 'baseline', redisPostgres, dir),
  ]
}
