/**
 * A webhook process for test/deadline/crash-takeover.test.ts: a bot whose dedup store is the one
 * named by STORE_URL (SQLite file, Redis), a handler of HANDLER_MS (default 300 ms), no API
 * client (so late answers use the retry window), and no other state. Prints READY
 * <url> once listening and RUN <openid> as each handler starts, so the test can kill -9 it in
 * the middle of its handlers. WXMP_MAIN_SRC points it at another copy of the sources (to
 * measure the code before a change the same way).
 */
import { setTimeout as sleep } from 'node:timers/promises'

const src = process.env.WXMP_MAIN_SRC ?? new URL('../../src/', import.meta.url).href
const { Bot } = (await import(`${src}bot.ts`)) as typeof import('../../src/bot.js')
const { serve } = (await import(`${src}adapters/node.ts`)) as typeof import('../../src/adapters/node.js')
const { createStore } = (await import(`${src}storage/create-store.ts`)) as typeof import('../../src/storage/create-store.js')
const { prefixed } = (await import(`${src}storage/prefixed.ts`)) as typeof import('../../src/storage/prefixed.js')
const { createLogger } = (await import(`${src}logger.ts`)) as typeof import('../../src/logger.js')

const store = prefixed(createStore(process.env.STORE_URL!), process.env.STORE_PREFIX ?? 'crash:')
const bot = new Bot({ token: 'crashtoken', store, sharedStore: store, logger: createLogger({ level: 'silent' }), typingAfterMs: false })
bot.on('text', async (ctx) => {
  process.stdout.write(`RUN ${ctx.openid}\n`)
  await sleep(Number(process.env.HANDLER_MS ?? 300))
  await ctx.reply(`answer for ${ctx.openid}`)
})
const server = await serve(bot, { port: 0, host: '127.0.0.1' })
process.stdout.write(`READY ${server.url}\n`)
