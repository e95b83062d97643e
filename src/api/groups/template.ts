/**
 * Template messages (模板消息): the way to reach a follower outside the 48-hour window; the
 * account's industry and its templates.
 */
import type { ApiCaller } from '../caller.js'
import { compact, invalidInput, requireInteger, requireOpenid, requireString } from './input.js'

export interface TemplateMessage {
  touser: string
  template_id: string
  /** Opened on tap (the mini program wins when both are given). */
  url?: string
  miniprogram?: { appid: string; pagepath?: string }
  /** Your idempotency id: WeChat drops a second send with the same one. */
  client_msg_id?: string
  data: Record<string, { value: string; color?: string }>
}

export interface Industry {
  first_class: string
  second_class: string
}

export interface PrivateTemplate {
  template_id: string
  title: string
  primary_industry?: string
  deputy_industry?: string
  content: string
  example: string
}

/**
 * @example
 * const msgid = await api.template.send({ touser: openid, template_id: 'ngqIpbwh…', data: { keyword1: { value: '巧克力' } } })
 */
export class TemplateApi {
  constructor(private readonly api: ApiCaller) {}

  /** Sends; returns WeChat's msgid as a string (it exceeds 2^53). */
  async send(message: TemplateMessage): Promise<string> {
    requireOpenid(message?.touser, 'touser')
    requireString('template_id', message.template_id)
    if (message.data === null || typeof message.data !== 'object' || Array.isArray(message.data)) invalidInput('template data must be an object like { keyword1: { value: "…" } }')
    for (const [key, item] of Object.entries(message.data)) {
      if (typeof item?.value !== 'string') invalidInput(`template data.${key}.value must be a string`)
    }
    const result = await this.api.call<{ msgid: string }>('/cgi-bin/message/template/send', compact({ ...message }))
    return result.msgid
  }

  /** Every template added to this account. */
  async list(): Promise<PrivateTemplate[]> {
    const result = await this.api.call<{ template_list?: PrivateTemplate[] }>('/cgi-bin/template/get_all_private_template')
    return result.template_list ?? []
  }

  async delete(templateId: string): Promise<void> {
    await this.api.call('/cgi-bin/template/del_private_template', { template_id: requireString('templateId', templateId) })
  }

  /** Sets the account's two industries (ids from WeChat's industry table; changeable once a month). */
  async setIndustry(primary: number, secondary: number): Promise<void> {
    await this.api.call('/cgi-bin/template/api_set_industry', { industry_id1: String(requireInteger('primary industry', primary, 1, 1000)), industry_id2: String(requireInteger('secondary industry', secondary, 1, 1000)) })
  }

  /** The account's industries. */
  async getIndustry(): Promise<{ primary_industry: Industry; secondary_industry: Industry }> {
    return this.api.call('/cgi-bin/template/get_industry')
  }

  /** Adds a template from the library by its short id (e.g. `TM00015`); returns the template_id to send with. */
  async add(templateIdShort: string, keywordNames?: string[]): Promise<string> {
    const body: Record<string, unknown> = { template_id_short: requireString('templateIdShort', templateIdShort) }
    if (keywordNames !== undefined) body.keyword_name_list = keywordNames.map((k, i) => requireString(`keywordNames[${i}]`, k))
    const result = await this.api.call<{ template_id?: string }>('/cgi-bin/template/api_add_template', body)
    if (typeof result.template_id !== 'string') invalidInput('the answer has no template_id')
    return result.template_id
  }
}
