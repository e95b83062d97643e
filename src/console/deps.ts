/** What the console's routes work with, built once by startConsole. */
import type { WechatApi } from '../api/client.js'
import type { Logger } from '../logger.js'
import type { Records } from '../records/open-records.js'
import type { WxmpConfig } from '../server/config.js'
import type { KeyValueStore } from '../storage/types.js'
import type { ServerRules } from '../rules/server.js'
import type { OperatorAnswers } from './answers.js'
import type { AuditLog } from './audit-log.js'
import type { Conversations } from './conversations.js'
import type { LiveFeed } from './live.js'
import type { LoginGuard } from './login-guard.js'
import type { MediaCache } from './media.js'
import type { OperatorList } from './operators.js'
import type { Pauses } from './pauses.js'
import type { SessionStore } from './sessions.js'

export interface ConsoleDeps {
  config: WxmpConfig
  appId: string
  /** The account's short name (src/console/accounts.ts): every route set serves one account. */
  account: string
  base: string
  records: Records
  conversations: Conversations
  audit: AuditLog
  pauses: Pauses
  /** Answers by hand: customer service, or the user's next message. */
  answers: OperatorAnswers
  /** The server's rules (store and live cache), or undefined with WXMP_RULES=off. */
  rules: () => ServerRules | undefined
  live: LiveFeed
  sessions: SessionStore
  guard: LoginGuard
  operators: OperatorList
  media: MediaCache
  /** The WeChat API client, or undefined when WECHAT_APPID/WECHAT_APPSECRET are not set. */
  api: () => WechatApi | undefined
  /** The stores the server runs on, for the health panel. */
  stores: { shared: KeyValueStore; perRequest: KeyValueStore }
  logger: Logger
  now: () => number
}

export const COOKIE = 'wxmp_console'
