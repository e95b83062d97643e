/**
 * Reading an answer the way WeChat does: `success` or a zero-byte body ⇒ no reply; a non-200
 * status, HTML, JSON, malformed XML, a BOM or whitespace before `<xml>`, a wrong MsgSignature or
 * AppID, or a plaintext reply in safe mode ⇒ the error banner; otherwise what the chat shows.
 */
import { isWxmpError } from '../errors.js'
import { textOf, type XmlObject, type XmlValue } from '../xml/parse.js'
import { readReply, type EncryptionMode } from './signed-request.js'
import { MAX_REPLY_BYTES, type SimulatedAttempt } from './simulator-delivery.js'

/** Reply types WeChat can show. */
const REPLY_TYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'transfer_customer_service'])

/** What reading an answer needs: the Token, and for compat/safe mode the key and AppID. */
export interface JudgeKeys {
  token: string
  encodingAESKey?: string | undefined
  appId?: string | undefined
  mode: EncryptionMode
}

export interface Judged {
  outcome: 'reply' | 'no-reply' | 'invalid' | 'http-error'
  detail?: string
  hint?: string
  reply?: XmlObject
  xml?: string
  encrypted: boolean
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Reads an answer the way WeChat does; anything that is not `success`, empty or a valid reply is invalid. */
export function judgeAnswer(status: number, bytes: Buffer, tooLarge: boolean, options: JudgeKeys): Judged {
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

export function hintFor(status: number, firstLine: string): { hint?: string } {
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

export function unansweredHint(last: SimulatedAttempt | undefined): string {
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
export function replyWarnings(reply: XmlObject, inbound: XmlObject): string[] {
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
