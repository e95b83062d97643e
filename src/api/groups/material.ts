/**
 * Permanent material (永久素材) and images for article bodies (uploadimg). Permanent media do
 * not expire (temporary ones from api.media live 3 days: using one where a permanent id is
 * needed is WeChat's 40007). Formats and sizes are checked before anything is sent.
 */
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { invalidInput, requireInteger, requireString } from './input.js'

export type MaterialType = 'image' | 'voice' | 'video' | 'thumb'
export type MaterialListType = 'image' | 'voice' | 'video' | 'news'

/** WeChat's documented limits per permanent material type (by file name extension and bytes). */
export const MATERIAL_LIMITS: Record<MaterialType, { maxBytes: number; extensions: readonly string[] }> = {
  image: { maxBytes: 10 * 1024 * 1024, extensions: ['bmp', 'png', 'jpeg', 'jpg', 'gif'] },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['mp3', 'wma', 'wav', 'amr'] },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
}

/** Images inside article bodies (uploadimg): jpg/png under 1 MB; the answer is a URL, not a media id. */
export const ARTICLE_IMAGE_LIMITS = { maxBytes: 1024 * 1024, extensions: ['jpg', 'jpeg', 'png'] as readonly string[] }

/** Items per batchget page (WeChat: 1–20). */
export const MATERIAL_PAGE_MAX = 20

export interface AddedMaterial {
  mediaId: string
  /** Images only: the URL to use inside articles (mmbiz.qpic.cn). */
  url?: string
}

export interface MaterialCount {
  voice_count: number
  video_count: number
  image_count: number
  news_count: number
}

export interface MaterialItem {
  media_id: string
  name?: string
  /** Unix seconds. */
  update_time: number
  url?: string
  /** News material (legacy): its articles. */
  content?: { news_item: Array<Record<string, unknown>> }
}

export interface MaterialPage {
  total_count: number
  item_count: number
  item: MaterialItem[]
}

export type MaterialContent =
  | { kind: 'news'; news_item: Array<Record<string, unknown>> }
  | { kind: 'video'; title: string; description: string; down_url: string }
  | { kind: 'file'; contentType: string; filename: string | undefined; data: Buffer }

type Bytes = Buffer | Uint8Array | Blob

