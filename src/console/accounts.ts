/**
 * One console, several Official Accounts: each account gets its own conversations, pauses,
 * answers, live feed, audit log, rules and API client (every table the console reads is
 * scoped by the account's AppID, which the accounts file keeps unique), and its own set of
 * routes built over them. A request names its account with `?account=<name>`; the dispatcher
 * picks that account's routes, so a handler can only ever see its own account's data.
 *
 * Who sees what: every operator sees every account of the server (docs/console.md). The
 * account parameter is checked against the configured names only: an unknown name is 404 and
 * nothing is read.
 */
import type { WechatApi } from '../api/client.js'
import type { Bot } from '../bot.js'
import type { Logger } from '../logger.js'
import type { Records } from '../records/open-records.js'
import type { ServerRules } from '../rules/server.js'
import type { WxmpConfig } from '../server/config.js'
import type { KeyValueStore } from '../storage/types.js'
import { OperatorAnswers } from './answers.js'
import { AuditLog } from './audit-log.js'
import { Conversations } from './conversations.js'
import type { ConsoleDeps } from './deps.js'
import { badInput, ConsoleHttpError } from './http.js'
import { LiveFeed } from './live.js'
import type { LoginGuard } from './login-guard.js'
import { MediaCache } from './media.js'
import type { OperatorList } from './operators.js'
import { Pauses } from './pauses.js'
import type { Route } from './router.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { followerRoutes } from './routes/followers.js'
import { inboxRoutes } from './routes/inbox.js'
import { menuRoutes } from './routes/menu.js'
import { rulesRoutes } from './routes/rules.js'
import type { SessionStore } from './sessions.js'

export type ConsoleBot = Pick<Bot, 'apiConfigured' | 'api' | 'onOutcome' | 'nextMessage'>

/** An account as the server hands it to the console. */
export interface ConsoleAccountInput {
  /** The account's short name (the accounts file's key; `default` for the environment's one account). */
  name: string
  config: WxmpConfig
  bot: ConsoleBot
  /** The account's rules once installed (they are installed after the console's middleware). */
  rules?: () => ServerRules | undefined
}

/** What every account shares: the operators, their sessions and sign-in limits, the database. */
export interface SharedConsoleParts {
  base: string
  records: Records
  sessions: SessionStore
  guard: LoginGuard
  operators: OperatorList
  stores: { shared: KeyValueStore; perRequest: KeyValueStore }
  logger: Logger
  now: () => number
}

export interface ConsoleAccount {
  name: string
  path: string
  /** The bot it was opened for: a reload that replaces the bot replaces the console's account too. */
  bot: ConsoleBot
  deps: ConsoleDeps
  /** The account's API routes (inbox, menu, rules, followers, dashboard, audit). */
  routes: Route[]
  close(): void
}

export async function openConsoleAccount(input: ConsoleAccountInput, shared: SharedConsoleParts): Promise<ConsoleAccount> {
  const { config, bot } = input
  const { records, logger, now } = shared
  const appId = config.appId ?? ''
  const conversations = new Conversations(records.db, appId, bot.nextMessage.settings.ttlMs)
  const pauses = new Pauses(records.db, appId, now, logger)
  await pauses.start()
  const api = (): WechatApi | undefined => (bot.apiConfigured ? bot.api : undefined)
  const answers = new OperatorAnswers({ conversations, nextMessage: bot.nextMessage, api, logger, now })
  const live = new LiveFeed(conversations, logger, { now, answers, pendingTtlMs: bot.nextMessage.settings.ttlMs })
  const deps: ConsoleDeps = {
    ...shared,
    config,
    appId,
    account: input.name,
    conversations,
    audit: new AuditLog(records.db, appId, now),
    pauses,
    answers,
    rules: input.rules ?? (() => undefined),
    live,
    media: new MediaCache(() => api()!, now),
    api,
  }
  // a message answered here shows in the inbox at once (others' within the poll interval)
  bot.onOutcome((outcome) => {
    if (outcome.kind !== 'rejected' && outcome.kind !== 'verified') live.nudge()
  })
  return {
    name: input.name,
    path: config.path,
    bot,
    deps,
    routes: [...inboxRoutes(deps), ...menuRoutes(deps), ...rulesRoutes(deps), ...followerRoutes(deps), ...dashboardRoutes(deps)],
    close() {
      live.close()
      pauses.stop()
    },
  }
}

/**
 * The account a request is for: `?account=<name>`. With one account the parameter may be left
 * out; with several it is required, except where `fallback` allows the first (the session the
 * page starts from).
 */
export function accountOf(accounts: readonly ConsoleAccount[], url: URL, fallback = false): ConsoleAccount {
  const name = url.searchParams.get('account')
  if (name === null || name === '') {
    if (accounts.length === 1 || fallback) return accounts[0]!
    throw badInput(`this server has ${accounts.length} accounts: add ?account=<name> (${accounts.map((a) => a.name).join(', ')})`)
  }
  const found = accounts.find((a) => a.name === name)
  if (found === undefined) throw new ConsoleHttpError(404, 'WX_ERR_NOT_FOUND', `no account named ${JSON.stringify(name.slice(0, 40))} on this server`, { reason: 'no-account' })
  return found
}
