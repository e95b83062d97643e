/**
 * The front matter of a post (`---` YAML `---` at the top): title, author, digest, cover,
 * source URL, comments. Parsed with the `yaml` package; every problem is reported with the
 * file's line number, so the author can jump to it.
 */
import { isMap, parseDocument, LineCounter } from 'yaml'
import { PostError } from './post-error.js'

export interface PostMeta {
  title?: string
  author?: string
  digest?: string
  /** A path relative to the post, or an http(s) URL. */
  cover?: string
  /** "阅读原文" link. */
  sourceUrl?: string
  /** Comments: off (default), on for everyone, or on for followers only. */
  comments: 'off' | 'on' | 'fans'
  /** External links become numbered references at the end (WeChat does not open them in articles). Default true. */
  linkReferences: boolean
  /** The 1-based line of each key, for messages. */
  lines: Partial<Record<string, number>>
}

export interface SplitPost {
  meta: PostMeta
  /** The Markdown after the front matter. */
  body: string
  /** Lines taken by the front matter (add to a body line number to get the file's). */
  bodyLineOffset: number
}

const KNOWN = new Set(['title', 'author', 'digest', 'cover', 'source_url', 'source', 'comments', 'link_references'])

/** Splits and checks the front matter of `source` (the file's text); `file` names it in messages. */
export function splitFrontMatter(source: string, file: string): SplitPost {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  const empty: PostMeta = { comments: 'off', linkReferences: true, lines: {} }
  if (!text.startsWith('---\n')) return { meta: empty, body: text, bodyLineOffset: 0 }
  const end = text.indexOf('\n---', 3)
  const close = end < 0 ? -1 : text.slice(end + 4).match(/^[ \t]*(\n|$)/) === null ? -1 : end
  if (close < 0) throw new PostError(file, 1, 'the front matter starts with --- but has no closing --- line')
  const yamlText = text.slice(4, close + 1)
  const afterClose = text.indexOf('\n', close + 4)
  const body = afterClose < 0 ? '' : text.slice(afterClose + 1)
  const bodyLineOffset = text.slice(0, afterClose < 0 ? text.length : afterClose + 1).split('\n').length - 1
  const counter = new LineCounter()
  const doc = parseDocument(yamlText, { lineCounter: counter, prettyErrors: false })
  const lineOf = (offset: number) => counter.linePos(offset).line + 1 // +1 for the opening ---
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    throw new PostError(file, lineOf(first.pos[0]), `the front matter is not valid YAML: ${first.message.split('\n')[0]}`)
  }
  if (doc.contents === null || doc.contents === undefined) return { meta: empty, body, bodyLineOffset }
  if (!isMap(doc.contents)) throw new PostError(file, 2, 'the front matter must be key: value lines')
  const root = doc.contents as unknown as { items: Array<{ key: { value?: unknown; range?: [number, number, number] } | null }> }
  const meta: PostMeta = { comments: 'off', linkReferences: true, lines: {} }
  const values = doc.toJS() as Record<string, unknown>
  for (const item of root.items) {
    const key = String(item.key?.value ?? '')
    const line = lineOf(item.key?.range?.[0] ?? 0)
    meta.lines[key] = line
    if (!KNOWN.has(key)) throw new PostError(file, line, `unknown front matter key "${key}": use ${[...KNOWN].filter((k) => k !== 'source').join(', ')}`)
    const value = values[key]
    const text = (): string | undefined => {
      if (value === null || value === undefined || value === '') return undefined
      if (typeof value === 'string' || typeof value === 'number') return String(value).trim()
      throw new PostError(file, line, `${key} must be text`)
    }
    switch (key) {
      case 'title':
      case 'author':
      case 'digest':
      case 'cover': {
        const v = text()
        if (v !== undefined) meta[key] = v
        break
      }
      case 'source':
      case 'source_url': {
        const v = text()
        if (v !== undefined && !/^https?:\/\/\S+$/i.test(v)) throw new PostError(file, line, `${key} must be an http(s) URL, got ${JSON.stringify(v.slice(0, 80))}`)
        if (v !== undefined) meta.sourceUrl = v
        break
      }
      case 'comments':
        if (value === true || value === 'on' || value === 'yes') meta.comments = 'on'
        else if (value === false || value === 'off' || value === 'no' || value === null) meta.comments = 'off'
        else if (value === 'fans' || value === 'followers') meta.comments = 'fans'
        else throw new PostError(file, line, `comments must be true, false or fans (followers only), got ${JSON.stringify(value)}`)
        break
      case 'link_references':
        if (typeof value !== 'boolean') throw new PostError(file, line, 'link_references must be true or false')
        meta.linkReferences = value
        break
    }
  }
  return { meta, body, bodyLineOffset }
}
