/**
 * WeChat's side of the webhook, played against any URL (yours on localhost, a staging box, a
 * competitor's framework): the message is signed (and in compat/safe mode encrypted) exactly
 * as WeChat does, POSTed with WeChat's headers, given WeChat's 5-second budget and retried the
 * way WeChat retries, and the answer is judged the way WeChat judges it. The result says what
 * the user would have seen: the reply, nothing, or "该公众号暂时无法提供服务，请稍后再试".
 *
 * Facts it follows (protocol.md §1.2–§1.3, §4.1, §5, §10.2):
 * - a push is `POST <URL>?signature&timestamp&nonce&openid[&encrypt_type=aes&msg_signature]`
 *   with `User-Agent: Mozilla/4.0`, `Accept: *\/*`, `Pragma: no-cache`, `Connection: close`,
 *   `Content-Type: text/xml`;
 * - no answer within 5 s (or no connection) ⇒ the same query string and body again, 3 attempts
 *   in all; an answer that arrives, whatever it is, ends the delivery;
 * - `success` or a zero-byte body ⇒ no reply; a non-200 status, HTML, JSON, malformed XML,
 *   a BOM or whitespace before `<xml>`, a wrong MsgSignature or AppID, or a plaintext reply
 *   in safe mode ⇒ the error banner.
 *
 * With `lateFrom` (the fake WeChat server the webhook's server calls), what the user saw
 * afterwards is collected too: the customer-service answer that follows `success` or an
 * interim text, and "typing…" (late-sends.ts).
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { WxmpError, isWxmpError } from '../errors.js'
import { EVENT_NAMES_BY_LOWER_CASE, EVENT_TABLE, type EventName } from '../messages/table.js'
import { decodeAesKey } from '../pipeline/crypto.js'
import type { XmlElements } from '../xml/build.js'
import { parseXml, textOf, type XmlObject, type XmlValue } from '../xml/parse.js'
import { collectLateMessages, type LateMessage } from './late-sends.js'
import { sampleXml, type SampleKind } from './samples.js'
import { readReply, signedRequest, verificationRequest, type EncryptionMode } from './signed-request.js'

/** What WeChat shows the user when a delivery fails (newer clients: "该公众号提供的服务出现故障，请稍后再试"). */
export const ERROR_BANNER = '该公众号暂时无法提供服务，请稍后再试'

/** The headers real WeChat sends with every push (protocol.md §1.3, observed). */
export const WECHAT_REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'User-Agent': 'Mozilla/4.0',
  Accept: '*/*',
  Pragma: 'no-cache',
  Connection: 'close',
  'Content-Type': 'text/xml',
})

/** WeChat's budget per attempt and its number of attempts (protocol.md §4.1). */
export const WECHAT_TIMEOUT_MS = 5000
export const WECHAT_ATTEMPTS = 3

/** How long `simulate` waits for the late answer after `success` or an interim, by default. */
export const LATE_WAIT_MS = 30_000

export type { LateMessage } from './late-sends.js'

/** Reply types WeChat can show (protocol.md §4.1). */
const REPLY_TYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'transfer_customer_service'])

/** A reply body larger than this is not read further: no real reply comes close. */
const MAX_REPLY_BYTES = 1024 * 1024

export type AttemptOutcome = 'reply' | 'no-reply' | 'timeout' | 'invalid' | 'http-error' | 'network-error'

export interface SimulatedAttempt {
  /** 1-based attempt number. */
  n: number
  /** HTTP status, when an answer arrived. */
  status?: number
  /** From sending the request to the last byte of the answer (or the timeout). */
  latencyMs: number
  outcome: AttemptOutcome
  /** Why the attempt failed or what made the answer invalid. */
  detail?: string
}

export interface SimulateOptions {
  /** The webhook URL as typed in 服务器配置, e.g. `http://127.0.0.1:3000/wechat`. */
  url: string
  /** 服务器配置 Token. */
  token: string
  /** 消息加解密方式: plaintext (default), compatible or safe. */
  mode?: EncryptionMode
  /** Needed for compat and safe mode. */
  encodingAESKey?: string
  /** Needed for compat and safe mode: it travels inside the ciphertext. */
  appId?: string
  /** The plaintext message XML, e.g. from `sampleXml` or `buildSimulatedMessage`. */
  xml: string
  /** Budget per attempt. Default 5000 (WeChat's). */
  timeoutMs?: number
  /** Attempts in all when an attempt gets no answer. Default 3 (WeChat's). */
  attempts?: number
  /** Injectable fetch (default global fetch). */
  fetch?: typeof fetch
  /**
   * Unix ms for the signed `timestamp`, and the start against which the fake's `at` stamps are
   * read with `lateFrom`; default Date.now. Latencies use a monotonic clock.
   */
  now?: () => number
  /** Randomness for the ciphertext; inject for deterministic requests. */
  randomBytes?: (size: number) => Buffer
  /** Called once the request is signed and checked, just before the first attempt. */
  onRequest?: (request: SimulateResult['request']) => void
  /** Called after each attempt, e.g. to print progress while a slow server is retried. */
  onAttempt?: (attempt: SimulatedAttempt) => void
  /**
   * Base URL of the fake WeChat server that the webhook's server calls (its WECHAT_API_BASE),
   * e.g. `http://127.0.0.1:8081`. After the passive answer, the customer-service messages (and
   * "typing…") the fake delivered to this message's user go into `late` and `userSaw`.
   */
  lateFrom?: string
  /**
   * How long to wait for the late answer when the passive answer was `success` or the interim
   * (0–600 000 ms). Default 30 000. After a real reply or the banner the fake is read once.
   */
  lateWaitMs?: number
  /** The server's interim text (WECHAT_INTERIM): a passive text equal to it means the answer comes later. */
  interim?: string
  /** Called once the passive outcome is known, before late messages are collected. */
  onOutcome?: (final: SimulateResult['final']) => void
  /** Called when the simulator starts waiting for the late answer. */
  onLateWait?: (wait: { from: string; waitMs: number }) => void
  /** Called for each late message as it is found. */
  onLate?: (message: LateMessage) => void
}

