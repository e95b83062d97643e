/**
 * Customer-service messages, the typing indicator and template messages (protocol.md §7,
 * §9.1). Delivered messages are recorded in `sent`; the 48-hour window (45015) and the
 * per-user quota (45047) are switched per OpenID by the test.
 */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { OPENID, isNonEmptyString, ok, readJson, type JsonBody } from './body.js'
import { permanentMaterial } from './console.js'

const TYPING_MS = 15_000
const MSGTYPES = new Set(['text', 'image', 'voice', 'video', 'music', 'news', 'mpnews', 'mpnewsarticle', 'msgmenu', 'wxcard', 'miniprogrampage'])

function mediaKnown(state: FakeState, id: unknown): boolean {
  if (!isNonEmptyString(id)) return false
  if (permanentMaterial(state).has(id)) return true // permanent material never expires
  const media = state.media.get(id)
  return media !== undefined && state.now() - media.createdAt < 3 * 86_400_000
}

/** The payload check per msgtype: undefined when it is fine, else the errcode answer. */
function checkPayload(state: FakeState, msgtype: string, payload: JsonBody): FakeResponse | undefined {
  switch (msgtype) {
    case 'text':
      return isNonEmptyString(payload.content) ? undefined : state.error(44004)
    case 'image':
    case 'voice':
    case 'video':
      return mediaKnown(state, payload.media_id) ? undefined : state.error(40007)
    case 'music':
      return isNonEmptyString(payload.thumb_media_id) ? undefined : state.error(47001, 'data format error hint: [thumb_media_id missing]')
    case 'news': {
      const articles = payload.articles
      if (!Array.isArray(articles) || articles.length === 0) return state.error(47001, 'data format error hint: [articles missing]')
      if (articles.length > 1) return state.error(45008)
      return isNonEmptyString((articles[0] as JsonBody | undefined)?.title) ? undefined : state.error(47001, 'data format error hint: [title missing]')
    }
    case 'mpnews':
      return isNonEmptyString(payload.media_id) ? undefined : state.error(40007)
    case 'mpnewsarticle':
      return isNonEmptyString(payload.article_id) ? undefined : state.error(47001, 'data format error hint: [article_id missing]')
    case 'msgmenu': {
      const list = payload.list
      const good = Array.isArray(list) && list.length > 0 && list.every((i) => isNonEmptyString((i as JsonBody)?.id) && isNonEmptyString((i as JsonBody)?.content))
      return good ? undefined : state.error(47001, 'data format error hint: [msgmenu list]')
    }
    case 'miniprogrampage':
      return ['title', 'appid', 'pagepath', 'thumb_media_id'].every((k) => isNonEmptyString(payload[k])) ? undefined : state.error(47001, 'data format error hint: [miniprogrampage field missing]')
    case 'wxcard':
      return isNonEmptyString(payload.card_id) ? undefined : state.error(47001)
    default:
      return state.error(40008)
  }
}

/** The window and quota rules shared by sends and typing. */
function checkWindow(state: FakeState, touser: string): FakeResponse | undefined {
  if (state.closedWindows.has(touser)) return state.error(45015)
  const left = state.sendQuota.get(touser)
  if (left !== undefined && left <= 0) return state.error(45047)
  return undefined
}

export function customSend(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const touser = body.touser
  if (!isNonEmptyString(touser) || !OPENID.test(touser)) return state.error(40003)
  const msgtype = body.msgtype
  if (!isNonEmptyString(msgtype) || !MSGTYPES.has(msgtype)) return state.error(40008)
  const payload = body[msgtype]
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return state.error(47001, `data format error hint: [${msgtype} missing]`)
  const user = state.users.get(touser)
  if (user !== undefined && user.subscribe === 0) return state.error(43004, 'require subscribe')
  const windowError = checkWindow(state, touser)
  if (windowError !== undefined) return windowError
  const bad = checkPayload(state, msgtype, payload as JsonBody)
  if (bad !== undefined) return bad
  const left = state.sendQuota.get(touser)
  if (left !== undefined) state.sendQuota.set(touser, left - 1)
  state.typingUntil.delete(touser) // a message ends "typing…"
  state.sent.push({ kind: 'customer-service', touser, msgtype, body, at: state.now() })
  return ok()
}

export function customTyping(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const touser = body.touser
  if (!isNonEmptyString(touser) || !OPENID.test(touser)) return state.error(40003)
  if (body.command !== 'Typing' && body.command !== 'CancelTyping') return state.error(47001, 'data format error hint: [command must be Typing or CancelTyping]')
  if (state.closedWindows.has(touser)) return state.error(45015)
  const now = state.now()
  if (body.command === 'Typing') {
    if ((state.typingUntil.get(touser) ?? 0) > now) return state.error(45081)
    state.typingUntil.set(touser, now + TYPING_MS)
  } else {
    state.typingUntil.delete(touser)
  }
  state.sent.push({ kind: 'typing', touser, msgtype: body.command, body, at: now })
  return ok()
}

export function templateSend(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const touser = body.touser
  if (!isNonEmptyString(touser) || !OPENID.test(touser)) return state.error(40003)
  const templateId = body.template_id
  if (!isNonEmptyString(templateId) || !state.templates.has(templateId)) return state.error(40037)
  const data = body.data
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return state.error(47003, 'argument invalid! data is empty')
  for (const item of Object.values(data as JsonBody)) {
    if (typeof (item as JsonBody | null)?.value !== 'string') return state.error(47003, 'argument invalid! data.value must be a string')
  }
  const user = state.users.get(touser)
  if (user !== undefined && user.subscribe === 0) return state.error(43004, 'require subscribe')
  const msgid = String(state.nextTemplateMsgId++)
  state.sent.push({ kind: 'template', touser, msgtype: templateId, body, at: state.now(), msgid })
  // the msgid is a 64-bit number in the JSON text, as WeChat sends it
  return { rawJson: `{"errcode":0,"errmsg":"ok","msgid":${msgid}}` }
}

export function templateList(_req: FakeRequest, state: FakeState): FakeResponse {
  return {
    json: {
      template_list: [...state.templates].map(([template_id, t]) => ({ template_id, title: t.title, primary_industry: 'IT科技', deputy_industry: '互联网|电子商务', content: t.content, example: '' })),
    },
  }
}

export function templateDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const id = parsed.body.template_id
  if (!isNonEmptyString(id) || !state.templates.delete(id)) return state.error(40037)
  return ok()
}
