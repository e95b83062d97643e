/**
 * The rules in the ready-to-run server (`wxmp serve`): the store on DATABASE_URL, the rules
 * file (WXMP_RULES_FILE) imported when its content changed, a live cache polling the version
 * (WXMP_RULES_POLL_MS) and the middleware in the configured order (WXMP_RULES), installed
 * before the code handlers.
 */
import type { Bot } from '../bot.js'
import type { Logger } from '../logger.js'
import type { WxmpConfig } from '../server/config.js'
import { LiveRules } from './live.js'
import { rules } from './middleware.js'
import { openRuleStore, type RuleStore } from './store.js'

export interface ServerRules {
  store: RuleStore
  live: LiveRules
  close(): Promise<void>
}

export async function installRules(bot: Bot, config: Pick<WxmpConfig, 'databaseUrl' | 'appId' | 'rules' | 'rulesFile' | 'rulesPollMs'>, logger: Logger): Promise<ServerRules | undefined> {
  if (config.rules === 'off') return undefined
  const store = await openRuleStore(config.databaseUrl, { appId: config.appId ?? '' })
  try {
    if (config.rulesFile !== undefined) {
      const result = await store.importFileOnce(config.rulesFile)
      if (result.skipped) logger.info({ file: config.rulesFile }, 'rules file unchanged since its last import: the stored rules stay as they are')
      else logger.info({ file: config.rulesFile, created: result.created.length, updated: result.updated.length, removed: result.removed.length }, 'rules file imported')
    }
    const live = await LiveRules.start(store, { pollMs: config.rulesPollMs, logger })
    bot.use(rules(live, { order: config.rules }))
    return {
      store,
      live,
      async close() {
        live.stop()
        await store.close()
      },
    }
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
}