export interface SimulateResult {
  /** What was sent: the full URL with the signed query string, and the body. */
  request: { url: string; body: string; mode: EncryptionMode }
  attempts: SimulatedAttempt[]
  final: {
    kind: 'reply' | 'no-reply' | 'error-banner'
    /** The reply's elements (decrypted when it came encrypted). */
    reply?: XmlObject
    /** The reply XML (decrypted when it came encrypted). */
    xml?: string
    encrypted: boolean
    /** Why the banner was shown. */
    detail?: string
    /** The likely fix for an error banner. */
    hint?: string
  }
  /**
   * What the user saw after the passive answer, in order (only with `lateFrom`): the
   * customer-service answer, "typing…", template messages.
   */
  late?: LateMessage[]
  /**
   * What the user would have seen: the reply as a sentence, "(no reply)" or the banner; with
   * late messages, e.g. "正在思考… then typing… then (customer service, 5.2 s): the answer".
   */
  userSaw: string
  /** Things WeChat tolerates but that are probably mistakes (To/From not swapped, …). */
  warnings: string[]
  totalMs: number
}

/**
 * Delivers one message to a webhook as WeChat would and reports what the user would have seen.
 *
 * @example
 * const result = await simulate({
 *   url: 'http://127.0.0.1:3000/wechat',
 *   token: 'mytoken',
 *   xml: sampleXml('text', { Content: '你好' }),
 * })
 * result.final.kind // 'reply'
 * result.userSaw    // '你好'
 */
export async function simulate(options: SimulateOptions): Promise<SimulateResult> {
  const mode = options.mode ?? 'plain'
  const timeoutMs = options.timeoutMs ?? WECHAT_TIMEOUT_MS
  const attemptCount = options.attempts ?? WECHAT_ATTEMPTS
  checkSimulateOptions(options, mode, timeoutMs, attemptCount)
  const fetchFn = options.fetch ?? fetch
  const now = options.now ?? Date.now
  const signed = signedRequest({
    token: options.token,
    xml: options.xml,
    mode,
    timestamp: String(Math.floor(now() / 1000)),
    ...(options.encodingAESKey === undefined ? {} : { encodingAESKey: options.encodingAESKey }),
    ...(options.appId === undefined ? {} : { appId: options.appId }),
    ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }),
  })
  const target = withQuery(options.url, signed.query)
  const inbound = parseXml(options.xml)
  const request = { url: target, body: signed.body, mode }
  options.onRequest?.(request)
  const attempts: SimulatedAttempt[] = []
  const startedAt = now()
  const started = performance.now()
  let judged: Judged | undefined
  // Built once: every attempt carries the identical query string and body, as WeChat's do.
  const init: RequestInit = { method: 'POST', headers: { ...WECHAT_REQUEST_HEADERS }, body: signed.body, redirect: 'manual' }
  for (let n = 1; n <= attemptCount; n++) {
    const delivery = await deliver(target, init, timeoutMs, fetchFn)
    let attempt: SimulatedAttempt
    if (delivery.kind === 'answer') {
      judged = judgeAnswer(delivery.status, delivery.bytes, delivery.tooLarge, { ...options, mode })
      attempt = { n, status: delivery.status, latencyMs: delivery.latencyMs, outcome: judged.outcome, ...(judged.detail === undefined ? {} : { detail: judged.detail }) }
    } else {
      attempt = { n, latencyMs: delivery.latencyMs, outcome: delivery.kind, detail: delivery.detail }
    }
    attempts.push(attempt)
    options.onAttempt?.(attempt)
    if (judged !== undefined) break
  }
  const totalMs = Math.round(performance.now() - started)
  const result = passiveResult(request, attempts, judged, inbound, totalMs)
  options.onOutcome?.(result.final)
  if (options.lateFrom !== undefined) await addLateMessages(result, options, options.lateFrom, inbound, startedAt)
  return result
}

