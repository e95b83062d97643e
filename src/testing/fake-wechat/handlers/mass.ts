/**
 * Mass send: to all, to a tag, to 2–10 000 OpenIDs, preview, delete, status, speed. The
 * account's quota (default 4, a service account's month; 45028 when used up) is set with
 * `fake.setMassQuota(n)`; a repeated clientmsgid answers 45065; an article is a draft's
 * media_id, which leaves the draft box once sent. Messages sent are in `fake.sent`.
 */
import { post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, OPENID, ok, readJson, type JsonBody } from './body.js'
import { drafts } from './drafts.js'
import { wxError } from './errmsgs.js'
import { publishing } from './freepublish.js'
import { materials } from './material.js'

const MASS_TYPES = new Set(['mpnews', 'text', 'voice', 'image', 'mpvideo', 'wxcard'])
const REAL_SPEEDS = [80, 60, 45, 30, 10]
/** How long a mass job reports SENDING, on the fake's clock. */
const SENDING_MS = 1000
const CLIENT_MSG_ID_MS = 86_400_000
const PREVIEWS_PER_DAY = 100

interface MassJob {
  msgId: string
  sentAt: number
  deleted: boolean
}

const area = (state: FakeState) =>
  state.area('mass', () => ({ quota: 4, previews: 0, speed: 0, nextMsgId: 1_000_000_001, jobs: new Map<string, MassJob>(), clientIds: new Map<string, number>() }))

/** Mass sends left before 45028 (what `fake.setMassQuota` sets). */
export function setMassQuota(state: FakeState, left: number): void {
  area(state).quota = left
}

/** Checks the content of a mass message; the msg_data_id when it is an article. */
type Checked = { error: FakeResponse } | { msgDataId?: string; consume?: string }

function checkContent(state: FakeState, body: JsonBody): Checked {
  const msgtype = body.msgtype
  if (!isNonEmptyString(msgtype) || !MASS_TYPES.has(msgtype)) return { error: state.error(40008) }
  const key = msgtype === 'image' ? 'images' : msgtype
  const content = body[key]
  if (content === null || typeof content !== 'object' || Array.isArray(content)) return { error: state.error(47001, `data format error hint: [${key} missing]`) }
  const c = content as JsonBody
  const material = (id: unknown, types: string[]) => isNonEmptyString(id) && types.includes(materials(state).get(id)?.type ?? '')
  switch (msgtype) {
    case 'text':
      return isNonEmptyString(c.content) ? {} : { error: state.error(44004) }
    case 'voice':
      return material(c.media_id, ['voice']) ? {} : { error: state.error(40007) }
    case 'mpvideo':
      return material(c.media_id, ['video']) ? {} : { error: state.error(40007) }
    case 'wxcard':
      return isNonEmptyString(c.card_id) ? {} : { error: state.error(47001, 'data format error hint: [card_id]') }
    case 'image': {
      const ids = c.media_ids
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > 8 || !ids.every((id) => material(id, ['image']))) return { error: state.error(40007) }
      return {}
    }
    default: {
      const draft = isNonEmptyString(c.media_id) ? drafts(state).get(c.media_id) : undefined
      if (draft === undefined) return { error: state.error(40007) }
      const sent = publishing(state)
      const msgDataId = String(2_247_490_000 + sent.msgData.size)
      sent.msgData.set(msgDataId, { articles: draft.articles.length })
      return { msgDataId, consume: draft.mediaId }
    }
  }
}

function send(state: FakeState, body: JsonBody, touser: string): FakeResponse {
  const mass = area(state)
  const now = state.now()
  const clientId = body.clientmsgid
  if (clientId !== undefined) {
    if (!isNonEmptyString(clientId) || Buffer.byteLength(clientId) > 64) return state.error(47001, 'data format error hint: [clientmsgid is a string of up to 64 bytes]')
    const at = mass.clientIds.get(clientId)
    if (at !== undefined && now - at < CLIENT_MSG_ID_MS) return wxError(state, 45065)
  }
  if (mass.quota <= 0) return wxError(state, 45028)
  const checked = checkContent(state, body)
  if ('error' in checked) return checked.error
  const content = checked
  mass.quota--
  if (isNonEmptyString(clientId)) mass.clientIds.set(clientId, now)
  if (content.consume !== undefined) drafts(state).delete(content.consume)
  const msgId = String(mass.nextMsgId++)
  mass.jobs.set(msgId, { msgId, sentAt: now, deleted: false })
  state.sent.push({ kind: 'mass', touser, msgtype: String(body.msgtype), body, at: now, msgid: msgId })
  return ok({ msg_id: Number(msgId), ...(content.msgDataId === undefined ? {} : { msg_data_id: Number(content.msgDataId) }) })
}

