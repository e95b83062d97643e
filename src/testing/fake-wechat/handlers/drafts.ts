/**
 * The draft box (草稿箱): add/get/update/delete/count/batchget/switch with WeChat's article
 * limits: 1–8 articles, title ≤ 32 characters (45003), author ≤ 16 (45110), digest ≤ 128
 * (45004), content present (44004) and under 20 000 characters of text and 1 MB (45002),
 * content_source_url ≤ 1 KB (45005), thumb_media_id a permanent image (40007). Images in the
 * content that did not come from uploadimg or material are dropped, as WeChat filters them.
 */
import { randomBytes } from 'node:crypto'
import { get, post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, ok, readJson, utf8Bytes, type JsonBody } from './body.js'
import { wxError } from './errmsgs.js'
import { articleImages, materials } from './material.js'

export const DRAFT_MAX_ARTICLES = 8

export interface FakeArticle {
  article_type: 'news' | 'newspic'
  title: string
  author: string
  digest: string
  content: string
  content_source_url: string
  thumb_media_id: string
  need_open_comment: 0 | 1
  only_fans_can_comment: 0 | 1
  pic_crop_235_1?: string
  pic_crop_1_1?: string
}

export interface FakeDraft {
  mediaId: string
  articles: FakeArticle[]
  /** Fake clock, ms. */
  updatedAt: number
}

export const drafts = (state: FakeState) => state.area('drafts', () => new Map<string, FakeDraft>())
const draftBox = (state: FakeState) => state.area('draft-switch', () => ({ open: false }))

const chars = (s: string) => [...s].length
/** The text a reader sees: tags dropped, entities counted as one character. */
export const visibleText = (html: string) => html.replace(/<[^>]*>/g, '').replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, '_')

/** WeChat keeps only images it hosts (uploadimg, material URLs) and drops scripts. */
function filterContent(state: FakeState, html: string): string {
  const known = new Set([...articleImages(state).keys(), ...[...materials(state).values()].flatMap((m) => (m.url === undefined ? [] : [m.url]))])
  return html
    .replace(/<script\b[\s\S]*?<\/script>/gi, '')
    .replace(/<img\b[^>]*>/gi, (tag) => {
      const src = /\bsrc\s*=\s*["']([^"']*)["']/i.exec(tag)?.[1]?.replace(/&amp;/g, '&')
      return src !== undefined && known.has(src) ? tag : ''
    })
}

/** Checks one article; the errcode answer when WeChat would refuse it. */
export function checkArticle(state: FakeState, raw: unknown): FakeArticle | FakeResponse {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return state.error(47001, 'data format error hint: [article must be an object]')
  const a = raw as JsonBody
  const type = a.article_type ?? 'news'
  if (type !== 'news' && type !== 'newspic') return state.error(47001, 'data format error hint: [article_type must be news or newspic]')
  if (!isNonEmptyString(a.title)) return wxError(state, 44003, 'title missing')
  if (chars(a.title) > 32) return wxError(state, 45003)
  const text = (name: string): string | undefined => (a[name] === undefined ? '' : typeof a[name] === 'string' ? (a[name] as string) : undefined)
  const author = text('author')
  const digest = text('digest')
  const source = text('content_source_url')
  if (author === undefined || digest === undefined || source === undefined) return state.error(47001, 'data format error hint: [author, digest and content_source_url are strings]')
  if (chars(author) > 16) return wxError(state, 45110)
  if (chars(digest) > 128) return wxError(state, 45004)
  if (utf8Bytes(source) > 1024) return wxError(state, 45005)
  if (source !== '' && !/^https?:\/\/\S+$/i.test(source)) return wxError(state, 40066)
  if (!isNonEmptyString(a.content)) return state.error(44004)
  if (utf8Bytes(a.content) >= 1024 * 1024 || chars(visibleText(a.content)) >= 20_000) return wxError(state, 45002)
  const thumb = a.thumb_media_id
  const material = isNonEmptyString(thumb) ? materials(state).get(thumb) : undefined
  if (type === 'news' && (material === undefined || (material.type !== 'image' && material.type !== 'thumb'))) return state.error(40007, 'invalid media_id hint: [thumb_media_id must be a permanent image]')
  const flag = (name: string): 0 | 1 | undefined => (a[name] === undefined || a[name] === 0 ? 0 : a[name] === 1 ? 1 : undefined)
  const comments = flag('need_open_comment')
  const fansOnly = flag('only_fans_can_comment')
  if (comments === undefined || fansOnly === undefined) return state.error(47001, 'data format error hint: [need_open_comment and only_fans_can_comment are 0 or 1]')
  return {
    article_type: type,
    title: a.title,
    author,
    digest: digest === '' ? visibleText(a.content).trim().slice(0, 54) : digest,
    content: filterContent(state, a.content),
    content_source_url: source,
    thumb_media_id: isNonEmptyString(thumb) ? thumb : '',
    need_open_comment: comments,
    only_fans_can_comment: fansOnly,
    ...(typeof a.pic_crop_235_1 === 'string' ? { pic_crop_235_1: a.pic_crop_235_1 } : {}),
    ...(typeof a.pic_crop_1_1 === 'string' ? { pic_crop_1_1: a.pic_crop_1_1 } : {}),
  }
}

