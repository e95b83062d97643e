/**
 * WeChat's side of the webhook, played against any URL (yours on localhost, a staging box, a
 * competitor's framework): the message is signed (and in compat/safe mode encrypted) exactly
 * as WeChat does, POSTed with WeChat's headers, given WeChat's 5-second budget and retried the
 * way WeChat retries (simulator-delivery.ts), and the answer is judged the way WeChat judges it
 * (simulator-judge.ts). The result says what the user would have seen: the reply, nothing, or
 * "该公众号暂时无法提供服务，请稍后再试".
 *
 * With `lateFrom` (the fake WeChat server the webhook's server calls), what the user saw
 * afterwards is collected too: the customer-service answer that follows `success` or an
 * interim text, and "typing…" (late-sends.ts). With `followUp`, an answer that waits for the
 * user's next message is fetched the way a user would: by writing again.
 */
import { performance } from 'node:perf_hooks'
import { parseXml, textOf, type XmlObject } from '../xml/parse.js'
import { collectLateMessages, type LateMessage } from './late-sends.js'
import { nextMsgId, sampleXml } from './samples.js'
import { signedRequest, type EncryptionMode } from './signed-request.js'
import { deliver, WECHAT_ATTEMPTS, WECHAT_REQUEST_HEADERS, WECHAT_TIMEOUT_MS, type NextHint, type SimulatedAttempt } from './simulator-delivery.js'
import { describeReply, judgeAnswer, replyWarnings, unansweredHint, type Judged } from './simulator-judge.js'
import { sawWithFollowUps, sawWithLate } from './simulator-print.js'
import { checkSimulateOptions, withQuery } from './simulator-request.js'

export { WECHAT_ATTEMPTS, WECHAT_REQUEST_HEADERS, WECHAT_TIMEOUT_MS, NEXT_HEADER } from './simulator-delivery.js'
export type { AttemptOutcome, NextHint, SimulatedAttempt } from './simulator-delivery.js'
export { describeReply } from './simulator-judge.js'
export { verifyUrl } from './verify-url.js'
export type { VerifyUrlOptions, VerifyUrlResult } from './verify-url.js'
export { buildSimulatedMessage, SIMULATED_KINDS, SIMULATED_USAGE_HINT } from './simulated-message.js'
export type { SimulatedMessage, SimulatedMessageOptions } from './simulated-message.js'
export type { LateMessage } from './late-sends.js'

/** What WeChat shows the user when a delivery fails (newer clients: "该公众号提供的服务出现故障，请稍后再试"). */
export const ERROR_BANNER = '该公众号暂时无法提供服务，请稍后再试'

/** How long `simulate` waits for the late answer after `success` or an interim, by default. */
export const LATE_WAIT_MS = 30_000
/** How long follow-ups for an answer that waits for the next message may go on, by default. */
export const FOLLOW_UP_WAIT_MS = 120_000
/** A pause between follow-ups, as a person would take. */
const FOLLOW_UP_PAUSE_MS = 1000

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
  /**
   * What the user sends when the answer waits for their next message (the server answered the
   * pending notice, or a page with more to come), e.g. '继续': it is sent, and sent again, as a
   * new text message until the server says nothing more waits; each exchange is in
   * `followUps`. Only servers that say so (wxmp's `x-wxmp-next` header) are followed up.
   */
  followUp?: string
  /** At most this many follow-up messages. Default 20. */
  maxFollowUps?: number
  /** How long follow-ups may go on, in ms. Default 120 000 (an answer may take a minute or two). */
  followUpWaitMs?: number
  /** Called before each follow-up message is sent. */
  onFollowUp?: (followUp: { n: number; text: string }) => void
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
  /** What the server said comes after this answer (its `x-wxmp-next` header), when it said so. */
  next?: NextHint
  /** The follow-up messages sent (`followUp`) and what each got, in order. */
  followUps?: SimulateResult[]
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
  const result = await simulateOne(options)
  if (options.followUp !== undefined && result.next === 'next-message') await followUp(result, options, options.followUp)
  return result
}

async function simulateOne(options: SimulateOptions): Promise<SimulateResult> {
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
  let next: NextHint | undefined
  // Built once: every attempt carries the identical query string and body, as WeChat's do.
  const init: RequestInit = { method: 'POST', headers: { ...WECHAT_REQUEST_HEADERS }, body: signed.body, redirect: 'manual' }
  for (let n = 1; n <= attemptCount; n++) {
    const delivery = await deliver(target, init, timeoutMs, fetchFn)
    let attempt: SimulatedAttempt
    if (delivery.kind === 'answer') {
      judged = judgeAnswer(delivery.status, delivery.bytes, delivery.tooLarge, { ...options, mode })
      next = delivery.next
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
  if (next !== undefined && result.final.kind !== 'error-banner') result.next = next
  options.onOutcome?.(result.final)
  if (options.lateFrom !== undefined) await addLateMessages(result, options, options.lateFrom, inbound, startedAt)
  return result
}

/**
 * The answer waits for the user's next message: write again, as a user would, until the server
 * says nothing more waits (a page at a time, or "still working" until the answer is ready).
 */
async function followUp(result: SimulateResult, options: SimulateOptions, text: string): Promise<void> {
  const inbound = parseXml(options.xml)
  const openid = textOf(inbound, 'FromUserName') ?? 'oSimulatedUser'
  const account = textOf(inbound, 'ToUserName') ?? 'gh_simulated'
  const deadline = performance.now() + (options.followUpWaitMs ?? FOLLOW_UP_WAIT_MS)
  const max = options.maxFollowUps ?? 20
  const followUps: SimulateResult[] = []
  let last = result
  while (last.next === 'next-message' && followUps.length < max && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_UP_PAUSE_MS))
    options.onFollowUp?.({ n: followUps.length + 1, text })
    const now = options.now ?? Date.now
    const xml = sampleXml('text', { Content: text }, { openid, account, msgId: nextMsgId(), createTime: Math.floor(now() / 1000) })
    const { followUp: _f, lateFrom: _l, ...inner } = options
    last = await simulateOne({ ...inner, xml })
    followUps.push(last)
    if (last.final.kind === 'error-banner') break
  }
  result.followUps = followUps
  result.userSaw = sawWithFollowUps(result.userSaw, text, followUps)
  if (last.next === 'next-message') result.warnings.push(`the answer still waits for the next message after ${followUps.length} follow-up${followUps.length === 1 ? '' : 's'}`)
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
 * A late answer only follows `success` or the interim (named by `interim`, or by the server's
 * `x-wxmp-next: customer-service`, as for an interim set in code), so only then is it waited
 * for; after a real reply or the banner the fake is read once (a handler may have sent messages).
 */
async function addLateMessages(result: SimulateResult, options: SimulateOptions, from: string, inbound: XmlObject, since: number): Promise<void> {
  const openid = textOf(inbound, 'FromUserName')
  if (openid === undefined || openid === '') {
    result.warnings.push('the message has no FromUserName: late customer-service messages cannot be matched to a user')
    return
  }
  const { final } = result
  const answerFollows = result.next === 'customer-service' || (result.next === undefined && (final.kind === 'no-reply' || (final.reply !== undefined && isInterim(final.reply, options.interim))))
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
