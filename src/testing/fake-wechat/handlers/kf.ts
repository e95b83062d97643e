/**
 * Customer-service agents and sessions. Agents are `name@wechatid` (65400-range errors for
 * bad names, duplicates and the 100-agent limit); sessions need a known agent (65401) and a
 * user who is not already being served (65414); waiting users are added by the test with
 * `fake.addWaitingUser(openid)`. Message records list the customer-service messages sent.
 */
import { post, get, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, OPENID, ok, readJson } from './body.js'
import { wxError } from './errmsgs.js'
import { readUpload } from './form.js'

const KF_ACCOUNT = /^[A-Za-z0-9_]{1,10}@[\w-]{1,40}$/
const MAX_AGENTS = 100

interface FakeAgent {
  kf_account: string
  kf_nick: string
  kf_id: number
  kf_headimgurl: string
  invite_wx?: string
  invite_expire_time?: number
  kf_wx?: string
  online: boolean
}

const area = (state: FakeState) =>
  state.area('kf', () => ({ agents: new Map<string, FakeAgent>(), nextId: 1001, sessions: new Map<string, { kf_account: string; createtime: number }>(), waiting: new Map<string, number>() }))

/** A user waiting in the queue (as after a transfer_customer_service reply). */
export function addWaitingUser(state: FakeState, openid: string): void {
  area(state).waiting.set(openid, Math.floor(state.now() / 1000))
}

function agentBody(req: FakeRequest, state: FakeState, mustExist: boolean): { agent?: FakeAgent; account: string; nickname: unknown } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const account = parsed.body.kf_account
  if (!isNonEmptyString(account) || !KF_ACCOUNT.test(account)) return { error: wxError(state, 65404) }
  const agent = area(state).agents.get(account)
  if (mustExist && agent === undefined) return { error: wxError(state, 65401) }
  return { ...(agent === undefined ? {} : { agent }), account, nickname: parsed.body.nickname }
}

const nickOk = (nick: unknown): nick is string => isNonEmptyString(nick) && [...nick].length <= 16

export function kfAdd(req: FakeRequest, state: FakeState): FakeResponse {
  const read = agentBody(req, state, false)
  if ('error' in read) return read.error
  if (read.agent !== undefined) return wxError(state, 65406)
  if (!nickOk(read.nickname)) return wxError(state, 65403)
  const kf = area(state)
  if (kf.agents.size >= MAX_AGENTS) return wxError(state, 65405)
  kf.agents.set(read.account, { kf_account: read.account, kf_nick: read.nickname, kf_id: kf.nextId++, kf_headimgurl: '', online: false })
  return ok()
}

export function kfUpdate(req: FakeRequest, state: FakeState): FakeResponse {
  const read = agentBody(req, state, true)
  if ('error' in read) return read.error
  if (!nickOk(read.nickname)) return wxError(state, 65403)
  read.agent!.kf_nick = read.nickname
  return ok()
}

export function kfDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const account = req.query.get('kf_account') ?? ''
  if (!KF_ACCOUNT.test(account)) return wxError(state, 65404)
  return area(state).agents.delete(account) ? ok() : wxError(state, 65401)
}

export function kfInvite(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const agent = isNonEmptyString(parsed.body.kf_account) ? area(state).agents.get(parsed.body.kf_account) : undefined
  if (agent === undefined) return wxError(state, 65401)
  const wx = parsed.body.invite_wx
  if (!isNonEmptyString(wx)) return wxError(state, 65402)
  if (agent.kf_wx === wx) return wxError(state, 65407)
  if (agent.invite_wx === wx && (agent.invite_expire_time ?? 0) * 1000 > state.now()) return wxError(state, 65408)
  agent.invite_wx = wx
  agent.invite_expire_time = Math.floor(state.now() / 1000) + 7 * 86_400
  return ok()
}

export async function kfUploadHeadImg(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const agent = area(state).agents.get(req.query.get('kf_account') ?? '')
  if (agent === undefined) return wxError(state, 65401)
  const upload = await readUpload(req, state)
  if ('error' in upload) return upload.error
  if (upload.file.ext !== 'jpg' && upload.file.ext !== 'jpeg') return state.error(40005)
  if (upload.file.data.length === 0 || upload.file.data.length > 5 * 1024 * 1024) return state.error(40006)
  agent.kf_headimgurl = `http://mmbiz.qpic.cn/mmbiz/fake-kf-${agent.kf_id}/300`
  return ok()
}

export function kfList(_req: FakeRequest, state: FakeState): FakeResponse {
  return {
    json: {
      kf_list: [...area(state).agents.values()].map((a) => ({
        kf_account: a.kf_account,
        kf_nick: a.kf_nick,
        kf_id: a.kf_id,
        kf_headimgurl: a.kf_headimgurl,
        ...(a.kf_wx === undefined ? {} : { kf_wx: a.kf_wx }),
        ...(a.invite_wx === undefined ? {} : { invite_wx: a.invite_wx, invite_expire_time: a.invite_expire_time, invite_status: 'waiting' }),
      })),
    },
  }
}

