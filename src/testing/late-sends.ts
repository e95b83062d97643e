/**
 * What the user saw after the passive answer: a webhook that answers `success` (or an interim
 * text) at its deadline sends the real answer later through the customer-service API. When the
 * server under test talks to the fake WeChat server, the fake records those sends; this module
 * reads them back (`GET <fake>/__fake/sent`) for one user and turns them into what the chat
 * would show: "typing…", the text, "[image …]".
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/** One thing the user saw after the passive answer. */
export interface LateMessage {
  /** customer-service (客服消息), typing ("对方正在输入…") or a template message. */
  kind: 'customer-service' | 'typing' | 'template'
  /** The customer-service msgtype (`text`, `image`, …), `Typing`, or the template_id. */
  msgtype: string
  /** What the chat showed: the text itself, or a summary such as `[image MEDIA_ID]` or `typing…`. */
  text: string
  /** From the start of the first delivery attempt to the send, as the fake recorded it. */
  afterMs: number
}

export interface CollectLateOptions {
  /** Base URL of the fake WeChat server, e.g. `http://127.0.0.1:8081`. */
  from: string
  /** The user (the message's FromUserName): only sends to this OpenID count. */
  openid: string
  /** Unix ms when the first attempt started: earlier sends belong to earlier messages. */
  since: number
  /** How long to wait for a customer-service message; 0 looks once. */
  waitMs: number
  /** Pause between looks. Default 200 ms. */
  pollMs?: number
  fetch?: typeof fetch
  /** Called for each message as it is found. */
  onMessage?: (message: LateMessage) => void
}

export interface CollectLateResult {
  messages: LateMessage[]
  /** Why the sends could not be read (the fake is not running, not a fake, …). */
  warning?: string
}

/** How every warning ends: the passive outcome stands, what came later is unknown. */
export const LATE_NOT_SHOWN = 'late customer-service messages are not shown'

/** One look at the fake must not hang the simulator. */
const LOOK_TIMEOUT_MS = 2000
/** No fake's send list comes close; a larger answer is not a fake's. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024

/**
 * Reads what the fake WeChat server delivered to `openid` since `since`, looking again every
 * `pollMs` until a customer-service message has arrived or `waitMs` has passed. Typing and
 * template sends are reported too but do not end the wait. Never throws: a fake that cannot be
 * read ends the look with a `warning`.
 *
 * @example
 * const { messages } = await collectLateMessages({ from: fake.url, openid: 'oUser', since: t0, waitMs: 10_000 })
 * messages // [{ kind: 'customer-service', msgtype: 'text', text: 'the answer', afterMs: 5230 }]
 */
export async function collectLateMessages(options: CollectLateOptions): Promise<CollectLateResult> {
  const fetchFn = options.fetch ?? fetch
  const pollMs = options.pollMs ?? 200
  const url = `${options.from.replace(/\/+$/, '')}/__fake/sent`
  const deadline = performance.now() + options.waitMs
  const messages: LateMessage[] = []
  for (;;) {
    const look = await lookOnce(url, options.from, fetchFn)
    if ('warning' in look) return { messages, warning: look.warning }
    const mine = look.sent.filter((s) => s.touser === options.openid && s.at >= options.since && !(s.kind === 'typing' && s.msgtype !== 'Typing'))
    // the fake only appends, so what is new is what lies past the messages already reported
    for (const sent of mine.slice(messages.length)) {
      const message: LateMessage = { kind: sent.kind, msgtype: sent.msgtype, text: describeSent(sent), afterMs: Math.max(0, Math.round(sent.at - options.since)) }
      messages.push(message)
      options.onMessage?.(message)
    }
    const left = deadline - performance.now()
    if (messages.some((m) => m.kind === 'customer-service') || left <= 0) return { messages }
    await sleep(Math.min(pollMs, left))
  }
}

interface Sent {
  kind: LateMessage['kind']
  touser: string
  msgtype: string
  body: Record<string, unknown>
  at: number
}

