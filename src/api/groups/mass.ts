/**
 * Mass send (群发): to everyone, to a tag, or to a list of 2–10 000 OpenIDs; preview to one
 * user; delete; status; speed. Subscription accounts may mass send once a day and service
 * accounts four times a month (45028 past that); `clientmsgid` stops a resend within 24 h
 * (45065). The result arrives later as the MASSSENDJOBFINISH event.
 */
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { compact, invalidInput, requireInteger, requireOpenid, requireString } from './input.js'

/** What a mass message carries. An article (`mpnews`) is a draft's media id. */
export type MassMessage =
  | { type: 'mpnews'; mediaId: string; sendIgnoreReprint?: boolean }
  | { type: 'text'; content: string }
  | { type: 'voice'; mediaId: string }
  | { type: 'image'; mediaIds: string[]; recommend?: string; needOpenComment?: boolean; onlyFansCanComment?: boolean }
  | { type: 'mpvideo'; mediaId: string }
  | { type: 'wxcard'; cardId: string }

export interface MassOptions {
  /** Your id for this send: WeChat refuses the same one again within 24 h (45065). ≤ 64 bytes. */
  clientMsgId?: string
}

export interface MassResult {
  msgId: string
  /** Articles only: the id the comment endpoints take. */
  msgDataId?: string
}

/** `SEND_SUCCESS`, `SENDING`, `SEND_FAIL`, `DELETE`. */
export type MassStatus = 'SEND_SUCCESS' | 'SENDING' | 'SEND_FAIL' | 'DELETE' | (string & {})

/** Mass speed levels: 0 = 80 万/min … 4 = 10 万/min. */
export const MASS_SPEEDS: Record<number, string> = { 0: '800 000/min', 1: '600 000/min', 2: '450 000/min', 3: '300 000/min', 4: '100 000/min' }
export const MASS_OPENIDS_MIN = 2
export const MASS_OPENIDS_MAX = 10_000

function payload(message: MassMessage): Record<string, unknown> {
  if (message === null || typeof message !== 'object') invalidInput('a mass message is { type, … }')
  switch (message.type) {
    case 'mpnews':
      return { msgtype: 'mpnews', mpnews: { media_id: requireString('mediaId', message.mediaId) }, send_ignore_reprint: message.sendIgnoreReprint === true ? 1 : 0 }
    case 'text':
      return { msgtype: 'text', text: { content: requireString('text content', message.content) } }
    case 'voice':
      return { msgtype: 'voice', voice: { media_id: requireString('mediaId', message.mediaId) } }
    case 'image': {
      if (!Array.isArray(message.mediaIds) || message.mediaIds.length === 0 || message.mediaIds.length > 8) invalidInput('an image mass message takes 1–8 media ids')
      return {
        msgtype: 'image',
        images: compact({
          media_ids: message.mediaIds.map((id, i) => requireString(`mediaIds[${i}]`, id)),
          recommend: message.recommend,
          need_open_comment: message.needOpenComment === true ? 1 : 0,
          only_fans_can_comment: message.onlyFansCanComment === true ? 1 : 0,
        }),
      }
    }
    case 'mpvideo':
      return { msgtype: 'mpvideo', mpvideo: { media_id: requireString('mediaId', message.mediaId) } }
    case 'wxcard':
      return { msgtype: 'wxcard', wxcard: { card_id: requireString('cardId', message.cardId) } }
    default:
      return invalidInput(`unknown mass message type ${JSON.stringify((message as { type?: unknown }).type)}`)
  }
}

function withClientId(body: Record<string, unknown>, options: MassOptions | undefined): Record<string, unknown> {
  if (options?.clientMsgId === undefined) return body
  return { ...body, clientmsgid: requireString('clientMsgId', options.clientMsgId, { maxBytes: 64 }) }
}

/**
 * @example
 * const { msgId } = await api.mass.sendToAll({ type: 'mpnews', mediaId: draftId }, { clientMsgId: 'weekly-42' })
 * await api.mass.status(msgId)   // 'SENDING' … 'SEND_SUCCESS'
 */
