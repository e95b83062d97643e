/**
 * One account of the server: its Bot on the shared stores (namespaced by its AppID), its API
 * client, follower tracking, rules and handlers. `startServer` opens one per account; a reload
 * opens the added and changed ones next to the running ones and swaps them in
 * (src/server/reload.ts).
 */
import { Bot } from '../bot.js'
import { createWechatApiFromConfig } from '../api/from-config.js'
import { lateDeliveryProblem } from '../pipeline/late-delivery.js'
import type { RequestLimiter } from '../pipeline/admission.js'
import type { Logger } from '../logger.js'
import type { Context } from '../context.js'
import type { Records } from '../records/open-records.js'
import type { SpoolingRecorder } from '../records/spool.js'
import type { ResolvedAccount } from '../accounts/config.js'
import type { WxmpConfig } from './config.js'
import type { ServerStores } from './stores.js'
import type { WxmpMetrics } from './metrics.js'
import type { RejectionLog } from './rejection-log.js'
import { botOptionsFrom } from './bot-options-from.js'

/** An account as the running server holds it (`server.accounts.get(name)`). */
export interface ServerAccount {
  name: string
  /** The webhook path, e.g. /wechat/shop. */
  path: string
  /** The account's full configuration (the process-wide one with its fields laid over). */
  config: ResolvedAccount
  bot: Bot
  /** Its rules (replies without code); undefined with rules off. */
  rules: import('../rules/server.js').ServerRules | undefined
  /** Why a reply after the deadline could not be delivered, when it could not. */
  lateReplyProblem: string | undefined
  /** Lets its running handlers finish (at most drainMs), then closes its rules. */
  close(drainMs?: number): Promise<void>
}

/** What every account shares: the stores, metrics, logs and the per-source rate limit. */
export interface AccountDeps {
  stores: ServerStores
  metrics: WxmpMetrics
  logger: Logger
  rejections: RejectionLog
  rateLimit: RequestLimiter | undefined
  /** Installs the account's handlers (its module, `--bot`, or the echo bot). */
  setup: (bot: Bot, account: ResolvedAccount) => void | Promise<void>
  /**
   * Whether accounts are named (an accounts file): then every log line and metric series carries
   * `account`. The environment-variable account runs without, as before accounts existed.
   */
  named: boolean
  /** Runs after follower tracking and before the rules (the operator console's pause). */
  beforeRules?: ((bot: Bot, account: ResolvedAccount) => Promise<void>) | undefined
}

/** The one account of the environment variables, as the accounts file would name it. */
export function envAccount(config: WxmpConfig): ResolvedAccount {
  return { ...config, name: 'default', botModule: undefined }
}

export async function openAccount(account: ResolvedAccount, deps: AccountDeps): Promise<ServerAccount> {
  const { stores, metrics, logger } = deps
  const name = account.name
  const bot = new Bot({
    ...botOptionsFrom(account),
    ...stores.botOptionsFor(account),
    ...(deps.named ? { account: name } : {}),
    logger,
    rejectionLogger: deps.rejections,
    ...(deps.rateLimit === undefined ? {} : { rateLimit: deps.rateLimit }),
  })
  const label = deps.named ? name : undefined
  metrics.observe(bot, label)
  if (account.appId !== undefined && account.appSecret !== undefined) {
    // late replies, ctx.send and "typing…" use the same token store as `wxmp token` and other instances
    bot.setApiFactory(() => createWechatApiFromConfig(account, stores.sharedStore, { logger: bot.log, onCall: (call) => metrics.recordApiCall(call, label) }))
  }
  bot.use(followerTracking(stores.spool ?? stores.records.followers, account.appId ?? '', name, bot.log))
  await deps.beforeRules?.(bot, account)
  // before the code handlers, whatever the order: the rules middleware calls next() itself
  const rules = account.rules === 'off' ? undefined : await (await import('../rules/server.js')).installRules(bot, account, bot.log)
  try {
    await deps.setup(bot, account)
  } catch (err) {
    await rules?.close().catch(() => undefined)
    throw err
  }
  const lateProblem = lateDeliveryProblem(bot)
  // in development (generated Token, the echo bot) nothing is slow yet: an expected state, shown
  // in the banner (lateReplyProblem), not an error-coded log line
  if (lateProblem !== undefined && !account.dev) bot.log.warn({ code: 'WX_ERR_CONFIG' }, lateProblem)
  let closed: Promise<void> | undefined
  return {
    name,
    path: account.path,
    config: account,
    bot,
    rules,
    lateReplyProblem: lateProblem,
    close(drainMs = 10_000) {
      closed ??= (async () => {
        const drained = await bot.drain(drainMs)
        if (!drained) bot.log.warn({ running: bot.backgroundCount }, 'account stopped: handlers still running after the drain timeout')
        await rules?.close().catch(() => undefined)
      })()
      return closed
    },
  }
}

/**
 * Records every subscribe and unsubscribe (time and QR scene) before the user's handlers run;
 * through the spool when there is one, so that a change made while the database is down is
 * written when it is back.
 */
function followerTracking(followers: Pick<SpoolingRecorder, 'recordFollower'> | Records['followers'], appId: string, account: string, logger: Logger) {
  const record = async (ctx: Context, event: 'subscribe' | 'unsubscribe', next: () => Promise<void>) => {
    try {
      const change = { appId, account, openid: ctx.openid, event, at: ctx.message.CreateTime * 1000, scene: event === 'subscribe' ? (ctx.scene ?? null) : null }
      await ('recordFollower' in followers ? followers.recordFollower(change) : followers.record(change))
    } catch (err) {
      logger.error({ code: 'WX_ERR_STORAGE', err: (err as Error).message }, 'follower record failed')
    }
    await next()
  }
  // not async: any other message goes straight on, so handlers that answer at once keep the
  // core's synchronous path (no promise per message; the outcome goes in the message's own write)
  return (ctx: Context, next: () => Promise<void>): Promise<void> => {
    const event = ctx.event
    return event === 'subscribe' || event === 'unsubscribe' ? record(ctx, event, next) : next()
  }
}
