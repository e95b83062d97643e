/**
 * The webhook as WeChat reaches it: the URL's shape, the console's GET verification with the
 * configured Token, and one POST round trip in the configured mode. They use the simulator's
 * requests, so doctor and `wxmp simulate` agree on what WeChat does.
 */
import { sampleXml } from '../testing/samples.js'
import type { EncryptionMode } from '../testing/signed-request.js'
import { simulate, verifyUrl } from '../testing/simulator.js'
import type { CheckResult } from './report.js'

export interface WebhookTarget {
  url: string
  /** Whether the URL was given (--url) or is the local server's. */
  explicit: boolean
  token: string
  mode: EncryptionMode
  encodingAESKey: string | undefined
  appId: string | undefined
  timeoutMs: number
  fetch?: typeof fetch
  now?: () => number
}

/** WeChat calls http on port 80 or https on 443, by name or address, nothing else. */
export function checkUrlShape(target: WebhookTarget): CheckResult {
  const title = 'public URL'
  const url = new URL(target.url)
  if (!target.explicit) {
    return { id: 'url', title, status: 'skip', detail: `checking the local server ${target.url}`, advice: 'pass --url https://<your-domain>/wechat to check through nginx and HTTPS as WeChat does' }
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port
  if (port !== '80' && port !== '443') {
    return { id: 'url', title, status: 'fail', detail: `port ${port}`, advice: 'WeChat calls only ports 80 and 443: put nginx (HTTPS on 443) in front and enter that URL in 服务器配置' }
  }
  if (url.protocol === 'http:') {
    return { id: 'url', title, status: 'ok', detail: `http on port 80 (WeChat accepts it; https on 443 keeps the messages private)` }
  }
  return { id: 'url', title, status: 'ok', detail: `https on port 443` }
}

/** The GET the console sends on 提交: HTTP 200 whose body is exactly echostr. */
export async function checkVerification(target: WebhookTarget): Promise<CheckResult> {
  const title = 'URL verification'
  const result = await verifyUrl({ url: target.url, token: target.token, timeoutMs: target.timeoutMs, ...(target.fetch ? { fetch: target.fetch } : {}), ...(target.now ? { now: target.now } : {}) })
  if (result.ok) return { id: 'verify', title, status: 'ok', detail: `GET answered echostr in ${result.latencyMs} ms (Token matches)` }
  return { id: 'verify', title, status: 'fail', detail: result.detail, advice: verificationAdvice(result.status, result.body) }
}

function verificationAdvice(status: number | undefined, body: string | undefined): string {
  if (status === undefined) return 'nothing answered: is the server running, and does nginx proxy this path to it (proxy_pass keeps the query string)?'
  if (status === 401 || body?.startsWith('WX_ERR_SIGNATURE')) return "the server's Token is not the one configured here: the same WECHAT_TOKEN on the server, here and in 服务器配置"
  if (status === 404) return 'nothing answers at this path: WECHAT_PATH on the server and the path in the URL must match (and nginx must forward it)'
  if (status >= 300 && status < 400) return 'WeChat does not follow redirects: enter the final URL (https:// when http redirects)'
  if (status === 502 || status === 504) return 'nginx answered but the server behind it did not: is wxmp running on the port proxy_pass names?'
  return 'the answer must be HTTP 200 with the bare echostr: is something between WeChat and wxmp rewriting it?'
}

/** One event delivered as WeChat would (signed, encrypted in compat/safe), checked like WeChat. */
export async function checkRoundTrip(target: WebhookTarget): Promise<CheckResult> {
  const title = 'message round trip'
  if (target.mode !== 'plain' && (target.encodingAESKey === undefined || target.appId === undefined)) {
    return { id: 'post', title, status: 'fail', detail: `${target.mode} mode needs WECHAT_AES_KEY and WECHAT_APPID here`, advice: 'set them to the values of the server (基本配置)' }
  }
  // a VIEW event (a menu link was opened): bots rarely answer it, and it changes nothing
  const xml = sampleXml('event:VIEW', { EventKey: 'https://example.com/wxmp-doctor' }, { openid: 'o_wxmp_doctor_check' })
  const result = await simulate({
    url: target.url,
    token: target.token,
    mode: target.mode,
    xml,
    attempts: 1,
    timeoutMs: target.timeoutMs,
    ...(target.mode === 'plain' ? {} : { encodingAESKey: target.encodingAESKey!, appId: target.appId! }),
    ...(target.fetch ? { fetch: target.fetch } : {}),
    ...(target.now ? { now: target.now } : {}),
  })
  const latency = result.attempts[0]?.latencyMs
  if (result.final.kind !== 'error-banner') {
    const answer = result.final.kind === 'reply' ? `a ${String(result.final.reply?.MsgType ?? '')} reply${result.final.encrypted ? ' (encrypted, MsgSignature verified)' : ''}` : 'success (no reply)'
    return { id: 'post', title, status: 'ok', detail: `POST in ${MODE_NAMES[target.mode]} answered ${answer} in ${latency ?? '?'} ms` }
  }
  return {
    id: 'post',
    title,
    status: 'fail',
    detail: `POST in ${MODE_NAMES[target.mode]}: ${result.final.detail ?? 'no valid answer'}`,
    advice: result.final.hint ?? 'WeChat would show its error banner to the user: look at the server log for this request',
  }
}

export const MODE_NAMES: Record<EncryptionMode, string> = { plain: 'plaintext (明文)', compat: 'compatible mode (兼容)', safe: 'safe mode (安全)' }