function passiveResult(request: SimulateResult['request'], attempts: SimulatedAttempt[], judged: Judged | undefined, inbound: XmlObject, totalMs: number): SimulateResult {
  if (judged === undefined || judged.outcome === 'invalid' || judged.outcome === 'http-error') {
    const last = attempts[attempts.length - 1]
    const detail = judged?.detail ?? `no answer in ${attempts.length} attempts (${last?.detail ?? 'timeout'})`
    const hint = judged === undefined ? unansweredHint(last) : judged.hint
    return {
      request,
      attempts,
      final: { kind: 'error-banner', encrypted: false, detail, ...(hint === undefined ? {} : { hint }) },
      userSaw: ERROR_BANNER,
      warnings: [],
      totalMs,
    }
  }
  if (judged.outcome === 'no-reply') {
    return { request, attempts, final: { kind: 'no-reply', encrypted: false }, userSaw: '(no reply)', warnings: [], totalMs }
  }
  const reply = judged.reply as XmlObject
  return {
    request,
    attempts,
    final: { kind: 'reply', reply, xml: judged.xml as string, encrypted: judged.encrypted },
    userSaw: describeReply(reply),
    warnings: replyWarnings(reply, inbound),
    totalMs,
  }
}

/**
 * A late answer only follows `success` or the interim, so only then is it waited for; after a
 * real reply or the banner the fake is read once (a handler may have sent messages of its own).
 */
async function addLateMessages(result: SimulateResult, options: SimulateOptions, from: string, inbound: XmlObject, since: number): Promise<void> {
  const openid = textOf(inbound, 'FromUserName')
  if (openid === undefined || openid === '') {
    result.warnings.push('the message has no FromUserName: late customer-service messages cannot be matched to a user')
    return
  }
  const { final } = result
  const answerFollows = final.kind === 'no-reply' || (final.reply !== undefined && isInterim(final.reply, options.interim))
  const waitMs = answerFollows ? (options.lateWaitMs ?? LATE_WAIT_MS) : 0
  if (waitMs > 0) options.onLateWait?.({ from, waitMs })
  const collected = await collectLateMessages({
    from,
    openid,
    since,
    waitMs,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.onLate === undefined ? {} : { onMessage: options.onLate }),
  })
  result.late = collected.messages
  if (collected.warning !== undefined) result.warnings.push(collected.warning)
  if (collected.messages.length > 0) result.userSaw = sawWithLate(final.kind === 'no-reply' ? undefined : { text: result.userSaw, atMs: result.totalMs }, collected.messages)
}

function isInterim(reply: XmlObject, interim: string | undefined): boolean {
  return interim !== undefined && textOf(reply, 'MsgType') === 'text' && textOf(reply, 'Content')?.trim() === interim.trim()
}

/**
 * "typing… then 正在思考… then (customer service, 5.2 s): the answer", in the order the user saw
 * them: "typing…" can come before the passive answer (it starts while WeChat still waits).
 * Repeated "typing…" shows once.
 */
function sawWithLate(passive: { text: string; atMs: number } | undefined, late: readonly LateMessage[]): string {
  const parts: string[] = []
  let pending = passive
  for (const message of late) {
    if (pending !== undefined && message.afterMs >= pending.atMs) {
      parts.push(pending.text)
      pending = undefined
    }
    if (message.kind === 'typing') {
      if (parts.at(-1) !== 'typing…') parts.push('typing…')
      continue
    }
    const via = message.kind === 'template' ? 'template message' : 'customer service'
    parts.push(`(${via}, ${(message.afterMs / 1000).toFixed(1)} s): ${message.text}`)
  }
  if (pending !== undefined) parts.push(pending.text)
  return parts.join(' then ')
}

function checkSimulateOptions(options: SimulateOptions, mode: EncryptionMode, timeoutMs: number, attempts: number): void {
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
function withQuery(url: string, query: Record<string, string>): string {
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

type Delivery =
  | { kind: 'answer'; status: number; bytes: Buffer; tooLarge: boolean; latencyMs: number }
  | { kind: 'timeout' | 'network-error'; detail: string; latencyMs: number }

/** One HTTP exchange under a hard budget that covers the headers and the whole body. */
async function deliver(url: string, init: RequestInit, timeoutMs: number, fetchFn: typeof fetch): Promise<Delivery> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  const t0 = performance.now()
  const elapsed = () => Math.round(performance.now() - t0)
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal })
    const { bytes, tooLarge } = await readCapped(response)
    return { kind: 'answer', status: response.status, bytes, tooLarge, latencyMs: elapsed() }
  } catch (err) {
    if (controller.signal.aborted) return { kind: 'timeout', detail: `no complete answer within ${timeoutMs} ms`, latencyMs: elapsed() }
    return { kind: 'network-error', detail: networkErrorText(err), latencyMs: elapsed() }
  } finally {
    clearTimeout(timer)
  }
}

