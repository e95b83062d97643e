/**
 * The bot as `npm start` runs it, for the in-process micro-benchmarks: the ready-to-run server
 * (`startServer`, the echo bot, the SQLite message log, the journaled per-request store, the
 * server's own middleware: follower tracking, rules, pending answers) on a fresh file in a
 * temporary folder, driven through `bot.handle`: no HTTP traffic, no load generator, so what the
 * default path costs on the event loop shows without loopback noise. It is the server's own
 * wiring on purpose: a middleware of its chain that answered later (follower tracking did) sent
 * every message down the asynchronous path, which a hand-wired bot here did not show.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Bot } from '../src/bot.js'
import { createLogger } from '../src/logger.js'
import { startServer } from '../src/server/app.js'
import { loadConfig } from '../src/server/config.js'
import { ACCOUNT } from './requests.js'
import { prepareDurableStores } from './storage-setup.js'
import { DURABLE } from './targets.js'

export interface DefaultPath {
  bot: Bot
  close(): Promise<void>
}

/**
 * The ready-to-run server with the echo bot on a fresh SQLite file in a temporary folder, or
 * (`fleet`) on the benchmark's own Redis db and PostgreSQL database, emptied first, as the
 * `wxmp-redis-pg` target runs.
 */
export async function openDefaultPath(mode: 'plain' | 'aes', storage: 'default' | 'fleet' = 'default'): Promise<DefaultPath> {
  const durable = storage === 'fleet' ? await prepareDurableStores() : undefined
  await durable?.reset().catch(async (err: unknown) => {
    await durable.close()
    throw err
  })
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-micro-'))
  const env = {
    WECHAT_TOKEN: ACCOUNT.token,
    WECHAT_APPID: ACCOUNT.appId,
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
    WXMP_LOG_LEVEL: 'silent',
    ...(durable === undefined ? {} : { REDIS_URL: DURABLE.redisUrl, DATABASE_URL: DURABLE.postgresUrl, WXMP_MESSAGE_LOG: '1' }),
    ...(mode === 'aes' ? { WECHAT_AES_KEY: ACCOUNT.encodingAESKey, WECHAT_REQUIRE_ENCRYPTION: '1' } : {}),
  }
  const server = await startServer({ config: loadConfig(env, { cwd: dir, dotenv: false }), logger: createLogger({ level: 'silent' }) })
  return {
    bot: server.bot,
    async close() {
      await server.close()
      await durable?.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
