/**
 * The publishing run: upload the images (body images through uploadimg, the cover as
 * permanent material; each only once, remembered by content hash), create or update the
 * post's draft, submit it and follow the job until WeChat reports the result, by polling the
 * status and by the PUBLISHJOBFINISH event when the webhook server recorded it first.
 */
import type { WechatApi } from '../api/client.js'
import { WechatApiError } from '../api/errors.js'
import { DRAFT_LIMITS, type DraftArticle } from '../api/groups/draft.js'
import { describePublishStatus, type PublishStatus } from '../api/groups/freepublish.js'
import { isWxmpError, WxmpError } from '../errors.js'
import { parseMessage } from '../messages/parse.js'
import { shortName, UPLOADIMG_MAX_BYTES, type LoadedImage } from './images.js'
import type { PostStore } from './post-store.js'
import { PostError } from './post-error.js'
import type { PreparedPost } from './prepare-post.js'
import type { Progress } from './progress.js'
import { renderPost } from './render.js'

export interface PublishRun {
  api: WechatApi
  /** Where drafts and uploads are remembered (the records database). */
  store: PostStore
  progress: Progress
  /** Stop after saving the draft. */
  draftOnly?: boolean
  /** Publish again a post that was already published (WeChat cannot edit a published article). */
  republish?: boolean
  /** How long to follow the job. Default 10 minutes. */
  timeoutMs?: number
  /** First pause between status checks. Default 2000 ms. */
  intervalMs?: number
}

export interface PublishOutcome {
  status: 'draft' | 'published' | 'unchanged'
  mediaId?: string
  publishId?: string
  articleId?: string
  articleUrl?: string
  /** What was uploaded this run (cached images are not counted). */
  uploaded: number
}

export async function publishPost(post: PreparedPost, run: PublishRun): Promise<PublishOutcome> {
  const { api, store, progress } = run
  const appId = api.appId
  const previous = await store.get(appId, post.path)
  if (previous?.status === 'published' && run.republish !== true) {
    if (previous.contentHash === post.contentHash) {
      progress.done(`already published, nothing changed: ${previous.articleUrl ?? previous.articleId ?? ''}`)
      return { status: 'unchanged', ...(previous.articleUrl === undefined ? {} : { articleUrl: previous.articleUrl }), uploaded: 0 }
    }
    throw new PostError(post.file, 0, `was published before (${previous.articleUrl ?? previous.articleId}) and has changed since: WeChat cannot edit a published article. Pass --republish to publish it as a new article`)
  }
  if (previous?.status === 'publishing' && previous.publishId !== undefined && previous.contentHash === post.contentHash && run.draftOnly !== true) {
    progress.done(`resuming the publish job ${previous.publishId} started earlier`)
    return follow(post, run, previous.mediaId, previous.publishId, 0)
  }

  let uploaded = 0
  const urls = new Map<string, string>()
  const body = [...post.images.values()]
  for (const [i, image] of body.entries()) {
    progress.update(`uploading images ${i + 1}/${body.length} (${shortName(image.src)})`)
    const cached = await store.image(appId, image.sha256, 'body')
    if (cached?.url !== undefined) {
      urls.set(image.src, cached.url)
      continue
    }
    const url = await uploadBodyImage(api, image)
    await store.putImage(appId, image.sha256, 'body', { url, mediaId: undefined })
    urls.set(image.src, url)
    uploaded++
  }
  if (body.length > 0) progress.done(`${body.length} image${body.length === 1 ? '' : 's'} ready (${uploaded} uploaded, ${body.length - uploaded} already on WeChat)`)

  const content = renderPost(post.parsed, { imageUrl: (src) => urls.get(src) ?? src, linkReferences: post.meta.linkReferences })
  const article = (thumb: string): DraftArticle => ({
    title: post.title,
    ...(post.meta.author === undefined ? {} : { author: post.meta.author }),
    ...(post.meta.digest === undefined ? {} : { digest: post.meta.digest }),
    content,
    ...(post.meta.sourceUrl === undefined ? {} : { content_source_url: post.meta.sourceUrl }),
    thumb_media_id: thumb,
    need_open_comment: post.meta.comments === 'off' ? 0 : 1,
    only_fans_can_comment: post.meta.comments === 'fans' ? 1 : 0,
  })
  if (Buffer.byteLength(content) >= DRAFT_LIMITS.contentBytes) throw new PostError(post.file, 0, `the article is ${Buffer.byteLength(content)} bytes of HTML: WeChat takes under 1 MB; split the post`)

  const saveDraft = async (thumb: string): Promise<string> => {
    const reuse = previous?.mediaId !== undefined && previous.status !== 'published' && previous.status !== 'publishing'
    if (reuse) {
      try {
        progress.update(`updating draft ${previous.mediaId}`)
        await api.draft.update(previous.mediaId!, 0, article(thumb))
        return previous.mediaId!
      } catch (err) {
        // the draft was deleted or published in the console: make a new one
        if (!(err instanceof WechatApiError && (err.errcode === 40007 || err.errcode === 53404))) throw err
        if (await draftExists(api, previous.mediaId!)) throw err
      }
    }
    progress.update('creating the draft')
    return api.draft.add(article(thumb))
  }
  let cover = await coverMediaId(api, store, post.cover, progress, false)
  if (cover.uploaded) uploaded++
  let mediaId: string
  try {
    mediaId = await saveDraft(cover.mediaId)
  } catch (err) {
    // the cover remembered from an earlier run was deleted from the material library
    if (!(err instanceof WechatApiError && err.errcode === 40007) || cover.uploaded) throw err
    cover = await coverMediaId(api, store, post.cover, progress, true)
    mediaId = await saveDraft(cover.mediaId)
    uploaded++
  }
  await store.put({ appId, source: post.path, title: post.title, contentHash: post.contentHash, mediaId, publishId: undefined, articleId: undefined, articleUrl: undefined, status: 'draft', failure: undefined })
  progress.done(`draft ${previous?.mediaId === mediaId ? 'updated' : 'saved'}: ${mediaId}`)
  if (run.draftOnly === true) return { status: 'draft', mediaId, uploaded }

  progress.update('submitting')
  const { publishId } = await api.publish.submit(mediaId)
  await store.put({ appId, source: post.path, title: post.title, contentHash: post.contentHash, mediaId, publishId, articleId: undefined, articleUrl: undefined, status: 'publishing', failure: undefined })
  progress.done(`submitted: publish_id ${publishId}`)
  return follow(post, run, mediaId, publishId, uploaded)
}

