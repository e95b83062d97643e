/**
 * Subscription notices (订阅通知): the account picks templates from the public library
 * (by category, title id and keyword ids), and sends a notice to a user who accepted that
 * template (subscribe_msg_popup_event). Templates live under /wxaapi/newtmpl.
 */
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { compact, invalidInput, requireInteger, requireOpenid, requireString } from './input.js'

export interface SubscribeTemplate {
  priTmplId: string
  title: string
  content: string
  example: string
  /** 2 one-time, 3 long-term. */
  type: number
}

export interface SubscribeKeyword {
  kid: number
  name: string
  example: string
  /** The value's kind: thing, number, letter, symbol, character_string, time, date, amount, phone_number, car_number, name, phrase … */
  rule: string
}

export interface SubscribeMessage {
  touser: string
  template_id: string
  /** Web page opened on tap (or the mini program below). */
  page?: string
  miniprogram?: { appid: string; pagepath: string }
  /** `{ thing1: { value: '…' } }`: keys are the template's keyword names. */
  data: Record<string, { value: string }>
}

/**
 * @example
 * const id = await api.subscribeMessage.addTemplate('1234', [3, 5, 4], '订单发货通知')
 * await api.subscribeMessage.send({ touser: openid, template_id: id, data: { thing1: { value: '已发货' } } })
 */
export class SubscribeMessageApi {
  constructor(private readonly api: ApiCaller) {}

  /** Adds a template from the public library (title id `tid`, 2–5 keyword ids in order); returns its priTmplId. */
  async addTemplate(tid: string, kidList: number[], sceneDesc?: string): Promise<string> {
    if (!Array.isArray(kidList) || kidList.length < 2 || kidList.length > 5) invalidInput(`kidList takes 2–5 keyword ids, got ${Array.isArray(kidList) ? kidList.length : typeof kidList}`)
    const result = await this.api.call<{ priTmplId?: string }>(
      '/wxaapi/newtmpl/addtemplate',
      compact({ tid: requireString('tid', String(tid)), kidList: kidList.map((k, i) => requireInteger(`kidList[${i}]`, k, 1, 1000)), sceneDesc: sceneDesc === undefined ? undefined : requireString('sceneDesc', sceneDesc, { maxChars: 15 }) }),
    )
    if (typeof result.priTmplId !== 'string') throw new HttpError({ path: '/wxaapi/newtmpl/addtemplate', message: 'the answer has no priTmplId' })
    return result.priTmplId
  }

  async deleteTemplate(priTmplId: string): Promise<void> {
    await this.api.call('/wxaapi/newtmpl/deltemplate', { priTmplId: requireString('priTmplId', priTmplId) })
  }

  /** The templates this account added. */
  async listTemplates(): Promise<SubscribeTemplate[]> {
    const result = await this.api.call<{ data?: SubscribeTemplate[] }>('/wxaapi/newtmpl/gettemplate')
    return result.data ?? []
  }

  /** The categories of the account (what the public library offers depends on them). */
  async categories(): Promise<Array<{ id: number; name: string }>> {
    const result = await this.api.call<{ data?: Array<{ id: number; name: string }> }>('/wxaapi/newtmpl/getcategory')
    return result.data ?? []
  }

  /** Public template titles in some categories (comma-separated ids); `limit` 1–30. */
  async titles(categoryIds: number[], start = 0, limit = 30): Promise<{ count: number; data: Array<{ tid: number; title: string; type: number; categoryId: string }> }> {
    if (!Array.isArray(categoryIds) || categoryIds.length === 0) invalidInput('titles needs at least one category id (api.subscribeMessage.categories())')
    const result = await this.api.call<{ count?: number; data?: Array<{ tid: number; title: string; type: number; categoryId: string }> }>('/wxaapi/newtmpl/getpubtemplatetitles', undefined, {
      query: { ids: categoryIds.map((c, i) => requireInteger(`categoryIds[${i}]`, c, 0, 2 ** 31)).join(','), start: requireInteger('start', start, 0, 1_000_000), limit: requireInteger('limit', limit, 1, 30) },
    })
    return { count: result.count ?? 0, data: result.data ?? [] }
  }

  /** The keywords of a public template title. */
  async keywords(tid: string): Promise<SubscribeKeyword[]> {
    const result = await this.api.call<{ data?: SubscribeKeyword[] }>('/wxaapi/newtmpl/getpubtemplatekeywords', undefined, { query: { tid: requireString('tid', String(tid)) } })
    return result.data ?? []
  }

  /** Sends a notice (the user must have accepted the template: 43101 otherwise). */
  async send(message: SubscribeMessage): Promise<void> {
    requireOpenid(message?.touser, 'touser')
    requireString('template_id', message.template_id)
    if (message.data === null || typeof message.data !== 'object' || Array.isArray(message.data)) invalidInput('data must be an object like { thing1: { value: "…" } }')
    for (const [key, item] of Object.entries(message.data)) {
      if (typeof item?.value !== 'string') invalidInput(`data.${key}.value must be a string`)
    }
    await this.api.call('/cgi-bin/message/subscribe/bizsend', compact({ ...message }))
  }
}
