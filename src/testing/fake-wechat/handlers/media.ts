/**
 * Temporary media (protocol.md §9.4): multipart upload (field `media`) with WeChat's type,
 * format and size checks; download as bytes with Content-Type and Content-disposition, a
 * video as JSON {video_url}, an unknown or expired id as errcode 40007.
 */
import { randomBytes } from 'node:crypto'
import type { FakeMedia, FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'

const LIMITS: Record<FakeMedia['type'], { maxBytes: number; extensions: string[] }> = {
  image: { maxBytes: 2 * 1024 * 1024, extensions: ['jpg', 'jpeg', 'png', 'gif'] },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['amr', 'mp3'] },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
}
const MEDIA_TTL_MS = 3 * 86_400_000

export function newMediaId(): string {
  return randomBytes(48).toString('base64url')
}

export async function mediaUpload(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const type = req.query.get('type') as FakeMedia['type'] | null
  if (type === null || !(type in LIMITS)) return state.error(40004)
  const contentType = String(req.headers['content-type'] ?? '')
  if (!/^multipart\/form-data/i.test(contentType)) return state.error(41005)
  let file: File | string | null
  try {
    const form = await new Request('http://fake.invalid/', { method: 'POST', headers: { 'content-type': contentType }, body: req.body }).formData()
    file = form.get('media')
  } catch {
    return state.error(41005)
  }
  if (file === null || typeof file === 'string') return state.error(41005)
  const filename = (file as File).name ?? ''
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase()
  const limits = LIMITS[type]
  if (ext === undefined || !limits.extensions.includes(ext)) return state.error(40005)
  const data = Buffer.from(await file.arrayBuffer())
  if (data.length === 0 || data.length > limits.maxBytes) return state.error(40006)
  const media: FakeMedia = { mediaId: newMediaId(), type, contentType: file.type || 'application/octet-stream', filename, data, createdAt: state.now() }
  state.media.set(media.mediaId, media)
  const createdAt = Math.floor(media.createdAt / 1000)
  return { json: type === 'thumb' ? { type, thumb_media_id: media.mediaId, created_at: createdAt } : { type, media_id: media.mediaId, created_at: createdAt } }
}

export function mediaGet(req: FakeRequest, state: FakeState): FakeResponse {
  const media = state.media.get(req.query.get('media_id') ?? '')
  if (media === undefined || state.now() - media.createdAt >= MEDIA_TTL_MS) {
    // WeChat answers errors on this endpoint as JSON with a text/plain Content-Type
    const answer = state.error(40007) as { json: unknown }
    return { text: JSON.stringify(answer.json), status: 200, contentType: 'text/plain' }
  }
  if (media.type === 'video') return { json: { video_url: `http://fake-wechat.invalid/video/${media.mediaId}.mp4` } }
  const ext = /\.([A-Za-z0-9]+)$/.exec(media.filename)?.[1] ?? 'bin'
  return {
    binary: media.data,
    contentType: media.contentType,
    headers: { 'content-disposition': `attachment; filename="${media.mediaId}.${ext}"` },
  }
}