export function massSendAll(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const filter = parsed.body.filter as JsonBody | undefined
  if (filter === null || typeof filter !== 'object') return state.error(47001, 'data format error hint: [filter missing]')
  if (filter.is_to_all === true) return send(state, parsed.body, '@all')
  const tagId = Number(filter.tag_id)
  if (!Number.isInteger(tagId) || !state.tags.has(tagId)) return state.error(40152, 'invalid group id')
  return send(state, parsed.body, `@tag:${tagId}`)
}

export function massSend(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const list = parsed.body.touser
  if (!Array.isArray(list)) return state.error(47001, 'data format error hint: [touser must be a list]')
  if (list.length < 2) return wxError(state, 40130)
  if (list.length > 10_000) return state.error(40032)
  if (!list.every((o) => typeof o === 'string' && OPENID.test(o))) return state.error(40003)
  return send(state, parsed.body, list.join(','))
}

export function massPreview(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const to = isNonEmptyString(body.touser) ? body.touser : isNonEmptyString(body.towxname) ? `wx:${body.towxname}` : undefined
  if (to === undefined || (isNonEmptyString(body.touser) && !OPENID.test(body.touser))) return state.error(40003)
  const mass = area(state)
  if (mass.previews >= PREVIEWS_PER_DAY) return state.error(45009)
  const msgtype = body.msgtype
  if (msgtype === 'mpnews') {
    const c = body.mpnews as JsonBody | undefined
    if (!isNonEmptyString(c?.media_id) || !drafts(state).has(c.media_id)) return state.error(40007)
  } else {
    const checked = checkContent(state, body)
    if ('error' in checked) return checked.error
  }
  mass.previews++
  const msgId = String(mass.nextMsgId++)
  state.sent.push({ kind: 'mass-preview', touser: to, msgtype: String(msgtype), body, at: state.now(), msgid: msgId })
  return ok({ msg_id: Number(msgId) })
}

function jobOf(req: FakeRequest, state: FakeState): { job: MassJob; body: JsonBody } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const job = area(state).jobs.get(String(parsed.body.msg_id ?? ''))
  return job === undefined ? { error: state.error(47003, 'argument invalid! msg_id not found') } : { job, body: parsed.body }
}

export function massDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const found = jobOf(req, state)
  if ('error' in found) return found.error
  found.job.deleted = true
  return ok()
}

export function massGet(req: FakeRequest, state: FakeState): FakeResponse {
  const found = jobOf(req, state)
  if ('error' in found) return found.error
  const { job } = found
  const status = job.deleted ? 'DELETE' : state.now() - job.sentAt < SENDING_MS ? 'SENDING' : 'SEND_SUCCESS'
  return { json: { msg_id: Number(job.msgId), msg_status: status } }
}

export function massSpeedGet(_req: FakeRequest, state: FakeState): FakeResponse {
  const speed = area(state).speed
  return { json: { speed, realspeed: REAL_SPEEDS[speed] } }
}

export function massSpeedSet(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const speed = parsed.body.speed
  if (typeof speed !== 'number' || !Number.isInteger(speed) || speed < 0 || speed > 4) return state.error(47003, 'argument invalid! speed must be 0-4')
  area(state).speed = speed
  return ok()
}

export const MASS_ROUTES: Record<string, Route> = {
  '/cgi-bin/message/mass/sendall': post(massSendAll),
  '/cgi-bin/message/mass/send': post(massSend),
  '/cgi-bin/message/mass/preview': post(massPreview),
  '/cgi-bin/message/mass/delete': post(massDelete),
  '/cgi-bin/message/mass/get': post(massGet),
  '/cgi-bin/message/mass/speed/get': post(massSpeedGet),
  '/cgi-bin/message/mass/speed/set': post(massSpeedSet),
}
