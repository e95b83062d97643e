/**
 * The images of a post: read from disk (relative to the post), downloaded (http/https, with
 * a timeout and a size cap) or decoded (data: URIs), their format sniffed from the bytes,
 * and checked against what WeChat accepts before anything is uploaded. Images already on
 * WeChat's CDN are kept as they are.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { PostError } from './post-error.js'
import { WECHAT_IMAGE } from './render.js'

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp'

export interface LoadedImage {
  src: string
  line: number
  data: Buffer
  format: ImageFormat
  sha256: string
  /** A safe upload name with the right extension (`3f2a9c1e0b7d.png`). */
  filename: string
}

/** Larger images are refused before any download finishes (WeChat's material limit). */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024
/** Body images up to this size and jpg/png go through uploadimg; larger or gif/bmp become image material. */
export const UPLOADIMG_MAX_BYTES = 1024 * 1024
const FETCH_TIMEOUT_MS = 20_000

/** The format from the file's first bytes (extensions lie). */
export function sniffImage(data: Buffer): ImageFormat | 'webp' | 'svg' | undefined {
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'jpeg'
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png'
  if (data.length >= 6 && /^GIF8[79]a$/.test(data.subarray(0, 6).toString('latin1'))) return 'gif'
  if (data.length >= 2 && data[0] === 0x42 && data[1] === 0x4d) return 'bmp'
  if (data.length >= 12 && data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp'
  if (/^\s*(<\?xml[^>]*>\s*)?<svg\b/i.test(data.subarray(0, 256).toString('utf8'))) return 'svg'
  return undefined
}

/** Whether `src` is already on WeChat's CDN (nothing to upload). */
export const isWechatImage = (src: string) => WECHAT_IMAGE.test(src)

/** Reads or downloads one image and checks its format and size. */
export async function loadImage(src: string, line: number, postFile: string, fetchImpl: typeof globalThis.fetch = globalThis.fetch): Promise<LoadedImage> {
  const where = (message: string) => new PostError(postFile, line, message)
  if (src === '') throw where('an image without a source: ![alt]() needs a path or URL')
  let data: Buffer
  if (/^data:/i.test(src)) {
    const match = /^data:image\/[\w.+-]+;base64,([A-Za-z0-9+/=\s]+)$/i.exec(src)
    if (match === null) throw where('a data: image must be data:image/…;base64,…')
    data = Buffer.from(match[1]!, 'base64')
  } else if (/^https?:\/\//i.test(src)) {
    data = await download(src, fetchImpl, where)
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(src) && !/^[a-z]:[\\/]/i.test(src)) {
    throw where(`the image ${JSON.stringify(src.slice(0, 80))} is neither a file nor an http(s) URL`)
  } else {
    const path = isAbsolute(src) ? src : resolve(dirname(postFile), decodeURI(src.split(/[?#]/)[0]!))
    const info = await stat(path).catch(() => undefined)
    if (info === undefined || !info.isFile()) throw where(`image ${src} not found (looked at ${path})`)
    if (info.size > IMAGE_MAX_BYTES) throw where(`image ${src} is ${info.size} bytes: WeChat takes images up to 10 MB`)
    data = await readFile(path)
  }
  if (data.length === 0) throw where(`image ${src.slice(0, 80)} is empty`)
  if (data.length > IMAGE_MAX_BYTES) throw where(`image ${src.slice(0, 80)} is ${data.length} bytes: WeChat takes images up to 10 MB`)
  const format = sniffImage(data)
  if (format === undefined || format === 'webp' || format === 'svg') {
    throw where(`image ${src.slice(0, 80)} is ${format === undefined ? 'not an image WeChat knows' : format.toUpperCase()}: WeChat accepts JPEG, PNG, GIF and BMP (convert it first)`)
  }
  const sha256 = createHash('sha256').update(data).digest('hex')
  const ext = format === 'jpeg' ? 'jpg' : format
  return { src, line, data, format, sha256, filename: `${sha256.slice(0, 12)}.${ext}` }
}

async function download(url: string, fetchImpl: typeof globalThis.fetch, where: (m: string) => PostError): Promise<Buffer> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS)
  try {
    let response: Response
    try {
      response = await fetchImpl(url, { signal: controller.signal, redirect: 'follow' })
    } catch (err) {
      const detail = (err as { cause?: { code?: string; message?: string } }).cause
      const cause = controller.signal.aborted ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s` : (detail?.code ?? detail?.message ?? (err as Error).message)
      throw where(`could not download the image ${url.slice(0, 120)}: ${cause}`)
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined)
      throw where(`could not download the image ${url.slice(0, 120)}: HTTP ${response.status}`)
    }
    const length = Number(response.headers.get('content-length') ?? '0')
    if (length > IMAGE_MAX_BYTES) {
      await response.body?.cancel().catch(() => undefined)
      throw where(`the image ${url.slice(0, 120)} is ${length} bytes: WeChat takes images up to 10 MB`)
    }
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).length
      if (size > IMAGE_MAX_BYTES) {
        controller.abort()
        throw where(`the image ${url.slice(0, 120)} is over 10 MB: WeChat takes images up to 10 MB`)
      }
      chunks.push(Buffer.from(chunk as Uint8Array))
    }
    return Buffer.concat(chunks)
  } finally {
    clearTimeout(timer)
  }
}

/** `./img/chart.png` → `chart.png` (for messages). */
export const shortName = (src: string) => (src.startsWith('data:') ? 'data: image' : basename(src.split(/[?#]/)[0]!) || src.slice(0, 40))
