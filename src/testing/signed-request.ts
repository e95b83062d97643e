/**
 * Signed (and optionally encrypted) fake WeChat requests, for your own bot tests and for the
 * simulator: exactly what WeChat would send, built with the same Token and EncodingAESKey.
 *
 * @example
 * const req = signedRequest({ token: 'test', xml: sampleXml('text', { Content: 'hi' }) })
 * const res = await bot.handle(req)
 * readReply(res, { token: 'test' }).reply // { MsgType: 'text', Content: 'hi', … }
 */
import { randomInt } from 'node:crypto'
import { MessageCrypto } from '../pipeline/crypto.js'
import type { InboundRequest, OutboundResponse } from '../pipeline/request.js'
import { sha1Sorted } from '../pipeline/signature.js'
import { parseXml, textOf, type XmlObject } from '../xml/parse.js'
import { buildXml } from '../xml/build.js'

export type EncryptionMode = 'plain' | 'compat' | 'safe'

export interface SignedRequestOptions {
  token: string
  /** The plaintext message XML (see sampleXml). */
  xml: string
  mode?: EncryptionMode
  encodingAESKey?: string
  appId?: string
  /** Unix seconds; default now. */
  timestamp?: string
  nonce?: string
  /** Sender OpenID for the `openid` query parameter; default taken from the XML. */
  openid?: string
  /** Injectable for deterministic ciphertexts. */
  randomBytes?: (size: number) => Buffer
}

export interface SignedRequest extends InboundRequest {
  query: Record<string, string>
  body: string
  /** `?signature=…&…`, ready to append to the webhook URL. */
  search: string
}

export function signedRequest(options: SignedRequestOptions): SignedRequest {
  const mode = options.mode ?? 'plain'
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000))
  const nonce = options.nonce ?? String(randomInt(100_000_000, 2_000_000_000))
  const doc = parseXml(options.xml)
  const query: Record<string, string> = {
    signature: sha1Sorted([options.token, timestamp, nonce]),
    timestamp,
    nonce,
  }
  const openid = options.openid ?? textOf(doc, 'FromUserName')
  if (openid !== undefined) query.openid = openid
  let body = options.xml
  if (mode !== 'plain') {
    if (options.appId === undefined) throw new Error('an AppID is needed for compat and safe mode: the ciphertext carries it')
    const crypto = cryptoFor(options)
    const encrypt = crypto.encrypt(options.xml)
    body = mode === 'safe' ? buildXml({ ToUserName: textOf(doc, 'ToUserName') ?? '', Encrypt: encrypt }) : options.xml.replace(/<\/xml>\s*$/, `${buildXml({ Encrypt: encrypt }).slice(5, -6)}</xml>`)
    query.encrypt_type = 'aes'
    query.msg_signature = crypto.signature(timestamp, nonce, encrypt)
  }
  return { method: 'POST', query, body, search: '?' + new URLSearchParams(query).toString(), headers: { 'content-type': 'text/xml' } }
}

/** The GET WeChat sends when the console checks the URL. */
export function verificationRequest(options: { token: string; echostr?: string; timestamp?: string; nonce?: string }): SignedRequest {
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000))
  const nonce = options.nonce ?? String(randomInt(100_000_000, 2_000_000_000))
  const query = { signature: sha1Sorted([options.token, timestamp, nonce]), timestamp, nonce, echostr: options.echostr ?? String(randomInt(1e9, 2e9)) + String(randomInt(1e9, 2e9)) }
  return { method: 'GET', query, body: '', search: '?' + new URLSearchParams(query).toString() }
}

export interface ReadReplyOptions {
  token: string
  encodingAESKey?: string
  appId?: string
}

export interface ReadReply {
  status: number
  /** `success` and empty bodies mean "no reply". */
  noReply: boolean
  /** True when the reply came wrapped in Encrypt/MsgSignature (verified and decrypted). */
  encrypted: boolean
  /** The (decrypted) reply XML. */
  xml: string | undefined
  /** The reply's elements, e.g. { MsgType: 'text', Content: 'hi', … }: `reply.Image.MediaId` needs no cast. */
  reply: ReplyElements | undefined
}

type ArticleElement = { Title?: string; Description?: string; PicUrl?: string; Url?: string }

/**
 * A passive reply's elements as parsed (every value is text; WeChat's element names). The
 * elements of each reply type are typed; anything else reads as XmlValue.
 */
export type ReplyElements = XmlObject & {
  ToUserName: string
  FromUserName: string
  CreateTime: string
  MsgType: string
  Content?: string
  Image?: { MediaId: string }
  Voice?: { MediaId: string }
  Video?: { MediaId: string; Title?: string; Description?: string }
  Music?: { Title?: string; Description?: string; MusicUrl?: string; HQMusicUrl?: string; ThumbMediaId?: string }
  ArticleCount?: string
  /** One article is an object, several an array (as parsed). */
  Articles?: { item: ArticleElement | ArticleElement[] }
  TransInfo?: { KfAccount: string }
}

/**
 * Reads a webhook response as WeChat would: `success`/empty is no reply; an encrypted reply is
 * verified (MsgSignature) and decrypted. Throws when the body would make WeChat show
 * "该公众号暂时无法提供服务".
 */
export function readReply(response: Pick<OutboundResponse, 'status' | 'body'>, options: ReadReplyOptions): ReadReply {
  const { status, body } = response
  if (status !== 200) return { status, noReply: true, encrypted: false, xml: undefined, reply: undefined }
  if (body === '' || body === 'success') return { status, noReply: true, encrypted: false, xml: undefined, reply: undefined }
  let doc = parseXml(body)
  let xml = body
  const encrypt = textOf(doc, 'Encrypt')
  const encrypted = encrypt !== undefined
  if (encrypt !== undefined) {
    const crypto = cryptoFor(options)
    const signature = textOf(doc, 'MsgSignature')
    if (!crypto.verifySignature(signature, String(doc.TimeStamp ?? ''), textOf(doc, 'Nonce') ?? '', encrypt)) {
      throw new Error('encrypted reply has a wrong MsgSignature: WeChat would reject it')
    }
    xml = crypto.decrypt(encrypt).xml
    doc = parseXml(xml)
  }
  for (const field of ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType']) {
    if (doc[field] === undefined) throw new Error(`reply XML lacks <${field}>: WeChat would reject it`)
  }
  return { status, noReply: false, encrypted, xml, reply: doc as ReplyElements }
}

function cryptoFor(options: { token: string; encodingAESKey?: string; appId?: string; randomBytes?: (size: number) => Buffer }): MessageCrypto {
  if (options.encodingAESKey === undefined) throw new Error('an EncodingAESKey is needed for compat and safe mode')
  return new MessageCrypto({
    token: options.token,
    encodingAESKey: options.encodingAESKey,
    ...(options.appId === undefined ? {} : { appId: options.appId }),
    ...(options.randomBytes === undefined ? {} : { randomBytes: options.randomBytes }),
  })
}
