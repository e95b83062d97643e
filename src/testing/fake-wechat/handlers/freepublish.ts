/**
 * Publishing (发布能力): submit a draft, then the job is "publishing" (status 1) for
 * `delayMs` on the fake's clock before it ends: success (0, an article_id and URLs, the draft
 * leaves the draft box) or the outcome a test queued (2 originality, 3 general failure, 4
 * audit refused, with fail_idx). Published articles can be listed, read and deleted (the job
 * then reports 5). A finished job can be announced as PUBLISHJOBFINISH through `onFinish`.
 */
import { randomBytes } from 'node:crypto'
import { post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, ok, readJson } from './body.js'
import { drafts, showArticle, type FakeArticle } from './drafts.js'
import { wxError } from './errmsgs.js'

export type PublishOutcome = { status: 0 } | { status: 2 | 3 | 4; failIdx?: number[] }

export interface FakePublishJob {
  publishId: string
  msgDataId: string
  mediaId: string
  articles: FakeArticle[]
  submittedAt: number
  outcome: PublishOutcome
  /** Set once the job ended: the status get answers. */
  status: number
  articleId?: string
  urls?: string[]
}

export interface FakePublished {
  articleId: string
  publishId: string
  articles: FakeArticle[]
  urls: string[]
  deleted: boolean[]
  updatedAt: number
}

export interface PublishConfig {
  /** How long a job stays at publish_status 1, on the fake's clock. Default 1500 ms. */
  delayMs: number
  /** Called when a job ends (to push PUBLISHJOBFINISH to a webhook). */
  onFinish?: (job: FakePublishJob) => void
}

const configs = new WeakMap<FakeState, PublishConfig>()

/** The publishing settings of one fake (they survive reset()). */
export function publishConfig(state: FakeState): PublishConfig {
  let config = configs.get(state)
  if (config === undefined) {
    config = { delayMs: 1500 }
    configs.set(state, config)
  }
  return config
}

interface PublishArea {
  jobs: Map<string, FakePublishJob>
  published: Map<string, FakePublished>
  /** Outcomes queued by the test for the next submits. */
  outcomes: PublishOutcome[]
  nextPublishId: number
  /** msg_data_id of every article sent (publish or mass send), for the comment endpoints. */
  msgData: Map<string, { articles: number }>
}

export const publishing = (state: FakeState): PublishArea =>
  state.area('publishing', () => ({ jobs: new Map(), published: new Map(), outcomes: [], nextPublishId: 2_247_503_051, msgData: new Map() }))

/** Ends every job whose time has come (the fake has no background clock: called on each request and by a timer). */
export function settlePublishing(state: FakeState): void {
  const area = publishing(state)
  const config = publishConfig(state)
  for (const job of area.jobs.values()) {
    if (job.status !== 1 || state.now() < job.submittedAt + config.delayMs) continue
    job.status = job.outcome.status
    if (job.outcome.status === 0) {
      const articleId = randomBytes(32).toString('base64url')
      job.articleId = articleId
      job.urls = job.articles.map(() => `https://mp.weixin.qq.com/s/${randomBytes(16).toString('base64url')}`)
      area.published.set(articleId, { articleId, publishId: job.publishId, articles: job.articles, urls: job.urls, deleted: job.articles.map(() => false), updatedAt: state.now() })
      // a published draft leaves the draft box
      drafts(state).delete(job.mediaId)
    }
    config.onFinish?.(job)
  }
}

function body(req: FakeRequest, state: FakeState) {
  settlePublishing(state)
  return readJson(req, state)
}

export function publishSubmit(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = body(req, state)
  if ('error' in parsed) return parsed.error
  const id = parsed.body.media_id
  const draft = isNonEmptyString(id) ? drafts(state).get(id) : undefined
  if (draft === undefined) return state.error(40007)
  const area = publishing(state)
  if ([...area.jobs.values()].some((j) => j.mediaId === draft.mediaId && j.status === 1)) return wxError(state, 53503, 'the draft is being published')
  const publishId = String(area.nextPublishId++)
  const msgDataId = String(2_247_483_000 + area.jobs.size)
  area.jobs.set(publishId, { publishId, msgDataId, mediaId: draft.mediaId, articles: draft.articles, submittedAt: state.now(), outcome: area.outcomes.shift() ?? { status: 0 }, status: 1 })
  area.msgData.set(msgDataId, { articles: draft.articles.length })
  const delay = publishConfig(state).delayMs
  // a real clock moves by itself: end the job on time so onFinish fires without a request
  setTimeout(() => settlePublishing(state), delay + 5).unref()
  return ok({ publish_id: publishId, msg_data_id: msgDataId })
}

