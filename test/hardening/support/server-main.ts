/**
 * The real server as its own process, for the hardening suites: configuration from the
 * environment, the real JSON logger on stdout, the echo bot. Prints `READY <url>` once
 * listening. SIGTERM drains and exits 0 (the CLI's shutdown path).
 *
 * Extra variables (tests only): HARDENING_HEADERS_TIMEOUT_MS, HARDENING_REQUEST_TIMEOUT_MS,
 * HARDENING_SPOOL_DIR, HARDENING_SLOW_MS (a text "slow" waits this long before replying).
 */
import { loadConfig } from '../../../src/server/config.js'
import { startServer } from '../../../src/server/app.js'
import { installEchoBot } from '../../../src/server/echo-bot.js'

const env = process.env
const config = loadConfig(env, { dotenv: false })
const number = (name: string) => (env[name] === undefined ? undefined : Number(env[name]))
const headersTimeoutMs = number('HARDENING_HEADERS_TIMEOUT_MS')
const requestTimeoutMs = number('HARDENING_REQUEST_TIMEOUT_MS')
const server = await startServer({
  config,
  ...(env.HARDENING_SPOOL_DIR === undefined ? {} : { spoolDir: env.HARDENING_SPOOL_DIR }),
  http: { ...(headersTimeoutMs === undefined ? {} : { headersTimeoutMs }), ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) },
  setup: (bot) => {
    bot.hears('slow', async (ctx) => {
      ctx.log.info({}, 'slow handler started')
      await new Promise((resolve) => setTimeout(resolve, number('HARDENING_SLOW_MS') ?? 500))
      await ctx.reply('slow done')
    })
    // a handler that logs what must never be printed: the redaction test reads stdout for it
    bot.hears('log secrets', async (ctx) => {
      ctx.log.info({ token: config.token, appSecret: config.appSecret, encodingAESKey: config.encodingAESKey, access_token: 'ACCESS_TOKEN_SHOULD_NOT_LEAK', config: { token: config.token, appSecret: config.appSecret } }, 'handler logged its configuration')
      await ctx.reply('logged')
    })
    installEchoBot(bot)
  },
})
process.stdout.write(`READY ${server.http.url}\n`)
let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  void server.close({ drainMs: 5000 }).then(() => process.exit(0))
})
