// wxmp serve (dist/, echo bot, SQLite message log) with the operator console on, and, unless
// BENCH_CONSOLE=off, an operator watching it: a separate process signs in, holds the inbox's
// live stream (server-sent events) open and reloads the conversation list whenever the page
// would (on every "gap"). Compare wxmp-console-live with wxmp-console-off: the issue asks for
// the webhook's throughput with the console open and streaming within 10 % of without it.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = new URL('../../', import.meta.url)
const { hashPassword } = await import(new URL('dist/console/password.js', root).href)
const { main } = await import(new URL('dist/cli/main.js', root).href)

const watching = process.env.BENCH_CONSOLE !== 'off'
const password = 'bench operator password'
process.env.WXMP_CONSOLE_USERS = `bench:${await hashPassword(password, { log2N: 12, r: 8, p: 1 })}`
if (!watching) process.env.WXMP_CONSOLE = '0'

if (watching) {
  const watcher = spawn(process.execPath, [fileURLToPath(new URL('bench/targets/console-watcher.mjs', root))], {
    env: { ...process.env, BENCH_CONSOLE_PASSWORD: password },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  process.on('exit', () => watcher.kill())
}
await main(['serve', '--host', '127.0.0.1', '--path', '/wechat'], () => {})
