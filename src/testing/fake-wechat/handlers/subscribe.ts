/**
 * Subscription notices (/wxaapi/newtmpl, subscribe/bizsend) and the template-message
 * administration (industry, add from the library). A public library of two titles with
 * their keywords is seeded; a user receives a notice only after `fake.acceptSubscription`
 * (43101 otherwise), as after accepting the popup.
 */
import { randomBytes } from 'node:crypto'
import { get, post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, OPENID, ok, readJson } from './body.js'
import { wxError } from './errmsgs.js'

const CATEGORIES = [
  { id: 616, name: '公共交通' },
  { id: 307, name: '商业服务' },
]
const LIBRARY: Record<string, { title: string; categoryId: number; keywords: Array<{ kid: number; name: string; rule: string; example: string }> }> = {
  '1234': {
    title: '订单发货通知',
    categoryId: 307,
    keywords: [
      { kid: 1, name: '商品名称', rule: 'thing', example: '巧克力' },
      { kid: 2, name: '快递公司', rule: 'thing', example: '顺丰速运' },
      { kid: 3, name: '快递单号', rule: 'character_string', example: 'SF1234567890' },
      { kid: 4, name: '发货时间', rule: 'time', example: '2026-01-01 12:00' },
    ],
  },
  '5678': {
    title: '车辆到站提醒',
    categoryId: 616,
    keywords: [
      { kid: 1, name: '线路', rule: 'thing', example: '1路' },
      { kid: 2, name: '站点', rule: 'thing', example: '天河路' },
      { kid: 3, name: '到站时间', rule: 'time', example: '08:30' },
    ],
  },
}
const MAX_TEMPLATES = 50

interface AddedTemplate {
  priTmplId: string
  tid: string
  kidList: number[]
  sceneDesc: string
}

const area = (state: FakeState) =>
  state.area('subscribe', () => ({ templates: new Map<string, AddedTemplate>(), accepted: new Set<string>(), industry: { primary: 1, secondary: 4 } }))

/** The user accepted this template in the popup (subscribe_msg_popup_event). */
export function acceptSubscription(state: FakeState, openid: string, templateId: string): void {
  area(state).accepted.add(`${openid}:${templateId}`)
}

export function addTemplate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { tid, kidList, sceneDesc } = parsed.body
  const title = isNonEmptyString(tid) ? LIBRARY[tid] : undefined
  if (title === undefined) return wxError(state, 200019)
  if (!Array.isArray(kidList) || kidList.length < 2 || kidList.length > 5 || !kidList.every((k) => title.keywords.some((w) => w.kid === k))) return wxError(state, 200020)
  if (sceneDesc !== undefined && (typeof sceneDesc !== 'string' || [...sceneDesc].length > 15)) return wxError(state, 200021)
  const templates = area(state).templates
  if (templates.size >= MAX_TEMPLATES) return wxError(state, 200022)
  const priTmplId = randomBytes(32).toString('base64url').slice(0, 43)
  templates.set(priTmplId, { priTmplId, tid: tid as string, kidList: kidList as number[], sceneDesc: typeof sceneDesc === 'string' ? sceneDesc : '' })
  return ok({ priTmplId })
}

export function deleteTemplate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const id = parsed.body.priTmplId
  return isNonEmptyString(id) && area(state).templates.delete(id) ? ok() : wxError(state, 200011)
}

/** The template's keywords with the data keys a send uses (`thing1`, `time2` …: rule + position). */
function keywordsOf(template: AddedTemplate) {
  const title = LIBRARY[template.tid]!
  return template.kidList.map((kid, i) => {
    const word = title.keywords.find((k) => k.kid === kid)!
    return { ...word, key: `${word.rule}${i + 1}` }
  })
}

export function listTemplates(_req: FakeRequest, state: FakeState): FakeResponse {
  return {
    json: {
      errcode: 0,
      errmsg: 'ok',
      data: [...area(state).templates.values()].map((t) => {
        const words = keywordsOf(t)
        return { priTmplId: t.priTmplId, title: LIBRARY[t.tid]!.title, content: words.map((w) => `${w.name}:{{${w.key}.DATA}}`).join('\n'), example: words.map((w) => `${w.name}:${w.example}`).join('\n'), type: 2 }
      }),
    },
  }
}

export function categories(_req: FakeRequest, _state: FakeState): FakeResponse {
  return { json: { errcode: 0, errmsg: 'ok', data: CATEGORIES } }
}

