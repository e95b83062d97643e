/**
 * wxmp: WeChat Official Account (微信公众号) webhook framework.
 * Common things first; advanced building blocks after.
 */
export { Bot } from './bot.js'
export type { RequestOutcome, OutcomeListener, LateListener } from './bot.js'
export type { BotOptions, LateMode, MessageRecorder, InboundRecord, OutcomeRecord, ReplyVia } from './bot-options.js'
export { Context } from './context.js'
export { Composer } from './composer.js'
export { session } from './session.js'
export { lateOptions } from './pipeline/late-options.js'
export type { LateOptions } from './pipeline/late-options.js'
export type { DeliveryOutcome, DeliveryStatus } from './pipeline/late-delivery.js'
export { WechatApi, WechatApiError, HttpError, jsapiSignature, validateMenu } from './api/index.js'
export type { WechatApiOptions } from './api/index.js'
export type { SessionFlavor, SessionOptions } from './session.js'
export type { Middleware, MiddlewareFn, NextFunction, Filtered, Trigger } from './composer.js'
export type { FilterQuery, MessageFor } from './filter.js'
export type * from './messages/types.js'
export type * from './reply/types.js'
export { WxmpError, isWxmpError, ERROR_TABLE } from './errors.js'
export type { WxErrorCode } from './errors.js'
export type { InboundRequest, OutboundResponse } from './pipeline/request.js'
export type { KeyValueStore } from './storage/types.js'
export type { Logger } from './logger.js'
// several accounts behind one listener (the accounts file: 'wxmp/accounts')
export { mountAccounts, AccountTable } from './accounts/table.js'
export type { MountedAccount, WebhookBot } from './accounts/table.js'
// replies without code (the store, the live cache and the console import: 'wxmp/rules')
export { rules } from './rules/middleware.js'
export { compileRules } from './rules/compile.js'
export type { RuleInput, Rule, RuleTrigger, RuleReply, RulesOrder } from './rules/types.js'

// advanced
export { MemoryStore } from './storage/memory.js'
export { prefixed } from './storage/prefixed.js'
export { parseMessage } from './messages/parse.js'
export { EVENT_TABLE, MESSAGE_TABLE } from './messages/table.js'
export { serializeReply, REPLY_LIMITS } from './reply/serialize.js'
export { dedupKey } from './pipeline/dedupe.js'
export { sha1Sorted, checkSignature } from './pipeline/signature.js'
export { MessageCrypto } from './pipeline/crypto.js'
export { parseXml } from './xml/parse.js'
export { buildXml, cdata } from './xml/build.js'
export { createLogger } from './logger.js'
// webhook protections for your own server (the ready-to-run server sets them from the environment)
export { SourceRateLimit } from './server/rate-limit.js'
export { RejectionLog } from './server/rejection-log.js'
export type { RequestLimiter } from './pipeline/admission.js'