async function lookOnce(url: string, from: string, fetchFn: typeof fetch): Promise<{ sent: Sent[] } | { warning: string }> {
  let text: string
  try {
    const response = await fetchFn(url, { signal: AbortSignal.timeout(LOOK_TIMEOUT_MS), redirect: 'manual' })
    if (response.status !== 200) {
      await response.body?.cancel()
      return { warning: `${url} answered HTTP ${response.status}: is ${from} a fake WeChat server (wxmp fake-wechat)? ${LATE_NOT_SHOWN}` }
    }
    const read = await readCapped(response)
    if (read === undefined) return { warning: `${url} answered more than ${MAX_ANSWER_BYTES} bytes: not a fake WeChat server's list; ${LATE_NOT_SHOWN}` }
    text = read
  } catch (err) {
    return { warning: `cannot read ${url} (${errorText(err)}): is \`wxmp fake-wechat\` running there, and is it the server's WECHAT_API_BASE? ${LATE_NOT_SHOWN}` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { warning: `${url} did not answer JSON: is ${from} a fake WeChat server (wxmp fake-wechat)? ${LATE_NOT_SHOWN}` }
  }
  const list = (parsed as { sent?: unknown } | null)?.sent
  if (!Array.isArray(list)) return { warning: `${url} did not answer {"sent": […]}: is ${from} a fake WeChat server (wxmp fake-wechat)? ${LATE_NOT_SHOWN}` }
  return { sent: list.filter(isSent) }
}

async function readCapped(response: Response): Promise<string | undefined> {
  if (response.body === null) return ''
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > MAX_ANSWER_BYTES) return undefined // leaving the loop cancels the stream
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks).toString('utf8')
}

function errorText(err: unknown): string {
  if ((err as { name?: unknown })?.name === 'TimeoutError') return `no answer within ${LOOK_TIMEOUT_MS} ms`
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return err instanceof Error ? err.message : String(err)
}

/** Entries of another shape (an older fake, something that is not a fake) are skipped, not trusted. */
function isSent(value: unknown): value is Sent {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return (
    (v.kind === 'customer-service' || v.kind === 'typing' || v.kind === 'template') &&
    typeof v.touser === 'string' &&
    typeof v.msgtype === 'string' &&
    typeof v.at === 'number' &&
    Number.isFinite(v.at) &&
    v.body !== null &&
    typeof v.body === 'object' &&
    !Array.isArray(v.body)
  )
}

/** Reads `body.a.b` as a string, whatever the body holds. */
function field(body: unknown, ...path: string[]): string {
  let value = body
  for (const name of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return ''
    value = (value as Record<string, unknown>)[name]
  }
  return typeof value === 'string' ? value : ''
}

/** A send as the chat shows it (the customer-service msgtypes). */
export function describeSent(sent: { kind: LateMessage['kind']; msgtype: string; body: Record<string, unknown> }): string {
  const { body, msgtype } = sent
  if (sent.kind === 'typing') return 'typing…'
  if (sent.kind === 'template') return `[template ${msgtype}]`
  switch (msgtype) {
    case 'text':
      return field(body, 'text', 'content')
    case 'image':
    case 'voice':
      return `[${msgtype} ${field(body, msgtype, 'media_id')}]`
    case 'video': {
      const title = field(body, 'video', 'title')
      return `[video${title === '' ? '' : ` "${title}"`} ${field(body, 'video', 'media_id')}]`
    }
    case 'music':
      return `[music "${field(body, 'music', 'title')}"]`
    case 'news': {
      const articles = (body.news as { articles?: unknown } | undefined)?.articles
      const first: unknown = Array.isArray(articles) ? articles[0] : undefined
      return `[news "${field(first, 'title')}" ${field(first, 'url')}]`.replace(' ]', ']')
    }
    case 'mpnews':
      return `[mpnews ${field(body, 'mpnews', 'media_id')}]`
    case 'mpnewsarticle':
      return `[mpnewsarticle ${field(body, 'mpnewsarticle', 'article_id')}]`
    case 'msgmenu': {
      const list = (body.msgmenu as { list?: unknown } | undefined)?.list
      const options = Array.isArray(list) ? list.map((item) => field(item, 'content')) : []
      return [field(body, 'msgmenu', 'head_content'), ...options.map((o) => `[${o}]`), field(body, 'msgmenu', 'tail_content')].filter((part) => part !== '').join(' ')
    }
    case 'wxcard':
      return `[wxcard ${field(body, 'wxcard', 'card_id')}]`
    case 'miniprogrampage':
      return `[miniprogram "${field(body, 'miniprogrampage', 'title')}" ${field(body, 'miniprogrampage', 'pagepath')}]`
    default:
      return `[${msgtype}]`
  }
}