export function publishGet(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = body(req, state)
  if ('error' in parsed) return parsed.error
  const job = publishing(state).jobs.get(String(parsed.body.publish_id ?? ''))
  if (job === undefined) return wxError(state, 47003, 'publish_id not found')
  const answer: Record<string, unknown> = { publish_id: job.publishId, publish_status: job.status }
  if (job.status === 0 || job.status === 5) {
    const published = job.articleId === undefined ? undefined : publishing(state).published.get(job.articleId)
    answer.article_id = job.articleId
    answer.article_detail = { count: job.urls?.length ?? 0, item: (job.urls ?? []).map((article_url, i) => ({ idx: i + 1, article_url })) }
    if (published !== undefined && published.deleted.every(Boolean)) answer.publish_status = 5
  }
  if (job.outcome.status !== 0 && job.status !== 1) answer.fail_idx = job.outcome.failIdx ?? job.articles.map((_, i) => i + 1)
  return { rawJson: JSON.stringify(answer).replace(`"publish_id":"${job.publishId}"`, `"publish_id":${job.publishId}`) }
}

function publishedOf(req: FakeRequest, state: FakeState): { item: FakePublished; index: number } | { error: FakeResponse } {
  const parsed = body(req, state)
  if ('error' in parsed) return parsed
  const id = parsed.body.article_id
  const item = isNonEmptyString(id) ? publishing(state).published.get(id) : undefined
  if (item === undefined) return { error: wxError(state, 53600) }
  const index = parsed.body.index ?? 0
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > item.articles.length) return { error: wxError(state, 53405) }
  return { item, index }
}

/** `index` 0 (or absent) deletes every article of the publish, 1… one of them. */
export function publishDelete(req: FakeRequest, state: FakeState): FakeResponse {
  const found = publishedOf(req, state)
  if ('error' in found) return found.error
  if (found.index === 0) found.item.deleted.fill(true)
  else found.item.deleted[found.index - 1] = true
  return ok()
}

export function publishGetArticle(req: FakeRequest, state: FakeState): FakeResponse {
  const found = publishedOf(req, state)
  if ('error' in found) return found.error
  const { item } = found
  return { json: { news_item: item.articles.map((a, i) => ({ ...showArticle(state, a, item.urls[i]), is_deleted: item.deleted[i] })) } }
}

export function publishBatchGet(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = body(req, state)
  if ('error' in parsed) return parsed.error
  const { offset, count, no_content } = parsed.body
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return state.error(47001, 'data format error hint: [offset]')
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 20) return state.error(47001, 'data format error hint: [count must be 1-20]')
  const all = [...publishing(state).published.values()].sort((a, b) => b.updatedAt - a.updatedAt)
  const page = all.slice(offset, offset + count)
  return {
    json: {
      total_count: all.length,
      item_count: page.length,
      item: page.map((p) => ({
        article_id: p.articleId,
        content: { news_item: p.articles.map((a, i) => ({ ...showArticle(state, a, p.urls[i]), ...(no_content === 1 ? { content: '' } : {}), is_deleted: p.deleted[i] })) },
        update_time: Math.floor(p.updatedAt / 1000),
      })),
    },
  }
}

export const FREEPUBLISH_ROUTES: Record<string, Route> = {
  '/cgi-bin/freepublish/submit': post(publishSubmit),
  '/cgi-bin/freepublish/get': post(publishGet),
  '/cgi-bin/freepublish/delete': post(publishDelete),
  '/cgi-bin/freepublish/getarticle': post(publishGetArticle),
  '/cgi-bin/freepublish/batchget': post(publishBatchGet),
}
