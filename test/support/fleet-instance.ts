/**
 * One instance of a fleet for test/fleet.test.ts: the real server from the environment's
 * configuration, with a slow handler that says which process ran it. Prints READY <url> once
 * listening and RUN <msgId> each time the handler starts.
 */
import { loadConfig } from '../../src/server/config.js'
import { startServer } from '../../src/server/app.js'
import { createLogger } from '../../src/logger.js'

const config = loadConfig(process.env, { dotenv: false })
const server = await startServer({
  config,
  logger: createLogger({ level: 'warn' }),
  setup: (bot) => {
    bot.hears('token', async (ctx) => {
      const token = await ctx.api.token.get()
      await ctx.reply(`token ${token.slice(0, 12)}`)
    })
    bot.on('text', async (ctx) => {
      process.stdout.write(`RUN ${ctx.msgId}\n`)
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.FLEET_HANDLER_MS ?? 800)))
      await ctx.reply(`answered by ${process.pid}`)
    })
  },
})
process.stdout.write(`READY ${server.http.url}\n`)
process.on('SIGTERM', () => {
  void server.close({ drainMs: 2000 }).then(() => process.exit(0))
})