/** An article as the get endpoints show it (with its thumb URL). */
export function showArticle(state: FakeState, article: FakeArticle, url = ''): Record<string, unknown> {
  return { ...article, thumb_url: materials(state).get(article.thumb_media_id)?.url ?? '', url }
}

function draftOf(req: FakeRequest, state: FakeState): { draft: FakeDraft; body: JsonBody } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const id = parsed.body.media_id
  const draft = isNonEmptyString(id) ? drafts(state).get(id) : undefined
  if (draft === undefined) return { error: state.error(40007) }
  return { draft, body: parsed.body }
}

export function draftAdd(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const list = parsed.body.articles
  if (!Array.isArray(list) || list.length === 0) return wxError(state, 44003)
  if (list.length > DRAFT_MAX_ARTICLES) return state.error(45008)
  const articles: FakeArticle[] = []
  for (const raw of list) {
    const checked = checkArticle(state, raw)
    if (!('title' in checked)) return checked
    articles.push(checked)
  }
  const mediaId = randomBytes(32).toString('base64url')
  drafts(state).set(mediaId, { mediaId, articles, updatedAt: state.now() })
  return { json: { media_id: mediaId } }
}

export function draftGet(req: FakeRequest, state: FakeState): FakeResponse {
  const found = draftOf(req, state)
  if ('error' in found) return found.error
  return { json: { news_item: found.draft.articles.map((a) => showArticle(state, a)) } }
}

export function draftUpdate(req: FakeRequest, state: FakeState): FakeResponse {
  const found = draftOf(req, state)
  if ('error' in found) return found.error
  const index = found.body.index
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= found.draft.articles.length) return wxError(state, 53405)
  const checked = checkArticle(state, found.body.articles)
  if (!('title' in checked)) return checked
  found.draft.articles[index] = checked
  found.draft.updatedAt = state.now()
  return ok()
}

export function draftDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const found = draftOf(req, state)
  if ('error' in found) return found.error
  drafts(state).delete(found.draft.mediaId)
  return ok()
}

export function draftCount(_req: FakeRequest, state: FakeState): FakeResponse {
  return { json: { total_count: drafts(state).size } }
}

export function draftBatchGet(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { offset, count, no_content } = parsed.body
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return state.error(47001, 'data format error hint: [offset]')
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 20) return state.error(47001, 'data format error hint: [count must be 1-20]')
  const all = [...drafts(state).values()].sort((a, b) => b.updatedAt - a.updatedAt)
  const page = all.slice(offset, offset + count)
  return {
    json: {
      total_count: all.length,
      item_count: page.length,
      item: page.map((d) => ({
        media_id: d.mediaId,
        content: { news_item: d.articles.map((a) => (no_content === 1 ? { ...showArticle(state, a), content: '' } : showArticle(state, a))) },
        update_time: Math.floor(d.updatedAt / 1000),
      })),
    },
  }
}

/** `?checkonly=1` reports; without it the draft box is switched on (it cannot be switched off). */
export function draftSwitch(req: FakeRequest, state: FakeState): FakeResponse {
  const box = draftBox(state)
  if (req.query.get('checkonly') !== '1') box.open = true
  return ok({ is_open: box.open ? 1 : 0 })
}

export const DRAFT_ROUTES: Record<string, Route> = {
  '/cgi-bin/draft/add': post(draftAdd),
  '/cgi-bin/draft/get': post(draftGet),
  '/cgi-bin/draft/update': post(draftUpdate),
  '/cgi-bin/draft/delete': post(draftDelete),
  '/cgi-bin/draft/count': get(draftCount),
  '/cgi-bin/draft/batchget': post(draftBatchGet),
  '/cgi-bin/draft/switch': post(draftSwitch),
}
