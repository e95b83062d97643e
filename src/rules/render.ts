/**
 * From a rule's reply to the core's Reply value: placeholders filled in, random picked.
 * Placeholders are checked when the rule is saved, so rendering never meets an unknown one.
 */
import type { Reply } from '../reply/types.js'
import type { RuleSingleReply } from './types.js'

export const PLACEHOLDERS = ['text', 'scene', 'key', 'openid', 'match'] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]
export type PlaceholderValues = Partial<Record<Placeholder, string>>

const TOKEN = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g

/** Unknown placeholders and stray braces in a text reply, as messages; empty when it is fine. */
export function placeholderProblems(content: string): string[] {
  const problems: string[] = []
  for (const m of content.matchAll(TOKEN)) {
    const token = m[0]
    if (token === '{{' || token === '}}') continue
    if (m[1] === undefined) problems.push(`a lone "${token}": write {{ or }} for a literal brace`)
    else if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
      problems.push(`unknown placeholder {${m[1]}}: use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} (nicknames are not sent by WeChat), or {{ for a literal brace`)
    }
  }
  return problems
}

/** Text for a reply: placeholders replaced (missing values become empty), `{{`/`}}` unescaped. */
export function fillPlaceholders(content: string, values: PlaceholderValues): string {
  if (!content.includes('{') && !content.includes('}')) return content
  return content.replace(TOKEN, (token, name: string | undefined) => {
    if (token === '{{') return '{'
    if (token === '}}') return '}'
    return name === undefined ? token : (values[name as Placeholder] ?? '')
  })
}

/** Literal text as a reply content (console text may hold braces). */
export function escapeBraces(text: string): string {
  return text.replace(/[{}]/g, (c) => c + c)
}

/** The core reply for one of a rule's single replies. */
export function toReply(reply: RuleSingleReply, values: PlaceholderValues): Reply {
  switch (reply.type) {
    case 'text':
      return { type: 'text', content: fillPlaceholders(reply.content, values) }
    case 'image':
      return { type: 'image', mediaId: reply.mediaId }
    case 'voice':
      return { type: 'voice', mediaId: reply.mediaId }
    case 'video':
      return { type: 'video', mediaId: reply.mediaId, ...optional('title', reply.title), ...optional('description', reply.description) }
    case 'music':
      return {
        type: 'music',
        thumbMediaId: reply.thumbMediaId,
        ...optional('title', reply.title),
        ...optional('description', reply.description),
        ...optional('musicUrl', reply.musicUrl),
        ...optional('hqMusicUrl', reply.hqMusicUrl),
      }
    case 'news':
      return {
        type: 'news',
        articles: reply.articles.map((a) => ({ title: a.title, ...optional('description', a.description), ...optional('picUrl', a.picUrl), ...optional('url', a.url) })),
      }
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }
}

/** One line a person can read: what a reply sends (for `rules list` and `rules test`). */
export function describeRuleReply(reply: RuleSingleReply | Reply): string {
  switch (reply.type) {
    case 'text':
      return `text ${JSON.stringify(reply.content.length > 60 ? reply.content.slice(0, 60) + '…' : reply.content)}`
    case 'news':
      return `news ${reply.articles.map((a) => JSON.stringify(a.title)).join(', ')}`
    case 'music':
      return `music ${JSON.stringify(reply.title ?? reply.thumbMediaId)}`
    case 'image':
    case 'voice':
    case 'video':
      return `${reply.type} ${reply.mediaId}`
    default:
      return reply.type
  }
}