async function readCapped(response: Response): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  if (response.body === null) return { bytes: Buffer.alloc(0), tooLarge: false }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > MAX_REPLY_BYTES) return { bytes: Buffer.alloc(0), tooLarge: true } // leaving the loop cancels the stream
    chunks.push(Buffer.from(chunk))
  }
  return { bytes: Buffer.concat(chunks), tooLarge: false }
}

function networkErrorText(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const message = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err)
  // fetch refuses ports browsers block (1, 22, 25, 6000, …) with a bare "bad port"
  if (message === 'bad port') return 'fetch refuses this port (it is on the fetch blocked-port list): use another port'
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`
}

interface Judged {
  outcome: 'reply' | 'no-reply' | 'invalid' | 'http-error'
  detail?: string
  hint?: string
  reply?: XmlObject
  xml?: string
  encrypted: boolean
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Reads an answer the way WeChat does; anything that is not `success`, empty or a valid reply is invalid. */
function judgeAnswer(status: number, bytes: Buffer, tooLarge: boolean, options: SimulateOptions & { mode: EncryptionMode }): Judged {
  if (status !== 200) {
    const firstLine = bytes.toString('utf8').split('\n', 1)[0]?.trim().slice(0, 120) ?? ''
    return { outcome: 'http-error', encrypted: false, detail: `HTTP ${status}${firstLine === '' ? '' : `: ${firstLine}`}`, ...hintFor(status, firstLine) }
  }
  const invalid = (detail: string, hint?: string): Judged => ({ outcome: 'invalid', encrypted: false, detail, ...(hint === undefined ? {} : { hint }) })
  if (tooLarge) return invalid(`the answer is larger than ${MAX_REPLY_BYTES} bytes`)
  let body: string
  try {
    body = utf8.decode(bytes)
  } catch {
    return invalid('the answer is not valid UTF-8', 'WeChat reads replies as UTF-8: check the encoding your framework uses')
  }
  if (body === '' || body === 'success') return { outcome: 'no-reply', encrypted: false }
  if (body.startsWith('\uFEFF')) return invalid('the answer starts with a byte-order mark (BOM) before <xml>', 'save the file that prints the reply as UTF-8 without BOM')
  if (/^\s/.test(body)) return invalid('the answer starts with whitespace before <xml>', 'remove what prints before the reply (a newline before <?php, a template\'s blank line)')
  if (body.trim() === 'success') return invalid('the answer is "success" with extra whitespace: WeChat accepts exactly `success` or a zero-byte body', 'send exactly success, without a newline')
  if (!/^(<\?xml[^>]*\?>\s*)?<xml[\s>]/.test(body)) {
    return invalid(`the answer is not a reply XML: ${JSON.stringify(body.slice(0, 80))}${body.length > 80 ? '…' : ''}`, looksLikeHtmlOrJson(body))
  }
  if (options.mode === 'plain' && /<Encrypt[\s>]/.test(body)) {
    return invalid('an encrypted reply to a plaintext (明文) request: WeChat does not decrypt it', 'in plaintext mode reply in plaintext; or simulate with --mode safe')
  }
  let read: ReturnType<typeof readReply>
  try {
    read = readReply(
      { status, body },
      {
        token: options.token,
        ...(options.encodingAESKey === undefined ? {} : { encodingAESKey: options.encodingAESKey }),
        ...(options.appId === undefined ? {} : { appId: options.appId }),
      },
    )
  } catch (err) {
    const hint = isWxmpError(err, 'WX_ERR_APPID_MISMATCH') ? 'the reply was encrypted for another AppID: check WECHAT_APPID' : undefined
    return invalid((err as Error).message, hint)
  }
  const reply = read.reply as XmlObject
  if (options.mode === 'safe' && !read.encrypted) {
    return invalid('a plaintext reply in safe mode (安全模式): WeChat accepts only encrypted replies (or success)', 'encrypt the reply: give the bot the EncodingAESKey and AppID')
  }
  const problem = replyProblem(reply)
  if (problem !== undefined) return invalid(problem)
  return { outcome: 'reply', encrypted: read.encrypted, reply, ...(read.xml === undefined ? {} : { xml: read.xml }) }
}

function looksLikeHtmlOrJson(body: string): string | undefined {
  if (/^\s*</.test(body)) return 'an HTML page (an error page or a framework default) is not a reply: reply XML, success or nothing'
  if (/^\s*[[{]/.test(body)) return 'JSON is not a reply: WeChat Official Accounts read XML only'
  return 'reply XML, the word success, or an empty body'
}

function hintFor(status: number, firstLine: string): { hint?: string } {
  if (status === 401 || firstLine.startsWith('WX_ERR_SIGNATURE') || firstLine.startsWith('WX_ERR_MSG_SIGNATURE')) {
    return { hint: "the server rejected the signature: use the server's Token (--token; in development it is in ./data/dev-token)" }
  }
  if (firstLine === 'WX_ERR_TIMESTAMP_STALE') return { hint: "this machine's clock and the server's differ by more than the server's tolerance" }
  if (firstLine === 'WX_ERR_ENCRYPTION_REQUIRED') return { hint: 'the server accepts encrypted messages only: simulate with --mode safe' }
  if (firstLine === 'WX_ERR_NO_AES_KEY') return { hint: 'the server has no EncodingAESKey: set WECHAT_AES_KEY there, or simulate with --mode plain' }
  if (firstLine === 'WX_ERR_DECRYPT_FAILED') return { hint: "the server could not open the message: check that --appid and the EncodingAESKey are the server's (its log line names the precise cause)" }
  if (status === 404) return { hint: 'nothing answers at this path: check the URL path against the server (WECHAT_PATH, default /wechat)' }
  if (status >= 300 && status < 400) return { hint: 'WeChat does not follow redirects: configure the final URL (https:// if the server redirects http)' }
  if (status >= 500) return { hint: "the server failed: look at the server's log" }
  return {}
}

function unansweredHint(last: SimulatedAttempt | undefined): string {
  if (last?.outcome === 'network-error') {
    return /ECONNREFUSED/.test(last.detail ?? '') ? 'nothing listens at this address: start the server (npm start) or check --url' : 'the server cannot be reached: check the host name, port and firewall'
  }
  return 'answer within 5 s: reply "success" at once and send slow answers through the customer-service API'
}

function textAt(node: XmlObject, ...path: string[]): string | undefined {
  let value: XmlValue | undefined = node
  for (const name of path) {
    if (value === undefined || typeof value === 'string' || Array.isArray(value)) return undefined
    value = value[name]
  }
  return typeof value === 'string' ? value : undefined
}

function newsItems(reply: XmlObject): XmlObject[] {
  const articles = reply.Articles
  if (articles === undefined || typeof articles === 'string' || Array.isArray(articles)) return []
  const items = articles.item
  const list = Array.isArray(items) ? items : items === undefined ? [] : [items]
  return list.filter((item): item is XmlObject => typeof item === 'object' && !Array.isArray(item))
}

/** A reply WeChat cannot show: an unknown MsgType, or the type's required element missing. */
function replyProblem(reply: XmlObject): string | undefined {
  const type = textOf(reply, 'MsgType')
  if (type === undefined || !REPLY_TYPES.has(type)) {
    return `reply MsgType ${JSON.stringify(type ?? '')} is not one WeChat can show (${[...REPLY_TYPES].join(', ')})`
  }
  const required: Record<string, string[]> = {
    text: ['Content'],
    image: ['Image', 'MediaId'],
    voice: ['Voice', 'MediaId'],
    video: ['Video', 'MediaId'],
    music: ['Music', 'ThumbMediaId'],
  }
  const path = required[type]
  if (path !== undefined && textAt(reply, ...path) === undefined) return `${type} reply lacks <${path.join('><')}>`
  if (type === 'news' && newsItems(reply).length === 0) return 'news reply has no <Articles><item>'
  return undefined
}

/** The reply as the user would see it in the chat. */
export function describeReply(reply: XmlObject): string {
  const type = textOf(reply, 'MsgType')
  switch (type) {
    case 'text':
      return textOf(reply, 'Content') ?? ''
    case 'image':
      return `[image ${textAt(reply, 'Image', 'MediaId') ?? ''}]`
    case 'voice':
      return `[voice ${textAt(reply, 'Voice', 'MediaId') ?? ''}]`
    case 'video': {
      const title = textAt(reply, 'Video', 'Title')
      return `[video${title ? ` "${title}"` : ''} ${textAt(reply, 'Video', 'MediaId') ?? ''}]`
    }
    case 'music':
      return `[music "${textAt(reply, 'Music', 'Title') ?? ''}"]`
    case 'news': {
      const first = newsItems(reply)[0]
      return first === undefined ? '[news]' : `[news "${textOf(first, 'Title') ?? ''}" ${textOf(first, 'Url') ?? ''}]`.replace(' ]', ']')
    }
    case 'transfer_customer_service': {
      const agent = textAt(reply, 'TransInfo', 'KfAccount')
      return `(handed to customer service${agent ? ` agent ${agent}` : ''}; nothing shown yet)`
    }
    default:
      return `[${type ?? 'unknown'}]`
  }
}

/** Mistakes WeChat lets through (or silently corrects) but that are almost certainly bugs. */
function replyWarnings(reply: XmlObject, inbound: XmlObject): string[] {
  const warnings: string[] = []
  const user = textOf(inbound, 'FromUserName')
  const account = textOf(inbound, 'ToUserName')
  if (textOf(reply, 'ToUserName') !== user) warnings.push(`reply ToUserName is ${JSON.stringify(textOf(reply, 'ToUserName'))}, not the user's OpenID ${JSON.stringify(user)}: swap To and From`)
  if (textOf(reply, 'FromUserName') !== account) warnings.push(`reply FromUserName is ${JSON.stringify(textOf(reply, 'FromUserName'))}, not the account ${JSON.stringify(account)}: swap To and From`)
  const createTime = Number(textOf(reply, 'CreateTime'))
  if (createTime > 1e11) warnings.push('reply CreateTime looks like milliseconds: WeChat expects Unix seconds')
  if (textOf(reply, 'MsgType') === 'news' && newsItems(reply).length > 1) warnings.push('news reply has more than one article: WeChat shows only the first')
  return warnings
}