export function kfOnlineList(_req: FakeRequest, state: FakeState): FakeResponse {
  const kf = area(state)
  return {
    json: {
      kf_online_list: [...kf.agents.values()]
        .filter((a) => a.online)
        .map((a) => ({ kf_account: a.kf_account, status: 1, kf_id: a.kf_id, accepted_case: [...kf.sessions.values()].filter((s) => s.kf_account === a.kf_account).length })),
    },
  }
}

function sessionBody(req: FakeRequest, state: FakeState): { account: string; openid: string } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const { kf_account, openid } = parsed.body
  if (!isNonEmptyString(kf_account) || !area(state).agents.has(kf_account)) return { error: wxError(state, 65401) }
  if (!isNonEmptyString(openid) || !OPENID.test(openid)) return { error: state.error(40003) }
  return { account: kf_account, openid }
}

export function sessionCreate(req: FakeRequest, state: FakeState): FakeResponse {
  const read = sessionBody(req, state)
  if ('error' in read) return read.error
  const kf = area(state)
  if (state.closedWindows.has(read.openid)) return state.error(45015)
  if (kf.sessions.has(read.openid)) return wxError(state, 65414)
  kf.sessions.set(read.openid, { kf_account: read.account, createtime: Math.floor(state.now() / 1000) })
  kf.waiting.delete(read.openid)
  return ok()
}

export function sessionClose(req: FakeRequest, state: FakeState): FakeResponse {
  const read = sessionBody(req, state)
  if ('error' in read) return read.error
  const kf = area(state)
  if (kf.sessions.get(read.openid)?.kf_account !== read.account) return wxError(state, 65413)
  kf.sessions.delete(read.openid)
  return ok()
}

export function sessionGet(req: FakeRequest, state: FakeState): FakeResponse {
  const openid = req.query.get('openid') ?? ''
  if (!OPENID.test(openid)) return state.error(40003)
  const session = area(state).sessions.get(openid)
  return { json: { errcode: 0, errmsg: 'ok', createtime: session?.createtime ?? 0, kf_account: session?.kf_account ?? '' } }
}

export function sessionList(req: FakeRequest, state: FakeState): FakeResponse {
  const account = req.query.get('kf_account') ?? ''
  if (!area(state).agents.has(account)) return wxError(state, 65401)
  return { json: { sessionlist: [...area(state).sessions].filter(([, s]) => s.kf_account === account).map(([openid, s]) => ({ createtime: s.createtime, openid })) } }
}

export function waitCase(_req: FakeRequest, state: FakeState): FakeResponse {
  const waiting = [...area(state).waiting].map(([openid, latest_time]) => ({ latest_time, openid }))
  return { json: { errcode: 0, errmsg: 'ok', count: waiting.length, waitcaselist: waiting.slice(0, 100) } }
}

export function msgRecords(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { starttime, endtime, msgid, number } = parsed.body
  if (typeof starttime !== 'number' || typeof endtime !== 'number' || endtime <= starttime || endtime - starttime > 86_400) return wxError(state, 65416)
  if (typeof number !== 'number' || number < 1 || number > 10_000 || typeof msgid !== 'number' || msgid < 1) return wxError(state, 61451)
  const records = state.sent
    .filter((s) => s.kind === 'customer-service' && s.at / 1000 >= starttime && s.at / 1000 <= endtime)
    .map((s) => ({
      openid: s.touser,
      opercode: 2002,
      text: s.msgtype === 'text' ? String((s.body.text as { content?: unknown } | undefined)?.content ?? '') : `[${s.msgtype}]`,
      time: Math.floor(s.at / 1000),
      worker: String((s.body.customservice as { kf_account?: unknown } | undefined)?.kf_account ?? ''),
    }))
  const page = records.slice(msgid - 1, msgid - 1 + number)
  return { json: { recordlist: page, number: page.length, msgid: msgid + page.length } }
}

export const KF_ROUTES: Record<string, Route> = {
  '/customservice/kfaccount/add': post(kfAdd),
  '/customservice/kfaccount/update': post(kfUpdate),
  '/customservice/kfaccount/del': get(kfDelete),
  '/customservice/kfaccount/inviteworker': post(kfInvite),
  '/customservice/kfaccount/uploadheadimg': post(kfUploadHeadImg),
  '/cgi-bin/customservice/getkflist': get(kfList),
  '/cgi-bin/customservice/getonlinekflist': get(kfOnlineList),
  '/customservice/kfsession/create': post(sessionCreate),
  '/customservice/kfsession/close': post(sessionClose),
  '/customservice/kfsession/getsession': get(sessionGet),
  '/customservice/kfsession/getsessionlist': get(sessionList),
  '/customservice/kfsession/getwaitcase': get(waitCase),
  '/customservice/msgrecord/getmsglist': post(msgRecords),
}
