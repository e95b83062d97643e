/**
 * WeChat's side of the webhook, written from the protocol alone (signature, AES scheme, reply
 * shapes) with nothing but node:crypto: the black-box suites must not share a line of code with
 * what they check, so a mistake in wxmp's own signing or encryption cannot hide itself.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

/** sha1 over the parts sorted as strings (byte order, not numeric) and joined without separator. */
export function sortedSha1(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex')
}

/** EncodingAESKey (43 characters) → the 32-byte AES key; the IV is its first 16 bytes. */
function aesKey(encodingAESKey: string): Buffer {
  const key = Buffer.from(encodingAESKey + '=', 'base64')
  if (key.length !== 32) throw new Error(`EncodingAESKey decodes to ${key.length} bytes`)
  return key
}

/** random(16) ‖ msg_len (4, big-endian, UTF-8 bytes) ‖ msg ‖ appid, PKCS#7 to 32-byte blocks, AES-256-CBC, base64. */
export function encrypt(encodingAESKey: string, xml: string, appId: string, random: Buffer = randomBytes(16)): string {
  const key = aesKey(encodingAESKey)
  const msg = Buffer.from(xml, 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(msg.length)
  const plain = Buffer.concat([random, length, msg, Buffer.from(appId, 'ascii')])
  const pad = 32 - (plain.length % 32)
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
}

export interface Opened {
  xml: string
  appId: string
  random: Buffer
  pad: number
}

export function decrypt(encodingAESKey: string, encrypted: string): Opened {
  const key = aesKey(encodingAESKey)
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()])
  const pad = padded[padded.length - 1]!
  if (pad < 1 || pad > 32) throw new Error(`pad byte ${pad}`)
  const plain = padded.subarray(0, padded.length - pad)
  const length = plain.readUInt32BE(16)
  return { random: plain.subarray(0, 16), xml: plain.subarray(20, 20 + length).toString('utf8'), appId: plain.subarray(20 + length).toString('ascii'), pad }
}

/**
 * The text of each top-level element `name` of a reply: CDATA sections (a `]]>` split over two
 * of them included) and entity-escaped text, as an XML parser would read them. Nested elements
 * are reached with a path: `field(xml, 'Image', 'MediaId')`.
 */
