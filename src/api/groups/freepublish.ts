/**
 * Publishing (发布能力): submit a draft, follow the job until it ends, list, read and delete
 * published articles. A submit only starts a job: WeChat checks originality and content
 * afterwards and reports the result by status (and a PUBLISHJOBFINISH event to the webhook).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { WxmpError } from '../../errors.js'
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import type { StoredArticle } from './draft.js'
import { invalidInput, requireInteger, requireString } from './input.js'

/** publish_status values and what they mean. */
export const PUBLISH_STATUS: Record<number, string> = {
  0: 'published',
  1: 'publishing',
  2: 'originality check failed (原创失败)',
  3: 'failed (常规失败)',
  4: 'refused by the platform audit (平台审核不通过)',
  5: 'published, then every article was deleted by the account',
  6: 'published, then every article was banned by the platform',
}

export interface PublishStatus {
  publish_id: string
  publish_status: number
  article_id?: string
  article_detail?: { count: number; item: Array<{ idx: number; article_url: string }> }
  /** 1-based numbers of the articles that failed. */
  fail_idx?: number[]
}

export interface PublishedItem {
  article_id: string
  content: { news_item: StoredArticle[] }
  /** Unix seconds. */
  update_time: number
}

export interface PublishedPage {
  total_count: number
  item_count: number
  item: PublishedItem[]
}

export interface WaitOptions {
  /** First pause between two status checks. Default 2000 ms (then ×1.5, up to 10 s). */
  intervalMs?: number
  /** Give up after this long. Default 10 minutes. */
  timeoutMs?: number
  /** Each status seen (progress display). */
  onStatus?: (status: PublishStatus) => void
  /** Resolves when something else learned the result first (the PUBLISHJOBFINISH event): it is used instead. */
  finished?: Promise<PublishStatus>
  signal?: AbortSignal
}

/** The message for a status that is not success: the meaning and which articles failed. */
export function describePublishStatus(status: PublishStatus): string {
  const meaning = PUBLISH_STATUS[status.publish_status] ?? `unknown publish_status ${status.publish_status}`
  const failed = status.fail_idx !== undefined && status.fail_idx.length > 0 ? ` (articles ${status.fail_idx.join(', ')})` : ''
  return `publish ${status.publish_id}: ${meaning}${failed}`
}

/**
 * @example
 * const { publishId } = await api.publish.submit(draftMediaId)
 * const result = await api.publish.waitFor(publishId)      // throws with the reason unless published
 * console.log(result.article_detail?.item[0]?.article_url)
 */
export class PublishApi {
  constructor(private readonly api: ApiCaller) {}

  /** Starts publishing a draft; returns the publish_id (a string). */
  async submit(mediaId: string): Promise<{ publishId: string; msgDataId?: string }> {
    const result = await this.api.call<{ publish_id?: string; msg_data_id?: string | number }>('/cgi-bin/freepublish/submit', { media_id: requireString('mediaId', mediaId) })
    if (result.publish_id === undefined) throw new HttpError({ path: '/cgi-bin/freepublish/submit', message: 'the answer has no publish_id: is WECHAT_API_BASE pointing at WeChat?' })
    return { publishId: String(result.publish_id), ...(result.msg_data_id === undefined ? {} : { msgDataId: String(result.msg_data_id) }) }
  }

  /** The job's status now. */
  async status(publishId: string): Promise<PublishStatus> {
    const result = await this.api.call<PublishStatus>('/cgi-bin/freepublish/get', { publish_id: requireString('publishId', String(publishId)) }, { idempotent: true })
    return { ...result, publish_id: String(result.publish_id ?? publishId) }
  }

  /**
   * Polls until the job ends. Resolves with the status when published (0); throws
   * WX_ERR_PUBLISH_FAILED naming the reason (originality, audit …) otherwise.
   */
  async waitFor(publishId: string, options: WaitOptions = {}): Promise<PublishStatus> {
    const timeoutMs = options.timeoutMs ?? 600_000
    const deadline = Date.now() + timeoutMs
    let interval = options.intervalMs ?? 2000
    let external: PublishStatus | undefined
    void options.finished?.then((s) => (external = s)).catch(() => undefined)
    for (;;) {
      const status = external ?? (await this.status(publishId))
      options.onStatus?.(status)
      if (status.publish_status !== 1) {
        if (status.publish_status === 0) return status
        throw new WxmpError('WX_ERR_PUBLISH_FAILED', describePublishStatus(status), { details: { publish_id: status.publish_id, publish_status: status.publish_status } })
      }
      if (Date.now() + interval > deadline) {
        throw new WxmpError('WX_ERR_PUBLISH_FAILED', `publish ${publishId}: still publishing after ${Math.round(timeoutMs / 1000)} s; check later with the status (the job goes on at WeChat)`, { details: { publish_id: publishId, publish_status: 1 } })
      }
      const wake = options.finished === undefined ? sleep(interval, undefined, { signal: options.signal }) : Promise.race([sleep(interval, undefined, { signal: options.signal }), options.finished.catch(() => undefined)])
      await wake
      interval = Math.min(10_000, Math.round(interval * 1.5))
    }
  }

  /** Deletes a published article: `index` 0 (default) every article of it, 1… one of them. Cannot be undone. */
  async delete(articleId: string, index = 0): Promise<void> {
    await this.api.call('/cgi-bin/freepublish/delete', { article_id: requireString('articleId', articleId), index: requireInteger('index', index, 0, 8) })
  }

  /** The articles of a published article_id (with their URLs and whether they were deleted). */
  async getArticle(articleId: string): Promise<StoredArticle[]> {
    const result = await this.api.call<{ news_item?: StoredArticle[] }>('/cgi-bin/freepublish/getarticle', { article_id: requireString('articleId', articleId) }, { idempotent: true })
    return result.news_item ?? []
  }

  /** One page of published articles, newest first; `count` 1–20. */
  async batchGet(options: { offset?: number; count?: number; noContent?: boolean } = {}): Promise<PublishedPage> {
    if (options === null || typeof options !== 'object') invalidInput('batchGet takes { offset, count, noContent }')
    const page = await this.api.call<Partial<PublishedPage>>(
      '/cgi-bin/freepublish/batchget',
      { offset: requireInteger('offset', options.offset ?? 0, 0, 1_000_000), count: requireInteger('count', options.count ?? 20, 1, 20), no_content: options.noContent === true ? 1 : 0 },
      { idempotent: true },
    )
    return { total_count: page.total_count ?? 0, item_count: page.item_count ?? 0, item: page.item ?? [] }
  }
}
