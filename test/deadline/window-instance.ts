/**
 * One instance of a two-instance fleet for test/deadline/retry-window-fleet.test.ts: the real
 * server from the environment's configuration (Redis for dedup and pending answers), with a
 * handler that sleeps as the message says. Prints READY <url> once listening and RUN <openid>
 * each time the handler starts.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { loadConfig } from '../../src/server/config.js'
import { startServer } from '../../src/server/app.js'
import { createLogger } from '../../src/logger.js'

const config = loadConfig(process.env, { dotenv: false })
const server = await startServer({
  config,
  logger: createLogger({ level: 'error' }),
  setup: (bot) => {
    bot.on('text', async (ctx) => {
      process.stdout.write(`RUN ${ctx.openid}\n`)
      await sleep(Number(/sleep (\d+)/.exec(ctx.text ?? '')?.[1] ?? 0))
      await ctx.reply(`answer for ${ctx.openid}`)
    })
  },
})
process.stdout.write(`READY ${server.http.url}\n`)
process.on('SIGTERM', () => {
  void server.close({ drainMs: 2000 }).then(() => process.exit(0))
})
