/**
 * Customer-service agents (客服账号), their sessions (会话) and the message records. An agent
 * is `name@account` (the part after @ is the account's WeChat ID); it must be bound to a
 * WeChat user (inviteWorker) before it can serve.
 */
import type { ApiCaller } from '../caller.js'
import { invalidInput, requireInteger, requireOpenid, requireString } from './input.js'

export interface KfAccount {
  kf_account: string
  kf_nick: string
  kf_id: string | number
  kf_headimgurl?: string
  kf_wx?: string
  invite_wx?: string
  invite_expire_time?: number
  invite_status?: 'waiting' | 'rejected' | 'expired'
}

export interface OnlineKf {
  kf_account: string
  /** 1 online on the web client. */
  status: number
  kf_id: string | number
  /** Sessions being served. */
  accepted_case: number
}

export interface KfMessageRecord {
  openid: string
  /** 2002 agent sent, 2003 agent received … */
  opercode: number
  text: string
  /** Unix seconds. */
  time: number
  worker: string
}

/** `name@wechatid`, name ≤ 10 ASCII letters, digits or underscores. */
function requireKfAccount(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_]{1,10}@[\w-]{1,40}$/.test(value)) invalidInput(`kfAccount must look like name@wechatid (name: up to 10 letters, digits or _), got ${JSON.stringify(typeof value === 'string' ? value.slice(0, 60) : value)}`)
  return value
}

/**
 * @example
 * await api.kf.addAccount('support1@myaccount', '小助手')
 * await api.kf.createSession('support1@myaccount', openid)
 */
export class KfApi {
  constructor(private readonly api: ApiCaller) {}

  async listAccounts(): Promise<KfAccount[]> {
    const result = await this.api.call<{ kf_list?: KfAccount[] }>('/cgi-bin/customservice/getkflist')
    return result.kf_list ?? []
  }

  async onlineAccounts(): Promise<OnlineKf[]> {
    const result = await this.api.call<{ kf_online_list?: OnlineKf[] }>('/cgi-bin/customservice/getonlinekflist')
    return result.kf_online_list ?? []
  }

  /** Adds an agent; nickname ≤ 16 characters. */
  async addAccount(kfAccount: string, nickname: string): Promise<void> {
    await this.api.call('/customservice/kfaccount/add', { kf_account: requireKfAccount(kfAccount), nickname: requireString('nickname', nickname, { maxChars: 16 }) })
  }

  async updateAccount(kfAccount: string, nickname: string): Promise<void> {
    await this.api.call('/customservice/kfaccount/update', { kf_account: requireKfAccount(kfAccount), nickname: requireString('nickname', nickname, { maxChars: 16 }) })
  }

  async deleteAccount(kfAccount: string): Promise<void> {
    await this.api.call('/customservice/kfaccount/del', undefined, { query: { kf_account: requireKfAccount(kfAccount) } })
  }

  /** Invites a WeChat user (by WeChat ID) to act as this agent; the invite lasts 7 days. */
  async inviteWorker(kfAccount: string, inviteWx: string): Promise<void> {
    await this.api.call('/customservice/kfaccount/inviteworker', { kf_account: requireKfAccount(kfAccount), invite_wx: requireString('inviteWx', inviteWx, { maxChars: 64 }) })
  }

  /** Sets the agent's avatar (jpg, square 640×640 recommended, ≤ 5 MB). */
  async uploadAvatar(kfAccount: string, data: Buffer | Uint8Array | Blob, filename: string): Promise<void> {
    if (!/\.jpe?g$/i.test(filename)) invalidInput(`the avatar must be a jpg file, got ${JSON.stringify(filename)}`)
    const size = data instanceof Blob ? data.size : data.byteLength
    if (size === 0 || size > 5 * 1024 * 1024) invalidInput(`the avatar is ${size} bytes, it must be 1 byte to 5 MB`)
    await this.api.call('/customservice/kfaccount/uploadheadimg', undefined, { query: { kf_account: requireKfAccount(kfAccount) }, form: { media: { data, filename } } })
  }

  /** Hands a user to an agent (the user must have written in the last 48 hours). */
  async createSession(kfAccount: string, openid: string): Promise<void> {
    await this.api.call('/customservice/kfsession/create', { kf_account: requireKfAccount(kfAccount), openid: requireOpenid(openid) })
  }

  async closeSession(kfAccount: string, openid: string): Promise<void> {
    await this.api.call('/customservice/kfsession/close', { kf_account: requireKfAccount(kfAccount), openid: requireOpenid(openid) })
  }

  /** The agent serving a user now ('' when none). */
  async sessionOf(openid: string): Promise<{ kf_account: string; createtime: number }> {
    const result = await this.api.call<{ kf_account?: string; createtime?: number }>('/customservice/kfsession/getsession', undefined, { query: { openid: requireOpenid(openid) } })
    return { kf_account: result.kf_account ?? '', createtime: result.createtime ?? 0 }
  }

  /** The users an agent is serving. */
  async sessionsOf(kfAccount: string): Promise<Array<{ openid: string; createtime: number }>> {
    const result = await this.api.call<{ sessionlist?: Array<{ openid: string; createtime: number }> }>('/customservice/kfsession/getsessionlist', undefined, { query: { kf_account: requireKfAccount(kfAccount) } })
    return result.sessionlist ?? []
  }

  /** Users waiting for an agent (WeChat lists up to 100). */
  async waitCase(): Promise<{ count: number; waitcaselist: Array<{ openid: string; latest_time: number }> }> {
    const result = await this.api.call<{ count?: number; waitcaselist?: Array<{ openid: string; latest_time: number }> }>('/customservice/kfsession/getwaitcase')
    return { count: result.count ?? 0, waitcaselist: result.waitcaselist ?? [] }
  }

  /**
   * Chat records between `startTime` and `endTime` (Unix seconds, within one day); page with
   * the returned `msgid` (start at 1), up to 10 000 per call.
   */
  async messageRecords(query: { startTime: number; endTime: number; msgid?: number; number?: number }): Promise<{ recordlist: KfMessageRecord[]; number: number; msgid: number }> {
    const start = requireInteger('startTime', query?.startTime, 1, 2 ** 32)
    const end = requireInteger('endTime', query.endTime, 1, 2 ** 32)
    if (end <= start || end - start > 86_400) invalidInput('endTime must be after startTime and within 24 hours of it (WeChat answers 65416)')
    const result = await this.api.call<{ recordlist?: KfMessageRecord[]; number?: number; msgid?: number | string }>(
      '/customservice/msgrecord/getmsglist',
      { starttime: start, endtime: end, msgid: requireInteger('msgid', query.msgid ?? 1, 1, 2 ** 53), number: requireInteger('number', query.number ?? 10_000, 1, 10_000) },
      { idempotent: true },
    )
    return { recordlist: result.recordlist ?? [], number: result.number ?? 0, msgid: Number(result.msgid ?? 0) }
  }
}