export class MassApi {
  constructor(private readonly api: ApiCaller) {}

  /** To every follower. */
  async sendToAll(message: MassMessage, options?: MassOptions): Promise<MassResult> {
    return this.sendAll({ is_to_all: true }, message, options)
  }

  /** To the followers carrying a tag. */
  async sendToTag(tagId: number, message: MassMessage, options?: MassOptions): Promise<MassResult> {
    return this.sendAll({ is_to_all: false, tag_id: requireInteger('tagId', tagId, 0, 2 ** 31) }, message, options)
  }

  /** To 2–10 000 OpenIDs. */
  async sendToOpenids(openids: string[], message: MassMessage, options?: MassOptions): Promise<MassResult> {
    if (!Array.isArray(openids) || openids.length < MASS_OPENIDS_MIN || openids.length > MASS_OPENIDS_MAX) {
      invalidInput(`a mass send by OpenID takes ${MASS_OPENIDS_MIN}–${MASS_OPENIDS_MAX} OpenIDs, got ${Array.isArray(openids) ? openids.length : typeof openids} (one user: use preview or a customer-service message)`)
    }
    const touser = openids.map((o, i) => requireOpenid(o, `openids[${i}]`))
    return this.result('/cgi-bin/message/mass/send', withClientId({ touser, ...payload(message) }, options))
  }

  /** Sends the message to one user (OpenID, or `{ wxname }` a WeChat ID) to check it; 100 a day. */
  async preview(to: string | { wxname: string }, message: MassMessage): Promise<string | undefined> {
    const who = typeof to === 'string' ? { touser: requireOpenid(to) } : { towxname: requireString('wxname', to?.wxname) }
    const result = await this.api.call<{ msg_id?: string }>('/cgi-bin/message/mass/preview', { ...who, ...payload(message) })
    return result.msg_id === undefined ? undefined : String(result.msg_id)
  }

  /** Deletes a sent message (articles: `articleIdx` 1… one of them, 0/absent all); only within 30 minutes of sending for non-articles. */
  async delete(msgId: string, articleIdx?: number): Promise<void> {
    await this.api.call('/cgi-bin/message/mass/delete', compact({ msg_id: requireString('msgId', String(msgId)), article_idx: articleIdx === undefined ? undefined : requireInteger('articleIdx', articleIdx, 0, 8) }))
  }

  async status(msgId: string): Promise<MassStatus> {
    const result = await this.api.call<{ msg_status?: string }>('/cgi-bin/message/mass/get', { msg_id: requireString('msgId', String(msgId)) }, { idempotent: true })
    return result.msg_status ?? ''
  }

  /** The speed level (0 fastest … 4) and what it means in messages per minute. */
  async getSpeed(): Promise<{ speed: number; realspeed: number }> {
    const result = await this.api.call<{ speed?: number; realspeed?: number }>('/cgi-bin/message/mass/speed/get', {}, { idempotent: true })
    return { speed: result.speed ?? 0, realspeed: result.realspeed ?? 0 }
  }

  async setSpeed(speed: 0 | 1 | 2 | 3 | 4): Promise<void> {
    await this.api.call('/cgi-bin/message/mass/speed/set', { speed: requireInteger('speed', speed, 0, 4) })
  }

  private async sendAll(filter: Record<string, unknown>, message: MassMessage, options?: MassOptions): Promise<MassResult> {
    return this.result('/cgi-bin/message/mass/sendall', withClientId({ filter, ...payload(message) }, options))
  }

  private async result(path: string, body: Record<string, unknown>): Promise<MassResult> {
    const result = await this.api.call<{ msg_id?: string | number; msg_data_id?: string | number }>(path, body)
    if (result.msg_id === undefined) throw new HttpError({ path, message: 'the answer has no msg_id: is WECHAT_API_BASE pointing at WeChat?' })
    return { msgId: String(result.msg_id), ...(result.msg_data_id === undefined ? {} : { msgDataId: String(result.msg_data_id) }) }
  }
}
