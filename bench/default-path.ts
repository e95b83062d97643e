/**
 * The bot as `npm start` wires it (SQLite message log through the spool, the per-request store,
 * the shared store in the same file), for the in-process micro-benchmarks: no HTTP, no load
 * generator, so what the default path costs on the event loop shows without loopback noise.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Bot } from '../src/bot.js'
import { createLogger } from '../src/logger.js'
import { installEchoBot } from '../src/server/echo-bot.js'
import { loadConfig } from '../src/server/config.js'
import { openServerStores } from '../src/server/stores.js'
import { botOptionsFrom } from '../src/server/app.js'
import { ACCOUNT } from './requests.js'

export interface DefaultPath {
  bot: Bot
  close(): Promise<void>
}

/** An echo bot on a fresh SQLite file in a temporary folder, wired as the server wires it. */
export async function openDefaultPath(mode: 'plain' | 'aes'): Promise<DefaultPath> {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-micro-'))
  const logger = createLogger({ level: 'silent' })
  const env = {
    WECHAT_TOKEN: ACCOUNT.token,
    WECHAT_APPID: ACCOUNT.appId,
    DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}`,
    WXMP_LOG_LEVEL: 'silent',
    ...(mode === 'aes' ? { WECHAT_AES_KEY: ACCOUNT.encodingAESKey, WECHAT_REQUIRE_ENCRYPTION: '1' } : {}),
  }
  const config = loadConfig(env, { cwd: dir, dotenv: false })
  const stores = await openServerStores(config, { logger })
  const bot = new Bot({ ...botOptionsFrom(config), ...stores.botOptions, logger })
  installEchoBot(bot)
  return {
    bot,
    async close() {
      await stores.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