/** Waits for the job's end; records and returns the article, or throws with WeChat's reason. */
async function follow(post: PreparedPost, run: PublishRun, mediaId: string | undefined, publishId: string, uploaded: number): Promise<PublishOutcome> {
  const { api, store, progress } = run
  const started = Date.now()
  const stop = new AbortController()
  const finished = watchPublishEvent(store, publishId, started - 60_000, stop.signal)
  const base = { appId: api.appId, source: post.path, title: post.title, contentHash: post.contentHash, mediaId, publishId }
  try {
    const result = await api.publish.waitFor(publishId, {
      timeoutMs: run.timeoutMs ?? 600_000,
      intervalMs: run.intervalMs ?? 2000,
      finished,
      onStatus: (s) => progress.update(`publishing… ${Math.round((Date.now() - started) / 1000)} s (publish_status ${s.publish_status})`),
    })
    const articleUrl = result.article_detail?.item[0]?.article_url
    await store.put({ ...base, articleId: result.article_id, articleUrl, status: 'published', failure: undefined })
    progress.done(`published: ${articleUrl ?? result.article_id}`)
    return { status: 'published', ...(mediaId === undefined ? {} : { mediaId }), publishId, ...(result.article_id === undefined ? {} : { articleId: result.article_id }), ...(articleUrl === undefined ? {} : { articleUrl }), uploaded }
  } catch (err) {
    if (isWxmpError(err, 'WX_ERR_PUBLISH_FAILED') && (err.details?.publish_status as number | undefined) !== 1) {
      await store.put({ ...base, articleId: undefined, articleUrl: undefined, status: 'failed', failure: err.message })
    }
    throw err
  } finally {
    stop.abort()
  }
}

/** Body images: uploadimg for JPEG/PNG under 1 MB, permanent image material otherwise (GIF, BMP, larger files). */
async function uploadBodyImage(api: WechatApi, image: LoadedImage): Promise<string> {
  if ((image.format === 'jpeg' || image.format === 'png') && image.data.length < UPLOADIMG_MAX_BYTES) return api.material.uploadArticleImage(image.data, image.filename)
  const added = await api.material.add('image', image.data, image.filename)
  if (added.url === undefined) throw new WxmpError('WX_ERR_HTTP', `uploading ${shortName(image.src)} as image material gave no URL`)
  return added.url
}

async function coverMediaId(api: WechatApi, store: PostStore, cover: LoadedImage, progress: Progress, fresh: boolean): Promise<{ mediaId: string; uploaded: boolean }> {
  const cached = fresh ? undefined : await store.image(api.appId, cover.sha256, 'cover')
  if (cached?.mediaId !== undefined) return { mediaId: cached.mediaId, uploaded: false }
  progress.update(`uploading the cover (${shortName(cover.src)})`)
  const added = await api.material.add('image', cover.data, cover.filename)
  await store.putImage(api.appId, cover.sha256, 'cover', { url: added.url, mediaId: added.mediaId })
  progress.done(`cover uploaded as permanent material: ${added.mediaId}`)
  return { mediaId: added.mediaId, uploaded: true }
}

async function draftExists(api: WechatApi, mediaId: string): Promise<boolean> {
  try {
    await api.draft.get(mediaId)
    return true
  } catch (err) {
    if (err instanceof WechatApiError && (err.errcode === 40007 || err.errcode === 53404)) return false
    throw err
  }
}

/** Resolves with the job's status when the webhook server records its PUBLISHJOBFINISH event. */
async function watchPublishEvent(store: PostStore, publishId: string, since: number, signal: AbortSignal): Promise<PublishStatus> {
  if (!/^\d+$/.test(publishId)) return new Promise(() => {})
  while (!signal.aborted) {
    const xml = await store.publishEvent(publishId, since).catch(() => undefined)
    if (xml !== undefined) {
      const info = (parseMessage(xml) as { PublishEventInfo?: { publish_status: number; article_id?: string; article_detail?: { count?: number; item: Array<{ idx: number; article_url: string }> }; fail_idx?: number[] } }).PublishEventInfo
      if (info !== undefined) {
        return {
          publish_id: publishId,
          publish_status: info.publish_status,
          ...(info.article_id === undefined ? {} : { article_id: info.article_id }),
          ...(info.article_detail === undefined ? {} : { article_detail: { count: info.article_detail.count ?? info.article_detail.item.length, item: info.article_detail.item } }),
          ...(info.fail_idx === undefined ? {} : { fail_idx: info.fail_idx }),
        }
      }
    }
    await new Promise((r) => setTimeout(r, 1000).unref())
  }
  return new Promise(() => {})
}

export { describePublishStatus }
