/**
 * The load: valid, correctly signed WeChat text-message requests. Each has its own nonce and
 * MsgId (so neither wxmp's replay guard nor its dedup answers from cache) and is signed when it
 * is made: the load generator makes each one just before it sends it, as WeChat does.
 */
import { MessageCrypto } from '../src/pipeline/crypto.js'
import { sha1Sorted } from '../src/pipeline/signature.js'
import { readReply } from '../src/testing/signed-request.js'

/** One account's settings, given to every target (wxmp and the incumbents) alike. */
export const ACCOUNT = {
  token: 'wxmpBenchToken2026',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wx2c2769f8efd9abc2',
  /** The account's 原始ID (ToUserName). */
  original: 'gh_7f083739789a',
} as const

/** plain: 明文模式; aes: 安全模式 (encrypt_type=aes, msg_signature, Encrypt-only body). */
export type Mode = 'plain' | 'aes'

export interface PooledRequest {
  /** Path and signed query string. */
  path: string
  body: string
  /** The text sent, which the echo bot must send back. */
  content: string
}

/** MsgIds stay unique across every pool this process builds. */
let msgCounter = 0
const msgPrefix = String(20_000 + Math.floor(Math.random() * 70_000))
const noncePrefix = Math.floor(Math.random() * 9_000) + 1_000

const crypto = new MessageCrypto({ token: ACCOUNT.token, encodingAESKey: ACCOUNT.encodingAESKey, appId: ACCOUNT.appId })

/** A realistic OpenID (28 characters), one of a thousand users. */
function openidOf(user: number): string {
  return `oBench_${String(user).padStart(4, '0')}_wxmpLoadUsers`.slice(0, 28)
}

/** The plaintext XML WeChat posts for a text message. */
export function textMessageXml(openid: string, createTime: number, content: string, msgId: string): string {
  return (
    `<xml><ToUserName><![CDATA[${ACCOUNT.original}]]></ToUserName>` +
    `<FromUserName><![CDATA[${openid}]]></FromUserName>` +
    `<CreateTime>${createTime}</CreateTime>` +
    `<MsgType><![CDATA[text]]></MsgType>` +
    `<Content><![CDATA[${content}]]></Content>` +
    `<MsgId>${msgId}</MsgId></xml>`
  )
}

/**
 * Makes WeChat's requests one at a time, as WeChat does: each signed when it is made (the load
 * generator makes each just before sending it), with its own nonce and MsgId.
 */
export function requestMaker(mode: Mode, path = '/wechat', now: () => number = Date.now): () => PooledRequest {
  return () => {
    const n = ++msgCounter
    const timestamp = String(Math.floor(now() / 1000))
    const nonce = `${noncePrefix}${String(n).padStart(9, '0')}`
    const msgId = `${msgPrefix}${String(n).padStart(14, '0')}`
    const openid = openidOf(n % 1000)
    const content = `你好 wxmp ${n}`
    const xml = textMessageXml(openid, Number(timestamp), content, msgId)
    const signature = sha1Sorted([ACCOUNT.token, timestamp, nonce])
    let query = `signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${openid}`
    let body = xml
    if (mode === 'aes') {
      const encrypt = crypto.encrypt(xml)
      body = `<xml><ToUserName><![CDATA[${ACCOUNT.original}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`
      query += `&encrypt_type=aes&msg_signature=${crypto.signature(timestamp, nonce, encrypt)}`
    }
    return { path: `${path}?${query}`, body, content }
  }
}

/** `size` signed requests for `path`, all with fresh nonces and MsgIds (signed now). */
export function buildPool(mode: Mode, size: number, path = '/wechat'): PooledRequest[] {
  const make = requestMaker(mode, path)
  return Array.from({ length: size }, make)
}

/**
 * Checks one response as WeChat would read it: status 200, a text reply (decrypted and its
 * MsgSignature verified in aes mode) whose Content is what was sent. Returns a problem or
 * undefined.
 */
export function checkEcho(mode: Mode, request: PooledRequest, status: number, body: string): string | undefined {
  try {
    const read = readReply({ status, body }, { token: ACCOUNT.token, encodingAESKey: ACCOUNT.encodingAESKey, appId: ACCOUNT.appId })
    if (status !== 200) return `status ${status}: ${body.slice(0, 120)}`
    if (read.noReply || read.reply === undefined) return `no reply (${JSON.stringify(body.slice(0, 60))})`
    if (read.encrypted !== (mode === 'aes')) return `reply ${read.encrypted ? 'is' : 'is not'} encrypted in ${mode} mode`
    if (read.reply.MsgType !== 'text' || read.reply.Content !== request.content) return `reply is not the echo: ${read.xml?.slice(0, 160)}`
    return undefined
  } catch (err) {
    return `unreadable reply: ${(err as Error).message}: ${body.slice(0, 120)}`
  }
}