/** Checks extension and size against `limits`; returns the blob to send. */
function checkFile(what: string, data: Bytes, filename: string, limits: { maxBytes: number; extensions: readonly string[] }): Blob {
  requireString('filename', filename, { maxBytes: 255 })
  if (/[\r\n"]/.test(filename)) invalidInput('filename must not contain quotes or line breaks')
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase()
  if (ext === undefined || !limits.extensions.includes(ext)) {
    invalidInput(`${what} must be ${limits.extensions.join('/')} (by file name), got ${JSON.stringify(filename)} (WeChat answers 40005)`)
  }
  const blob = data instanceof Blob ? data : data instanceof Uint8Array ? new Blob([data]) : invalidInput(`${what} data must be a Buffer, Uint8Array or Blob`)
  if (blob.size === 0) invalidInput(`the ${what} file ${filename} is empty`)
  if (blob.size > limits.maxBytes) invalidInput(`the ${what} file ${filename} is ${blob.size} bytes, the limit is ${limits.maxBytes} (${formatBytes(limits.maxBytes)}; WeChat answers 40006)`)
  return blob
}

export function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MB` : `${n / 1024} KB`
}

/**
 * @example
 * const { mediaId } = await api.material.add('thumb', await readFile('cover.jpg'), 'cover.jpg')
 * const url = await api.material.uploadArticleImage(await readFile('chart.png'), 'chart.png')
 */
export class MaterialApi {
  constructor(private readonly api: ApiCaller) {}

  /** Adds permanent material; a video needs a title and an introduction. Returns its media id (and, for images, the URL). */
  async add(type: MaterialType, data: Bytes, filename: string, video?: { title: string; introduction?: string }): Promise<AddedMaterial> {
    const limits = MATERIAL_LIMITS[type]
    if (limits === undefined) invalidInput(`material type must be image, voice, video or thumb, got ${JSON.stringify(type)}`)
    const blob = checkFile(`${type} material`, data, filename, limits)
    const form: Record<string, string | { data: Blob; filename: string }> = { media: { data: blob, filename } }
    if (type === 'video') {
      const title = requireString('video title', video?.title, { maxChars: 64 })
      form.description = JSON.stringify({ title, introduction: video?.introduction ?? '' })
    } else if (video !== undefined) invalidInput('only video material takes a title and an introduction')
    const result = await this.api.call<{ media_id?: string; url?: string }>('/cgi-bin/material/add_material', undefined, { query: { type }, form })
    if (typeof result.media_id !== 'string' || result.media_id === '') throw new HttpError({ path: '/cgi-bin/material/add_material', message: 'the answer has no media_id: is WECHAT_API_BASE pointing at WeChat?' })
    return { mediaId: result.media_id, ...(typeof result.url === 'string' ? { url: result.url } : {}) }
  }

  /** Uploads an image for use inside an article body (jpg/png < 1 MB); returns its URL. Does not count against the material limit. */
  async uploadArticleImage(data: Bytes, filename: string): Promise<string> {
    const blob = checkFile('article image', data, filename, ARTICLE_IMAGE_LIMITS)
    const result = await this.api.call<{ url?: string }>('/cgi-bin/media/uploadimg', undefined, { form: { media: { data: blob, filename } } })
    if (typeof result.url !== 'string' || result.url === '') throw new HttpError({ path: '/cgi-bin/media/uploadimg', message: 'the answer has no url: is WECHAT_API_BASE pointing at WeChat?' })
    return result.url
  }

  /** One material: a news item list, a video's URL, or the bytes of an image/voice/thumb. */
  async get(mediaId: string): Promise<MaterialContent> {
    const result = await this.api.binary({ path: '/cgi-bin/material/get_material', method: 'POST', json: { media_id: requireString('mediaId', mediaId) }, idempotent: true })
    if (result.kind === 'binary') {
      const { response } = result
      const disposition = response.headers.get('content-disposition') ?? ''
      const filename = /filename="?([^";]+)"?/i.exec(disposition)?.[1]?.split(/[\\/]/).pop()
      return { kind: 'file', contentType: response.headers.get('content-type') ?? 'application/octet-stream', filename, data: Buffer.from(await response.arrayBuffer()) }
    }
    const body = result.body
    if (Array.isArray(body.news_item)) return { kind: 'news', news_item: body.news_item as Array<Record<string, unknown>> }
    if (typeof body.down_url === 'string') return { kind: 'video', title: String(body.title ?? ''), description: String(body.description ?? ''), down_url: body.down_url }
    throw new HttpError({ path: '/cgi-bin/material/get_material', message: 'a JSON answer that is neither news nor video: is WECHAT_API_BASE pointing at WeChat?' })
  }

  async delete(mediaId: string): Promise<void> {
    await this.api.call('/cgi-bin/material/del_material', { media_id: requireString('mediaId', mediaId) })
  }

  /** How many of each type the account holds (limits: 100 000 images, 1 000 of each other type). */
  async count(): Promise<MaterialCount> {
    return this.api.call<MaterialCount>('/cgi-bin/material/get_materialcount')
  }

  /** One page of a type, newest first; `count` 1–20. */
  async batchGet(type: MaterialListType, offset = 0, count = MATERIAL_PAGE_MAX): Promise<MaterialPage> {
    if (!['image', 'voice', 'video', 'news'].includes(type)) invalidInput(`material list type must be image, voice, video or news, got ${JSON.stringify(type)}`)
    const page = await this.api.call<Partial<MaterialPage>>(
      '/cgi-bin/material/batchget_material',
      { type, offset: requireInteger('offset', offset, 0, 1_000_000), count: requireInteger('count', count, 1, MATERIAL_PAGE_MAX) },
      { idempotent: true },
    )
    return { total_count: page.total_count ?? 0, item_count: page.item_count ?? 0, item: page.item ?? [] }
  }
}
