/**
 * The draft box (草稿箱): articles are saved as drafts, then published (api.publish) or mass
 * sent; a published draft leaves the box. Article limits are checked before sending.
 */
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { invalidInput, requireInteger, requireString } from './input.js'

/** WeChat's documented limits for one draft article (characters, not bytes, except the URL). */
export const DRAFT_LIMITS = {
  articles: 8,
  titleChars: 32,
  authorChars: 16,
  digestChars: 128,
  /** Characters of text (tags not counted). */
  contentTextChars: 20_000,
  contentBytes: 1024 * 1024,
  sourceUrlBytes: 1024,
} as const

export interface DraftArticle {
  /** `news` (default): an article; `newspic`: an image post. */
  article_type?: 'news' | 'newspic'
  title: string
  author?: string
  /** Shown in the share card; WeChat takes the first 54 characters of the text when empty. */
  digest?: string
  /** HTML; images must come from api.material.uploadArticleImage (others are dropped). */
  content: string
  /** "阅读原文" link. */
  content_source_url?: string
  /** Cover: a permanent image media id (api.material.add). Required for `news`. */
  thumb_media_id?: string
  need_open_comment?: 0 | 1
  only_fans_can_comment?: 0 | 1
  pic_crop_235_1?: string
  pic_crop_1_1?: string
}

/** A draft article as WeChat returns it. */
export type StoredArticle = DraftArticle & { thumb_url?: string; url?: string; is_deleted?: boolean }

export interface DraftItem {
  media_id: string
  content: { news_item: StoredArticle[] }
  /** Unix seconds. */
  update_time: number
}

export interface DraftPage {
  total_count: number
  item_count: number
  item: DraftItem[]
}

const chars = (s: string) => [...s].length

/** The text a reader sees: tags dropped, an entity counted as one character. */
export function articleText(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, '_')
}

/** Throws WX_ERR_API_INPUT naming the field when an article breaks a documented limit. */
export function validateDraftArticle(article: DraftArticle, where = 'article'): void {
  if (article === null || typeof article !== 'object') invalidInput(`${where} must be an object`)
  requireString(`${where}.title`, article.title, { maxChars: DRAFT_LIMITS.titleChars })
  if (article.author !== undefined && chars(String(article.author)) > DRAFT_LIMITS.authorChars) invalidInput(`${where}.author is ${chars(article.author)} characters, the limit is ${DRAFT_LIMITS.authorChars} (WeChat answers 45110)`)
  if (article.digest !== undefined && chars(String(article.digest)) > DRAFT_LIMITS.digestChars) invalidInput(`${where}.digest is ${chars(article.digest)} characters, the limit is ${DRAFT_LIMITS.digestChars} (WeChat answers 45004)`)
  requireString(`${where}.content`, article.content)
  const bytes = Buffer.byteLength(article.content, 'utf8')
  if (bytes >= DRAFT_LIMITS.contentBytes) invalidInput(`${where}.content is ${bytes} bytes, it must stay under 1 MB (WeChat answers 45002)`)
  const text = chars(articleText(article.content))
  if (text >= DRAFT_LIMITS.contentTextChars) invalidInput(`${where}.content has ${text} characters of text, it must stay under ${DRAFT_LIMITS.contentTextChars} (WeChat answers 45002)`)
  if (article.content_source_url !== undefined && article.content_source_url !== '') {
    if (!/^https?:\/\/\S+$/i.test(article.content_source_url)) invalidInput(`${where}.content_source_url must be an http(s) URL`)
    if (Buffer.byteLength(article.content_source_url) > DRAFT_LIMITS.sourceUrlBytes) invalidInput(`${where}.content_source_url is over ${DRAFT_LIMITS.sourceUrlBytes} bytes (WeChat answers 45005)`)
  }
  if ((article.article_type ?? 'news') === 'news') requireString(`${where}.thumb_media_id (the cover, a permanent image: api.material.add)`, article.thumb_media_id)
  for (const flag of ['need_open_comment', 'only_fans_can_comment'] as const) {
    if (article[flag] !== undefined && article[flag] !== 0 && article[flag] !== 1) invalidInput(`${where}.${flag} must be 0 or 1`)
  }
}

/**
 * @example
 * const mediaId = await api.draft.add([{ title: 'Hello', content: '<p>Hi</p>', thumb_media_id: cover.mediaId }])
 * await api.draft.update(mediaId, 0, { ...article, title: 'Hello again' })
 */
export class DraftApi {
  constructor(private readonly api: ApiCaller) {}

  /** Saves 1–8 articles as one draft; returns its media id. */
  async add(articles: DraftArticle | DraftArticle[]): Promise<string> {
    const list = Array.isArray(articles) ? articles : [articles]
    if (list.length === 0 || list.length > DRAFT_LIMITS.articles) invalidInput(`a draft holds 1–${DRAFT_LIMITS.articles} articles, got ${list.length} (WeChat answers 45008)`)
    list.forEach((a, i) => validateDraftArticle(a, `articles[${i}]`))
    const result = await this.api.call<{ media_id?: string }>('/cgi-bin/draft/add', { articles: list })
    if (typeof result.media_id !== 'string') throw new HttpError({ path: '/cgi-bin/draft/add', message: 'the answer has no media_id: is WECHAT_API_BASE pointing at WeChat?' })
    return result.media_id
  }

  /** The articles of a draft (40007 when there is no such draft, e.g. it was published). */
  async get(mediaId: string): Promise<StoredArticle[]> {
    const result = await this.api.call<{ news_item?: StoredArticle[] }>('/cgi-bin/draft/get', { media_id: requireString('mediaId', mediaId) }, { idempotent: true })
    return result.news_item ?? []
  }

  /** Replaces the article at `index` (0 = the first). */
  async update(mediaId: string, index: number, article: DraftArticle): Promise<void> {
    validateDraftArticle(article)
    await this.api.call('/cgi-bin/draft/update', { media_id: requireString('mediaId', mediaId), index: requireInteger('index', index, 0, DRAFT_LIMITS.articles - 1), articles: article })
  }

  async delete(mediaId: string): Promise<void> {
    await this.api.call('/cgi-bin/draft/delete', { media_id: requireString('mediaId', mediaId) })
  }

  async count(): Promise<number> {
    const result = await this.api.call<{ total_count?: number }>('/cgi-bin/draft/count')
    return result.total_count ?? 0
  }

  /** One page of drafts, newest first; `count` 1–20; `noContent` leaves the HTML out. */
  async batchGet(options: { offset?: number; count?: number; noContent?: boolean } = {}): Promise<DraftPage> {
    const page = await this.api.call<Partial<DraftPage>>(
      '/cgi-bin/draft/batchget',
      { offset: requireInteger('offset', options.offset ?? 0, 0, 1_000_000), count: requireInteger('count', options.count ?? 20, 1, 20), no_content: options.noContent === true ? 1 : 0 },
      { idempotent: true },
    )
    return { total_count: page.total_count ?? 0, item_count: page.item_count ?? 0, item: page.item ?? [] }
  }

  /**
   * Whether the draft box and publishing are switched on for this account (`checkOnly`, the
   * default), or switches them on (cannot be undone).
   */
  async switch(options: { checkOnly?: boolean } = {}): Promise<boolean> {
    const checkOnly = options.checkOnly ?? true
    const result = await this.api.call<{ is_open?: number }>('/cgi-bin/draft/switch', {}, { query: checkOnly ? { checkonly: 1 } : {} })
    return result.is_open === 1
  }
}
