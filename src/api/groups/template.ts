/** Template messages (模板消息, protocol.md §9.1): the way to reach a follower outside the 48-hour window. */
import type { ApiCaller } from '../caller.js'
import { compact, invalidInput, requireOpenid, requireString } from './input.js'

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
}
