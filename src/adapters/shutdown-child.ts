/**
 * For shutdown-signals.test.ts: a library user's server, `serve(bot)` and nothing else. The
 * handler outlives its HTTP answer (deadline 100 ms, work 800 ms) and then writes the file
 * named by argv[2]; argv[3] = 'opt-out' passes drainOnSignals: false.
 */
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { Bot } from '../bot.js'
import { serve } from './node.js'

const [marker, mode] = process.argv.slice(2)
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet }
const bot = new Bot({ token: 'shutdowntoken', replyTimeoutMs: 100, typingAfterMs: false, late: 'drop', logger: quiet })
bot.on('text', async (ctx) => {
  process.stdout.write('handler started\n')
  await sleep(800)
  writeFileSync(marker!, 'finished')
  await ctx.reply('late')
})
const server = await serve(bot, { port: 0, host: '127.0.0.1', ...(mode === 'opt-out' ? { drainOnSignals: false } : {}) })
process.stdout.write(`${server.url}\n`)
