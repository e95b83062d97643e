/**
 * Building WeChat's request: the options checked before anything is sent, and the webhook URL
 * with the signed query added.
 */
import { WxmpError } from '../errors.js'
import { decodeAesKey } from '../pipeline/crypto.js'
import type { EncryptionMode } from './signed-request.js'

/** The options a simulation checks before it sends anything. */
export interface CheckedOptions {
  token: string
  encodingAESKey?: string | undefined
  appId?: string | undefined
  lateFrom?: string | undefined
  lateWaitMs?: number | undefined
}

export function checkSimulateOptions(options: CheckedOptions, mode: EncryptionMode, timeoutMs: number, attempts: number): void {
  if (typeof options.token !== 'string' || options.token.length === 0) {
    throw new WxmpError('WX_ERR_CONFIG', 'simulate needs the Token from 服务器配置 (the server signs with it; in development it is in ./data/dev-token)')
  }
  if (mode !== 'plain' && mode !== 'compat' && mode !== 'safe') {
    throw new WxmpError('WX_ERR_CONFIG', `mode ${JSON.stringify(mode)} is not plain, compat or safe`)
  }
  if (mode !== 'plain') {
    if (options.encodingAESKey === undefined) throw new WxmpError('WX_ERR_CONFIG', `${mode} mode encrypts the message: give the EncodingAESKey (43 characters, 服务器配置 → 消息加解密密钥)`)
    if (options.appId === undefined) throw new WxmpError('WX_ERR_CONFIG', `${mode} mode puts the AppID inside the ciphertext: give the AppID (wx…, 基本配置)`)
    decodeAesKey(options.encodingAESKey)
  }
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new WxmpError('WX_ERR_CONFIG', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) throw new WxmpError('WX_ERR_CONFIG', `attempts must be a whole number from 1 to 10 (WeChat makes 3), got ${attempts}`)
  if (options.lateFrom !== undefined && !/^https?:\/\/[^\s/?#]+[^\s?#]*$/.test(options.lateFrom)) {
    throw new WxmpError('WX_ERR_CONFIG', `lateFrom ${JSON.stringify(String(options.lateFrom).slice(0, 80))} must be the fake WeChat server's base URL, e.g. http://127.0.0.1:8081 (the server's WECHAT_API_BASE)`)
  }
  const wait = options.lateWaitMs
  if (wait !== undefined && !(Number.isFinite(wait) && wait >= 0 && wait <= 600_000)) throw new WxmpError('WX_ERR_CONFIG', `lateWaitMs must be from 0 to 600000 milliseconds, got ${wait}`)
}

/** The webhook URL with the signed parameters added (a query the URL already has is kept). */
export function withQuery(url: string, query: Record<string, string>): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new WxmpError('WX_ERR_CONFIG', `${JSON.stringify(url.slice(0, 200))} is not a URL: give the full webhook URL, e.g. http://127.0.0.1:3000/wechat`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WxmpError('WX_ERR_CONFIG', `the webhook URL must start with http:// or https:// (WeChat accepts nothing else), got ${parsed.protocol}`)
  }
  for (const [name, value] of Object.entries(query)) parsed.searchParams.set(name, value)
  return parsed.href
}