export function field(xml: string, ...path: string[]): string | undefined {
  let scope = xml
  for (const name of path) {
    const inner = elementContent(scope, name)
    if (inner === undefined) return undefined
    scope = inner
  }
  return scope
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((piece) => (piece.startsWith('<![CDATA[') ? piece.slice(9, -3) : piece.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&')))
    .join('')
}

/** What is between `<name>` and its `</name>`, skipping CDATA sections (their text may contain the closing tag). */
function elementContent(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`)
  if (open < 0) return undefined
  const start = open + name.length + 2
  let at = start
  for (;;) {
    const cdata = xml.indexOf('<![CDATA[', at)
    const close = xml.indexOf(`</${name}>`, at)
    if (close < 0) return undefined
    if (cdata < 0 || close < cdata) return xml.slice(start, close)
    const end = xml.indexOf(']]>', cdata + 9)
    if (end < 0) return undefined
    at = end + 3
  }
}

/** Element names directly inside the root <xml>, in order. */
export function topLevelElements(xml: string): string[] {
  const inner = /^<xml>([\s\S]*)<\/xml>$/.exec(xml)?.[1] ?? ''
  const names: string[] = []
  let depth = 0
  for (const tag of inner.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '').matchAll(/<(\/?)([A-Za-z_][\w.-]*)[^>]*?(\/?)>/g)) {
    if (tag[1] === '/') depth--
    else {
      if (depth === 0) names.push(tag[2]!)
      if (tag[3] !== '/') depth++
    }
  }
  return names
}

/** One message posted the way WeChat posts it, in one of the three modes. */
export interface Account {
  token: string
  encodingAESKey?: string
  appId?: string
}

export type Mode = 'plain' | 'compat' | 'safe'

export interface Delivery {
  query: Record<string, string>
  body: string
}

let nonces = 0
/** A fresh nonce: random digits, as WeChat sends. */
export function nonce(): string {
  return String(100_000_000 + ((Date.now() * 7 + ++nonces * 7919 + Math.floor(Math.random() * 1e6)) % 900_000_000))
}

export function nowSeconds(): string {
  return String(Math.floor(Date.now() / 1000))
}

/** The query and body of a delivery of `xml` (the message as WeChat writes it) in `mode`. */
export function delivery(account: Account, xml: string, mode: Mode = 'plain', options: { timestamp?: string; nonce?: string; openid?: string; random?: Buffer; appId?: string } = {}): Delivery {
  const timestamp = options.timestamp ?? nowSeconds()
  const n = options.nonce ?? nonce()
  const openid = options.openid ?? /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(xml)?.[1] ?? ''
  const query: Record<string, string> = { signature: sortedSha1(account.token, timestamp, n), timestamp, nonce: n, openid }
  if (mode === 'plain') return { query, body: xml }
  if (account.encodingAESKey === undefined || account.appId === undefined) throw new Error(`${mode} mode needs encodingAESKey and appId`)
  const encrypted = encrypt(account.encodingAESKey, xml, options.appId ?? account.appId, options.random)
  query.encrypt_type = 'aes'
  query.msg_signature = sortedSha1(account.token, timestamp, n, encrypted)
  const toUser = /<ToUserName><!\[CDATA\[(.*?)\]\]>/.exec(xml)?.[1] ?? ''
  const body =
    mode === 'safe'
      ? `<xml>\n    <ToUserName><![CDATA[${toUser}]]></ToUserName>\n    <Encrypt><![CDATA[${encrypted}]]></Encrypt>\n</xml>`
      : xml.replace(/<\/xml>\s*$/, `<Encrypt><![CDATA[${encrypted}]]></Encrypt>\n</xml>`)
  return { query, body }
}

export interface Answer {
  status: number
  contentType: string
  body: string
}

/** POSTs a delivery with WeChat's headers. */
export async function post(url: string, { query, body }: Delivery, options: { timeoutMs?: number } = {}): Promise<Answer> {
  const response = await fetch(`${url}?${new URLSearchParams(query)}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/xml', 'user-agent': 'Mozilla/4.0', accept: '*/*', pragma: 'no-cache' },
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  })
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() }
}

export async function get(url: string, query: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${url}?${new URLSearchParams(query)}`, { signal: AbortSignal.timeout(15_000) })
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() }
}

/**
 * The reply XML the user would see: a plaintext answer as is; an encrypted one after checking
 * its MsgSignature (§5.3 over its own TimeStamp and Nonce) and the AppID inside. Throws on a
 * wrong signature, so a test cannot pass on an answer WeChat would refuse.
 */
export function openReply(account: Account, answer: Answer): { xml: string; encrypted: boolean; opened?: Opened } {
  if (!answer.body.includes('<Encrypt>')) return { xml: answer.body, encrypted: false }
  if (account.encodingAESKey === undefined) throw new Error('an encrypted answer without a key')
  const encrypted = field(answer.body, 'Encrypt')!
  const signature = field(answer.body, 'MsgSignature')!
  const timestamp = field(answer.body, 'TimeStamp')!
  const n = field(answer.body, 'Nonce')!
  if (!/^\d+$/.test(timestamp)) throw new Error(`TimeStamp ${timestamp}`)
  if (sortedSha1(account.token, timestamp, n, encrypted) !== signature) throw new Error('the encrypted reply has a wrong MsgSignature')
  const opened = decrypt(account.encodingAESKey, encrypted)
  if (opened.appId !== account.appId) throw new Error(`the reply is encrypted for ${opened.appId}`)
  return { xml: opened.xml, encrypted: true, opened }
}

/** A document in WeChat's shape: header fields then `fields`, elements separated by "\n" as in real traffic. */
export function wechatXml(fields: string, header: { to?: string; from?: string; createTime?: number } = {}): string {
  return [
    '<xml><ToUserName><![CDATA[' + (header.to ?? 'gh_de0f036ce08f') + ']]></ToUserName>',
    '<FromUserName><![CDATA[' + (header.from ?? 'ooUo26seZPcU3qKfcMiXLneG3fO4') + ']]></FromUserName>',
    '<CreateTime>' + (header.createTime ?? Math.floor(Date.now() / 1000)) + '</CreateTime>',
    fields,
    '</xml>',
  ].join('\n')
}

let ids = BigInt(Date.now()) * 100_000n
/** A fresh 64-bit MsgId beyond 2^53, as a string. */
export function msgId(): string {
  return String(6_054_768_590_064_713_728n + ++ids)
}

let users = 0
/** A fresh follower OpenID (28 characters, like WeChat's). */
export function openid(): string {
  return `oBb${String(Date.now() % 1e9).padStart(9, '0')}${String(++users).padStart(4, '0')}x`.padEnd(28, 'Q')
}
