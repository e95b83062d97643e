/**
 * The API client the server and the CLI build from WxmpConfig: the same store and the same
 * key namespace as the server (`wxmp:<appId>:` in the shared store), so `wxmp token` and a
 * running server share one token.
 */
import { WxmpError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { WxmpConfig } from '../server/config.js'
import { prefixed } from '../storage/prefixed.js'
import type { KeyValueStore } from '../storage/types.js'
import { WechatApi, type WechatApiOptions } from './client.js'

/** The namespace the server uses for one account in the shared store. */
export function accountNamespace(appId: string | undefined): string {
  return `wxmp:${appId ?? 'default'}:`
}

/**
 * @param sharedStore the durable store (openSharedStore(config)); keys are namespaced here.
 *
 * @example
 * const api = createWechatApiFromConfig(config, openSharedStore(config))
 */
export function createWechatApiFromConfig(
  config: Pick<WxmpConfig, 'appId' | 'appSecret' | 'apiBase'>,
  sharedStore: KeyValueStore,
  extra: Omit<WechatApiOptions, 'appId' | 'appSecret' | 'store' | 'baseUrl'> & { logger?: Logger } = {},
): WechatApi {
  if (config.appId === undefined || config.appSecret === undefined) {
    throw new WxmpError('WX_ERR_CONFIG', 'the WeChat API needs WECHAT_APPID and WECHAT_APPSECRET (基本配置 in the console)')
  }
  return new WechatApi({ ...extra, appId: config.appId, appSecret: config.appSecret, baseUrl: config.apiBase, store: prefixed(sharedStore, accountNamespace(config.appId)) })
}
