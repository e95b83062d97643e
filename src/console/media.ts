/**
 * Media for the inbox, fetched through the API's media download (the browser never sees an
 * access token or loads mmbiz URLs): image thumbnails are served as images, voice files as
 * downloads with their duration worked out from the AMR frames. A small in-memory cache
 * keeps a page of thumbnails from costing a download each time the page is drawn.
 */
import type { WechatApi } from '../api/client.js'

export interface MediaFile {
  contentType: string
  data: Buffer
  filename: string
}

const MAX_BYTES = 10 * 1024 * 1024
const CACHE_BYTES = 32 * 1024 * 1024
const CACHE_MS = 30 * 60_000
/** Shown inline; anything else is sent as a download. */
export const INLINE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

export class MediaCache {
  private readonly entries = new Map<string, { file: MediaFile; at: number }>()
  private bytes = 0
  private readonly inflight = new Map<string, Promise<MediaFile>>()

  constructor(
    private readonly api: () => WechatApi,
    private readonly now: () => number = Date.now,
  ) {}

  async get(mediaId: string): Promise<MediaFile> {
    const hit = this.entries.get(mediaId)
    if (hit !== undefined && this.now() - hit.at < CACHE_MS) return hit.file
    let pending = this.inflight.get(mediaId)
    if (pending === undefined) {
      pending = this.download(mediaId).finally(() => this.inflight.delete(mediaId))
      this.inflight.set(mediaId, pending)
    }
    return pending
  }

  private async download(mediaId: string): Promise<MediaFile> {
    const result = await this.api().media.download(mediaId)
    if (result.kind === 'video') {
      // a video answers with a URL on WeChat's CDN: the page gets a note, not the URL
      return { contentType: 'text/plain; charset=utf-8', data: Buffer.from('video: download it from WeChat within 3 days'), filename: `${mediaId}.txt` }
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of result.stream) {
      size += (chunk as Buffer).length
      if (size > MAX_BYTES) {
        result.stream.destroy()
        throw new Error(`media ${mediaId} is over ${MAX_BYTES} bytes`)
      }
      chunks.push(Buffer.from(chunk as Uint8Array))
    }
    const file: MediaFile = { contentType: result.contentType.split(';')[0]!.trim().toLowerCase(), data: Buffer.concat(chunks), filename: safeName(result.filename ?? mediaId) }
    this.remember(mediaId, file)
    return file
  }

  private remember(mediaId: string, file: MediaFile): void {
    if (file.data.length > CACHE_BYTES / 4) return
    this.entries.set(mediaId, { file, at: this.now() })
    this.bytes += file.data.length
    for (const [id, entry] of this.entries) {
      if (this.bytes <= CACHE_BYTES) break
      this.entries.delete(id)
      this.bytes -= entry.file.data.length
    }
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'media'
}

/** AMR-NB frame sizes (bytes after the frame header) by frame type; 20 ms per frame. */
const AMR_NB = [12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, 0, 0, 0, 0]
const AMR_WB = [17, 23, 32, 36, 40, 46, 50, 58, 60, 5, 0, 0, 0, 0, 0, 0]

/**
 * Duration of an AMR file in milliseconds (the voice format WeChat delivers), or undefined for
 * anything else (speex, mp3) or a damaged file.
 */
export function amrDurationMs(data: Buffer): number | undefined {
  const nb = Buffer.from('#!AMR\n')
  const wb = Buffer.from('#!AMR-WB\n')
  let offset: number
  let sizes: number[]
  if (data.subarray(0, wb.length).equals(wb)) {
    offset = wb.length
    sizes = AMR_WB
  } else if (data.subarray(0, nb.length).equals(nb)) {
    offset = nb.length
    sizes = AMR_NB
  } else return undefined
  let frames = 0
  while (offset < data.length) {
    const type = (data[offset]! >> 3) & 0x0f
    offset += 1 + sizes[type]!
    frames++
  }
  return offset === data.length ? frames * 20 : undefined
}
