/**
 * Temporary media (临时素材, protocol.md §9.4): upload as multipart field `media` with the type
 * and size checked first; download as a stream (a video answers with a URL instead).
 * Media live 3 days.
 */
import { Readable } from 'node:stream'
import type { ApiCaller } from '../caller.js'
import { HttpError } from '../errors.js'
import { invalidInput, requireString } from './input.js'

export type MediaType = 'image' | 'voice' | 'video' | 'thumb'

/**
 * Size and format limits. Images: the classic page says 10 MB, the current one 2 MB: wxmp
 * keeps to 2 MB so an upload that passes here is not refused by WeChat.
 */
export const MEDIA_LIMITS: Record<MediaType, { maxBytes: number; extensions: readonly string[] }> = {
  image: { maxBytes: 2 * 1024 * 1024, extensions: ['jpg', 'jpeg', 'png', 'gif'] },
  voice: { maxBytes: 2 * 1024 * 1024, extensions: ['amr', 'mp3'] },
  video: { maxBytes: 10 * 1024 * 1024, extensions: ['mp4'] },
  thumb: { maxBytes: 64 * 1024, extensions: ['jpg', 'jpeg'] },
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
}

export interface UploadedMedia {
  type: MediaType
  /** For `thumb` WeChat answers `thumb_media_id`; it is returned here as `mediaId` too. */
  mediaId: string
  /** Unix seconds. */
  createdAt: number
}

export type MediaDownload =
  | {
      kind: 'file'
      contentType: string
      filename: string | undefined
      /** Bytes, when WeChat sent Content-Length. */
      size: number | undefined
      /** The body as a Node stream: read it once (or use `buffer()`). */
      stream: Readable
      /** Reads the whole body into memory. */
      buffer(): Promise<Buffer>
    }
  | { kind: 'video'; videoUrl: string }

/**
 * @example
 * const { mediaId } = await api.media.upload('image', await readFile('cat.png'), 'cat.png')
 * const file = await api.media.download(mediaId)
 * if (file.kind === 'file') file.stream.pipe(createWriteStream('copy.png'))
 */
export class MediaApi {
  constructor(private readonly api: ApiCaller) {}

  async upload(type: MediaType, data: Buffer | Uint8Array | Blob, filename: string, contentType?: string): Promise<UploadedMedia> {
    const limits = MEDIA_LIMITS[type]
    if (limits === undefined) invalidInput(`media type must be image, voice, video or thumb, got ${JSON.stringify(type)}`)
    requireString('filename', filename, { maxBytes: 255 })
    if (/[\r\n"]/.test(filename)) invalidInput('filename must not contain quotes or line breaks')
    const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase()
    if (ext === undefined || !limits.extensions.includes(ext)) {
      invalidInput(`${type} media must be ${limits.extensions.join('/')} (by file name), got ${JSON.stringify(filename)} (WeChat answers 40005)`)
    }
    const blob = data instanceof Blob ? data : Buffer.isBuffer(data) || data instanceof Uint8Array ? new Blob([data]) : invalidInput('media data must be a Buffer, Uint8Array or Blob')
    if (blob.size === 0) invalidInput(`the ${type} file ${filename} is empty`)
    if (blob.size > limits.maxBytes) invalidInput(`the ${type} file ${filename} is ${blob.size} bytes, the limit is ${limits.maxBytes} (WeChat answers 40006)`)
    const mime = contentType ?? CONTENT_TYPES[ext] ?? 'application/octet-stream'
    const file = new Blob([blob], { type: mime })
    const result = await this.api.withToken(
      {
        path: '/cgi-bin/media/upload',
        method: 'POST',
        query: { type },
        form: () => {
          const form = new FormData()
          form.append('media', file, filename)
          return form
        },
      },
      (spec) => this.api.transport.json<{ type?: string; media_id?: string; thumb_media_id?: string; created_at?: number | string }>(spec),
    )
    const mediaId = result.media_id ?? result.thumb_media_id
    if (typeof mediaId !== 'string' || mediaId === '') throw new HttpError({ path: '/cgi-bin/media/upload', message: 'the upload answer has no media_id: is WECHAT_API_BASE pointing at WeChat?' })
    return { type, mediaId, createdAt: Number(result.created_at ?? 0) }
  }

  /** Downloads a temporary media file (also those users sent, within 3 days). */
  async download(mediaId: string): Promise<MediaDownload> {
    const result = await this.api.binary({ path: '/cgi-bin/media/get', method: 'GET', query: { media_id: requireString('mediaId', mediaId) } })
    if (result.kind === 'json') {
      const url = result.body.video_url
      if (typeof url === 'string') return { kind: 'video', videoUrl: url }
      throw new HttpError({ path: '/cgi-bin/media/get', message: 'a JSON answer without errcode or video_url: is WECHAT_API_BASE pointing at WeChat?' })
    }
    const { response } = result
    const length = response.headers.get('content-length')
    const stream = response.body === null ? Readable.from([]) : Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)
    return {
      kind: 'file',
      contentType: response.headers.get('content-type') ?? 'application/octet-stream',
      filename: filenameFrom(response.headers.get('content-disposition')),
      size: length === null ? undefined : Number(length),
      stream,
      async buffer() {
        const chunks: Buffer[] = []
        for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
        return Buffer.concat(chunks)
      },
    }
  }
}

/** `attachment; filename="MEDIA_ID.jpg"` → `MEDIA_ID.jpg` (no path parts). */
function filenameFrom(disposition: string | null): string | undefined {
  if (disposition === null) return undefined
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
  const name = match?.[1]?.split(/[\\/]/).pop()
  return name === undefined || name === '' ? undefined : name
}
