/**
 * Permanent material and article-body images: add_material (multipart `media`, a video also
 * needs `description` {title, introduction}), uploadimg (jpg/png under 1 MB, answers a URL),
 * get/del/count/batchget. Formats 40005, sizes 40006/40009–40012, unknown ids 40007.
 */
import { randomBytes } from 'node:crypto'
import { get, post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, ok, readJson } from './body.js'
import { wxError } from './errmsgs.js'
import { readUpload } from './form.js'

export type FakeMaterialType = 'image' | 'voice' | 'video' | 'thumb'

export interface FakeMaterial {
  mediaId: string
  type: FakeMaterialType
  filename: string
  contentType: string
  data: Buffer
  /** Images: the URL usable inside articles. */
  url?: string
  title?: string
  introduction?: string
  /** Fake clock, ms. */
  updatedAt: number
}

const LIMITS: Record<FakeMaterialType, { maxBytes: number; extensions: string[]; sizeErrcode: number }> = {
  image: { maxBytes: 10 * 1024 * 1024, extensions: ['bmp', 'png', 'jpeg', 'jpg', 'gif'], sizeErrcode: 40009 },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['mp3', 'wma', 'wav', 'amr'], sizeErrcode: 40010 },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'], sizeErrcode: 40011 },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'], sizeErrcode: 40012 },
}
/** How many of a type an account may keep (images 100 000, others 1 000). */
const COUNT_LIMITS: Record<FakeMaterialType, number> = { image: 100_000, voice: 1000, video: 1000, thumb: 1000 }

/** The account's permanent material, by media_id. */
export const materials = (state: FakeState) => state.area('material', () => new Map<string, FakeMaterial>())
/** Images uploaded with uploadimg, by URL. */
export const articleImages = (state: FakeState) => state.area('article-images', () => new Map<string, { data: Buffer; contentType: string }>())

function imageUrl(ext: string): string {
  const fmt = ext === 'jpg' ? 'jpeg' : ext
  return `http://mmbiz.qpic.cn/mmbiz_${fmt}/${randomBytes(24).toString('base64url')}/0?wx_fmt=${fmt}`
}

export async function addMaterial(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const type = req.query.get('type') as FakeMaterialType | null
  if (type === null || !(type in LIMITS)) return state.error(40004)
  const upload = await readUpload(req, state)
  if ('error' in upload) return upload.error
  const { file, form } = upload
  const limits = LIMITS[type]
  if (!limits.extensions.includes(file.ext)) return state.error(40005)
  if (file.data.length === 0 || file.data.length > limits.maxBytes) return wxError(state, limits.sizeErrcode)
  const store = materials(state)
  if ([...store.values()].filter((m) => m.type === type).length >= COUNT_LIMITS[type]) return wxError(state, 45001, `${type} material count limit ${COUNT_LIMITS[type]}`)
  let title: string | undefined
  let introduction: string | undefined
  if (type === 'video') {
    const description = form.get('description')
    let parsed: { title?: unknown; introduction?: unknown } | undefined
    try {
      parsed = typeof description === 'string' ? (JSON.parse(description) as { title?: unknown; introduction?: unknown }) : undefined
    } catch {
      parsed = undefined
    }
    if (!isNonEmptyString(parsed?.title)) return state.error(47001, 'data format error hint: [description must be JSON {"title","introduction"}]')
    title = parsed.title
    introduction = typeof parsed.introduction === 'string' ? parsed.introduction : ''
  }
  const material: FakeMaterial = {
    mediaId: randomBytes(32).toString('base64url'),
    type,
    filename: file.filename,
    contentType: file.contentType,
    data: file.data,
    updatedAt: state.now(),
    ...(type === 'image' ? { url: imageUrl(file.ext) } : {}),
    ...(title === undefined ? {} : { title, introduction }),
  }
  store.set(material.mediaId, material)
  return { json: { media_id: material.mediaId, ...(material.url === undefined ? {} : { url: material.url }) } }
}

export async function uploadImg(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const upload = await readUpload(req, state)
  if ('error' in upload) return upload.error
  const { file } = upload
  if (!['jpg', 'jpeg', 'png'].includes(file.ext)) return state.error(40005)
  if (file.data.length === 0 || file.data.length >= 1024 * 1024) return state.error(40006)
  const url = imageUrl(file.ext)
  articleImages(state).set(url, { data: file.data, contentType: file.contentType })
  return { json: { url } }
}

function mediaIdOf(req: FakeRequest, state: FakeState): { id: string } | { error: FakeResponse } {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed
  const id = parsed.body.media_id
  return isNonEmptyString(id) ? { id } : { error: state.error(40007) }
}

export function getMaterial(req: FakeRequest, state: FakeState): FakeResponse {
  const read = mediaIdOf(req, state)
  if ('error' in read) return read.error
  const material = materials(state).get(read.id)
  if (material === undefined) return state.error(40007)
  if (material.type === 'video') {
    return { json: { title: material.title, description: material.introduction, down_url: `http://fake-wechat.invalid/material/${material.mediaId}.mp4` } }
  }
  return { binary: material.data, contentType: material.contentType, headers: { 'content-disposition': `attachment; filename="${material.filename}"` } }
}

export function delMaterial(req: FakeRequest, state: FakeState): FakeResponse {
  const read = mediaIdOf(req, state)
  if ('error' in read) return read.error
  return materials(state).delete(read.id) ? ok() : state.error(40007)
}

export function materialCount(_req: FakeRequest, state: FakeState): FakeResponse {
  const all = [...materials(state).values()]
  const count = (type: FakeMaterialType) => all.filter((m) => m.type === type).length
  return { json: { voice_count: count('voice'), video_count: count('video'), image_count: count('image') + count('thumb'), news_count: 0 } }
}

export function batchGetMaterial(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { type, offset, count } = parsed.body
  if (type !== 'image' && type !== 'voice' && type !== 'video' && type !== 'news') return state.error(40004)
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) return state.error(47001, 'data format error hint: [offset]')
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 20) return state.error(47001, 'data format error hint: [count must be 1-20]')
  // thumbs list with images, like WeChat's console does; news material predates drafts and is empty here
  const all = [...materials(state).values()].filter((m) => m.type === type || (type === 'image' && m.type === 'thumb')).sort((a, b) => b.updatedAt - a.updatedAt)
  const page = all.slice(offset, offset + count)
  return {
    json: {
      total_count: all.length,
      item_count: page.length,
      item: page.map((m) => ({ media_id: m.mediaId, name: m.filename, update_time: Math.floor(m.updatedAt / 1000), ...(m.url === undefined ? {} : { url: m.url }) })),
    },
  }
}

export const MATERIAL_ROUTES: Record<string, Route> = {
  '/cgi-bin/material/add_material': post(addMaterial),
  '/cgi-bin/media/uploadimg': post(uploadImg),
  '/cgi-bin/material/get_material': post(getMaterial),
  '/cgi-bin/material/del_material': post(delMaterial),
  '/cgi-bin/material/get_materialcount': get(materialCount),
  '/cgi-bin/material/batchget_material': post(batchGetMaterial),
}