// ---------------------------------------------------------------------------------------------
// URL verification (the console's "提交" → Token验证)

export interface VerifyUrlOptions {
  url: string
  token: string
  /** Default: random digits, as WeChat sends. */
  echostr?: string
  /** Default 5000. */
  timeoutMs?: number
  fetch?: typeof fetch
  /** Unix ms for the signed `timestamp`. */
  now?: () => number
}

export interface VerifyUrlResult {
  /** True only for HTTP 200 with the body exactly echostr: what the console accepts. */
  ok: boolean
  status?: number
  latencyMs: number
  echostr: string
  /** The body received (first 200 characters). */
  body?: string
  /** "Token验证成功" or the reason the console would say "Token验证失败". */
  detail: string
  warnings: string[]
}

/**
 * The GET WeChat sends when you press 提交 in 服务器配置: passes only on HTTP 200 whose body is
 * exactly echostr (no quotes, no newline).
 *
 * @example
 * const { ok, detail } = await verifyUrl({ url: 'http://127.0.0.1:3000/wechat', token: 'mytoken' })
 */
export async function verifyUrl(options: VerifyUrlOptions): Promise<VerifyUrlResult> {
  if (typeof options.token !== 'string' || options.token.length === 0) throw new WxmpError('WX_ERR_CONFIG', 'verifyUrl needs the Token from 服务器配置')
  const timeoutMs = options.timeoutMs ?? WECHAT_TIMEOUT_MS
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new WxmpError('WX_ERR_CONFIG', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  const now = options.now ?? Date.now
  const request = verificationRequest({
    token: options.token,
    timestamp: String(Math.floor(now() / 1000)),
    ...(options.echostr === undefined ? {} : { echostr: options.echostr }),
  })
  const echostr = request.query.echostr as string
  const target = withQuery(options.url, request.query)
  const warnings = portWarning(target)
  const headers: Record<string, string> = { ...WECHAT_REQUEST_HEADERS }
  delete headers['Content-Type']
  const delivery = await deliver(target, { method: 'GET', headers, redirect: 'manual' }, timeoutMs, options.fetch ?? fetch)
  if (delivery.kind !== 'answer') {
    return { ok: false, latencyMs: delivery.latencyMs, echostr, detail: `Token验证失败: ${delivery.detail}`, warnings }
  }
  const body = delivery.tooLarge ? '' : delivery.bytes.toString('utf8')
  const base = { status: delivery.status, latencyMs: delivery.latencyMs, echostr, body: body.slice(0, 200), warnings }
  if (delivery.status === 200 && !delivery.tooLarge && body === echostr) return { ...base, ok: true, detail: 'Token验证成功: the server echoed echostr' }
  return { ...base, ok: false, detail: `Token验证失败: ${echoProblem(delivery.status, body, echostr, delivery.tooLarge)}` }
}

function echoProblem(status: number, body: string, echostr: string, tooLarge: boolean): string {
  const firstLine = body.split('\n', 1)[0]?.trim().slice(0, 120) ?? ''
  if (status !== 200) return `HTTP ${status}${firstLine === '' ? '' : ` (${firstLine})`}${hintFor(status, firstLine).hint ? `: ${hintFor(status, firstLine).hint}` : ''}`
  if (tooLarge) return 'the body is far longer than echostr'
  if (body.trim() === echostr) return 'the body is echostr with whitespace or a newline around it: send it byte-exact'
  if (body === JSON.stringify(echostr) || body.trim() === JSON.stringify(echostr)) return 'the body is echostr in JSON quotes: send the bare string (text/plain)'
  if (body.includes(echostr)) return 'the body contains echostr but also other text: send echostr alone'
  if (body === '') return 'the body is empty: echo the echostr query parameter'
  return `the body ${JSON.stringify(body.slice(0, 60))} is not echostr ${JSON.stringify(echostr)}`
}

function portWarning(target: string): string[] {
  const url = new URL(target)
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port
  if (port === '80' || port === '443') return []
  return [`the console accepts only ports 80 and 443: put a reverse proxy (nginx, HTTPS) in front of port ${port} before entering the URL in 服务器配置`]
}

// ---------------------------------------------------------------------------------------------
// Messages from command-line words

/** The first word of `wxmp simulate <kind> …`. */
export const SIMULATED_KINDS = ['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'event', 'click', 'view', 'xml'] as const

export interface SimulatedMessageOptions {
  /** FromUserName (the user's OpenID). */
  openid?: string
  /** ToUserName (the account's 原始ID, gh_…). */
  account?: string
  /** Unix seconds; default now. */
  createTime?: number
}

export interface SimulatedMessage {
  /** The sample kind sent, or 'xml' for a file given as is. */
  kind: SampleKind | 'xml'
  /** A short description for output, e.g. `event subscribe (scene 42)`. */
  label: string
  xml: string
}

/** A ticket shaped like WeChat's (they are opaque base64 strings). */
const SIMULATED_TICKET = 'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw=='

/** One line naming every kind and its arguments, for usage errors. */
export const SIMULATED_USAGE_HINT = `kinds: text <message>, image [MediaId], voice [MediaId], video [MediaId], shortvideo [MediaId], location <lat> <lon> [label], link <url> [title], click <EventKey>, view <url>, event <Event> [args], xml <file>`

function usage(message: string): WxmpError {
  return new WxmpError('WX_ERR_CONFIG', message, { details: { usage: true } })
}

/**
 * The message XML for `wxmp simulate <kind> <args…>`: the words people type mapped to the
 * fields WeChat sends. Throws WX_ERR_CONFIG (details.usage) naming the mistake.
 *
 * @example
 * buildSimulatedMessage('text', ['你好']).xml                 // <xml>…<Content><![CDATA[你好]]>…
 * buildSimulatedMessage('event', ['subscribe', '42']).xml     // EventKey qrscene_42 + Ticket
 * buildSimulatedMessage('location', ['23.1', '113.3', '广州']) // Location_X, Location_Y, Scale, Label
 */
export function buildSimulatedMessage(kind: string, args: readonly string[], options: SimulatedMessageOptions = {}): SimulatedMessage {
  const sample = (sampleKind: SampleKind, fields: XmlElements, label: string): SimulatedMessage => ({
    kind: sampleKind,
    label,
    xml: sampleXml(sampleKind, fields, {
      ...(options.openid === undefined ? {} : { openid: options.openid }),
      ...(options.account === undefined ? {} : { account: options.account }),
      ...(options.createTime === undefined ? {} : { createTime: options.createTime }),
    }),
  })
  switch (kind) {
    case 'text': {
      if (args.length === 0 || args.join(' ') === '') throw usage('text needs the message, e.g. wxmp simulate text 你好')
      const content = args.join(' ')
      return sample('text', { Content: content }, `text ${JSON.stringify(content)}`)
    }
    case 'image':
    case 'voice':
    case 'video':
    case 'shortvideo': {
      atMost(kind, args, 1, `${kind} [MediaId]`)
      const mediaId = args[0]
      if (mediaId !== undefined) checkWord(mediaId, 'MediaId')
      return sample(kind, mediaId === undefined ? {} : { MediaId: mediaId }, mediaId === undefined ? kind : `${kind} ${mediaId}`)
    }
    case 'location': {
      if (args.length < 2) throw usage('location needs a latitude and a longitude, e.g. wxmp simulate location 23.1 113.3 广州塔')
      const lat = coordinate(args[0] as string, 'latitude', 90)
      const lon = coordinate(args[1] as string, 'longitude', 180)
      const label = args.slice(2).join(' ')
      return sample('location', { Location_X: lat, Location_Y: lon, Scale: 15, Label: label }, `location ${lat},${lon}${label ? ` ${label}` : ''}`)
    }
    case 'link': {
      const url = args[0]
      if (url === undefined) throw usage('link needs a URL, e.g. wxmp simulate link https://mp.weixin.qq.com 标题')
      checkUrl(url, 'link')
      const title = args.slice(1).join(' ') || url
      return sample('link', { Title: title, Description: title, Url: url }, `link ${url}`)
    }
    case 'click': {
      atMost(kind, args, 1, 'click <EventKey>')
      if (args[0] === undefined) throw usage('click needs the menu button key, e.g. wxmp simulate click V1001_TODAY_MUSIC')
      return event('CLICK', [args[0]], sample)
    }
    case 'view': {
      atMost(kind, args, 1, 'view <url>')
      if (args[0] === undefined) throw usage('view needs the menu button URL, e.g. wxmp simulate view https://www.qq.com')
      checkUrl(args[0], 'view')
      return event('VIEW', [args[0]], sample)
    }
    case 'event': {
      const name = args[0]
      if (name === undefined) throw usage(`event needs an Event name, e.g. wxmp simulate event subscribe; events: ${Object.keys(EVENT_TABLE).join(', ')}`)
      const canonical = EVENT_NAMES_BY_LOWER_CASE.get(name.toLowerCase())
      if (canonical === undefined) throw usage(`unknown event ${JSON.stringify(name.slice(0, 60))}; events: ${Object.keys(EVENT_TABLE).join(', ')}`)
      return event(canonical, args.slice(1), sample)
    }
    case 'xml':
      return rawXml(args)
    default:
      throw usage(`unknown kind ${JSON.stringify(kind.slice(0, 60))}; ${SIMULATED_USAGE_HINT}`)
  }
}

type SampleMaker = (kind: SampleKind, fields: XmlElements, label: string) => SimulatedMessage

function event(name: EventName, args: readonly string[], sample: SampleMaker): SimulatedMessage {
  const kind: SampleKind = `event:${name}`
  switch (name) {
    case 'subscribe': {
      atMost('event subscribe', args, 1, 'event subscribe [scene]')
      const scene = args[0]
      if (scene === undefined) return sample(kind, { EventKey: '' }, 'event subscribe')
      checkScene(scene)
      return sample(kind, { EventKey: `qrscene_${scene}`, Ticket: SIMULATED_TICKET }, `event subscribe (scene ${scene})`)
    }
    case 'SCAN': {
      atMost('event SCAN', args, 1, 'event SCAN <scene>')
      const scene = args[0]
      if (scene === undefined) throw usage('event SCAN needs the QR scene, e.g. wxmp simulate event SCAN 42 (a follower scanned a parametric QR code)')
      checkScene(scene)
      return sample(kind, { EventKey: scene, Ticket: SIMULATED_TICKET }, `event SCAN (scene ${scene})`)
    }
    case 'LOCATION': {
      if (args.length === 0) return sample(kind, {}, 'event LOCATION')
      if (args.length < 2 || args.length > 3) throw usage('event LOCATION takes a latitude, a longitude and optionally a precision, e.g. wxmp simulate event LOCATION 23.13 113.35 30')
      const Latitude = coordinate(args[0] as string, 'latitude', 90)
      const Longitude = coordinate(args[1] as string, 'longitude', 180)
      const precision = args[2] === undefined ? undefined : positiveNumber(args[2], 'precision')
      return sample(kind, { Latitude, Longitude, ...(precision === undefined ? {} : { Precision: precision }) }, `event LOCATION ${Latitude},${Longitude}`)
    }
    case 'unsubscribe':
      atMost('event unsubscribe', args, 0, 'event unsubscribe')
      return sample(kind, {}, 'event unsubscribe')
    default: {
      if (!('EventKey' in EVENT_TABLE[name])) {
        atMost(`event ${name}`, args, 0, `event ${name}`)
        return sample(kind, {}, `event ${name}`)
      }
      atMost(`event ${name}`, args, 1, `event ${name} [EventKey]`)
      const key = args[0]
      if (key !== undefined) checkWord(key, 'EventKey')
      return sample(kind, key === undefined ? {} : { EventKey: key }, key === undefined ? `event ${name}` : `event ${name} ${key}`)
    }
  }
}

function rawXml(args: readonly string[]): SimulatedMessage {
  atMost('xml', args, 1, 'xml <file>')
  const file = args[0]
  if (file === undefined) throw usage('xml needs a file holding one message XML, e.g. wxmp simulate xml ./message.xml')
  let xml: string
  try {
    xml = readFileSync(file, 'utf8')
  } catch (err) {
    throw usage(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  let doc: XmlObject
  try {
    doc = parseXml(xml)
  } catch (err) {
    throw usage(`${file} is not a WeChat message XML: ${(err as Error).message}`)
  }
  const type = textOf(doc, 'MsgType')
  if (type === undefined) throw usage(`${file} has no <MsgType>: WeChat sends ToUserName, FromUserName, CreateTime and MsgType in every message`)
  const eventName = type === 'event' ? textOf(doc, 'Event') : undefined
  return { kind: 'xml', label: `xml ${file} (${type}${eventName === undefined ? '' : ` ${eventName}`})`, xml }
}

function atMost(what: string, args: readonly string[], n: number, form: string): void {
  if (args.length > n) throw usage(`${what} takes ${n === 0 ? 'no arguments' : `at most ${n} argument${n === 1 ? '' : 's'}`} (${form}); got ${args.length}: quote text with spaces`)
}

function coordinate(raw: string, name: string, limit: number): number {
  if (!/^-?\d+(\.\d+)?$/.test(raw)) throw usage(`${name} ${JSON.stringify(raw.slice(0, 40))} is not a number, e.g. 23.134521`)
  const value = Number(raw)
  if (Math.abs(value) > limit) throw usage(`${name} ${raw} is outside -${limit}…${limit}`)
  return value
}

function positiveNumber(raw: string, name: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw usage(`${name} ${JSON.stringify(raw.slice(0, 40))} is not a positive number`)
  return Number(raw)
}

function checkScene(scene: string): void {
  // scene_id is a 32-bit number, scene_str 1–64 characters (protocol.md §9.5)
  if (!/^[\x21-\x7e]{1,64}$/.test(scene)) throw usage(`scene ${JSON.stringify(scene.slice(0, 70))} must be 1–64 printable ASCII characters (a scene_id or scene_str)`)
}

function checkWord(value: string, name: string): void {
  if (value.length === 0 || value.length > 256) throw usage(`${name} must be 1–256 characters`)
}

function checkUrl(value: string, what: string): void {
  if (!/^https?:\/\/\S+$/.test(value)) throw usage(`${what} needs an http(s) URL, got ${JSON.stringify(value.slice(0, 60))}`)
}
