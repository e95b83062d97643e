/** The Bot options of a server configuration (one account's, or the environment variables'). */
import type { WxmpConfig } from './config.js'

export function botOptionsFrom(config: WxmpConfig) {
  return {
    token: config.token,
    ...(config.appId === undefined ? {} : { appId: config.appId }),
    ...(config.appSecret === undefined ? {} : { appSecret: config.appSecret }),
    ...(config.encodingAESKey === undefined ? {} : { encodingAESKey: config.encodingAESKey }),
    ...(config.previousEncodingAESKey === undefined ? {} : { previousEncodingAESKey: config.previousEncodingAESKey }),
    requireEncryption: config.requireEncryption,
    timestampToleranceSec: config.timestampToleranceSec,
    replyTimeoutMs: config.replyTimeoutMs,
    late: config.late,
    ...(config.accountKind === undefined ? {} : { accountKind: config.accountKind }),
    ...(config.pendingNotice === undefined ? {} : { pendingNotice: config.pendingNotice }),
    pendingAnswers: {
      then: config.pendingThen,
      ttlMs: config.pendingTtlSec * 1000,
      ...(config.pendingKeyword === undefined ? {} : { keyword: config.pendingKeyword }),
      ...(config.pageFooter === undefined ? {} : { footer: config.pageFooter }),
    },
    language: config.language,
    ...(config.interim === undefined ? {} : { interim: config.interim }),
    ...(config.typingAfterMs === undefined ? {} : { typingAfterMs: config.typingAfterMs }),
    maxBodyBytes: config.maxBodyBytes,
    apiBaseUrl: config.apiBase,
    maxBufferedBodyBytes: config.maxBufferedBytes,
    ...(config.trustedProxies.length === 0 ? {} : { trustedProxies: config.trustedProxies, clientIpHeader: config.clientIpHeader }),
  }
}