export function pubTitles(req: FakeRequest, state: FakeState): FakeResponse {
  const ids = (req.query.get('ids') ?? '').split(',').filter((s) => s !== '').map(Number)
  const start = Number(req.query.get('start') ?? '0')
  const limit = Number(req.query.get('limit') ?? '30')
  if (ids.length === 0 || !ids.every((id) => CATEGORIES.some((c) => c.id === id))) return wxError(state, 200018)
  if (!Number.isInteger(start) || start < 0) return wxError(state, 200016)
  if (!Number.isInteger(limit) || limit < 1 || limit > 30) return wxError(state, 200017)
  const all = Object.entries(LIBRARY).filter(([, t]) => ids.includes(t.categoryId))
  return { json: { errcode: 0, errmsg: 'ok', count: all.length, data: all.slice(start, start + limit).map(([tid, t]) => ({ tid: Number(tid), title: t.title, type: 2, categoryId: String(t.categoryId) })) } }
}

export function pubKeywords(req: FakeRequest, state: FakeState): FakeResponse {
  const title = LIBRARY[req.query.get('tid') ?? '']
  if (title === undefined) return wxError(state, 200019)
  return { json: { errcode: 0, errmsg: 'ok', count: title.keywords.length, data: title.keywords } }
}

export function bizSend(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  if (!isNonEmptyString(body.touser) || !OPENID.test(body.touser)) return state.error(40003)
  const template = isNonEmptyString(body.template_id) ? area(state).templates.get(body.template_id) : undefined
  if (template === undefined) return state.error(40037)
  const data = body.data
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return wxError(state, 47003, 'data missing')
  const keys = keywordsOf(template).map((w) => w.key)
  for (const [key, item] of Object.entries(data as Record<string, { value?: unknown }>)) {
    if (!keys.includes(key) || typeof item?.value !== 'string') return wxError(state, 47003, `data.${key}`)
  }
  if (body.page !== undefined && (typeof body.page !== 'string' || !/^https?:\/\//i.test(body.page))) return wxError(state, 41030)
  const user = state.users.get(body.touser)
  if (user !== undefined && user.subscribe === 0) return state.error(43004, 'require subscribe')
  if (!area(state).accepted.has(`${body.touser}:${template.priTmplId}`)) return wxError(state, 43101)
  state.sent.push({ kind: 'subscribe', touser: body.touser, msgtype: template.priTmplId, body, at: state.now() })
  return ok()
}

/** Template-message administration: the industry, and templates added from the library by short id. */
export function setIndustry(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const a = Number(parsed.body.industry_id1)
  const b = Number(parsed.body.industry_id2)
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || a > 41 || b < 1 || b > 41) return wxError(state, 47003, 'industry ids are 1-41')
  area(state).industry = { primary: a, secondary: b }
  return ok()
}

const INDUSTRIES: Record<number, [string, string]> = { 1: ['IT科技', '互联网/电子商务'], 2: ['IT科技', 'IT软件与服务'], 4: ['IT科技', '电子技术'], 10: ['餐饮', '餐饮'] }

export function getIndustry(_req: FakeRequest, state: FakeState): FakeResponse {
  const { primary, secondary } = area(state).industry
  const show = (id: number) => {
    const [first_class, second_class] = INDUSTRIES[id] ?? ['其它', '其它']
    return { first_class, second_class }
  }
  return { json: { primary_industry: show(primary), secondary_industry: show(secondary) } }
}

export function addPrivateTemplate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const short = parsed.body.template_id_short
  if (!isNonEmptyString(short) || !/^(TM|OPENTM)\d{5,9}$/.test(short)) return state.error(40037)
  if (state.templates.size >= 25) return state.error(45026, 'template size out of limit')
  const id = randomBytes(32).toString('base64url').slice(0, 43)
  state.templates.set(id, { title: `模板 ${short}`, content: '{{keyword1.DATA}}' })
  return ok({ template_id: id })
}

export const SUBSCRIBE_ROUTES: Record<string, Route> = {
  '/wxaapi/newtmpl/addtemplate': post(addTemplate),
  '/wxaapi/newtmpl/deltemplate': post(deleteTemplate),
  '/wxaapi/newtmpl/gettemplate': get(listTemplates),
  '/wxaapi/newtmpl/getcategory': get(categories),
  '/wxaapi/newtmpl/getpubtemplatetitles': get(pubTitles),
  '/wxaapi/newtmpl/getpubtemplatekeywords': get(pubKeywords),
  '/cgi-bin/message/subscribe/bizsend': post(bizSend),
  '/cgi-bin/template/api_set_industry': post(setIndustry),
  '/cgi-bin/template/get_industry': get(getIndustry),
  '/cgi-bin/template/api_add_template': post(addPrivateTemplate),
}
