/**
 * Image intelligence (OCR and image processing, 图像处理): ID cards, bank cards, licences,
 * plates, printed text, QR codes, super-resolution and smart crop. An image is a public URL
 * WeChat fetches, or bytes uploaded as the multipart field `img` (≤ 2 MB).
 */
import type { ApiCaller } from '../caller.js'
import { invalidInput, requireString } from './input.js'

export type OcrImage = { url: string } | { data: Buffer | Uint8Array | Blob; filename: string }

export const OCR_IMAGE_MAX_BYTES = 2 * 1024 * 1024

/** Method → endpoint. */
export const OCR_ENDPOINTS = {
  idCard: '/cv/ocr/idcard',
  bankCard: '/cv/ocr/bankcard',
  vehicleLicense: '/cv/ocr/driving',
  drivingLicense: '/cv/ocr/drivinglicense',
  businessLicense: '/cv/ocr/bizlicense',
  text: '/cv/ocr/comm',
  plateNumber: '/cv/ocr/platenum',
  qrcode: '/cv/img/qrcode',
  superResolution: '/cv/img/superresolution',
  aiCrop: '/cv/img/aicrop',
} as const

export type OcrKind = keyof typeof OCR_ENDPOINTS

/**
 * @example
 * const card = await api.ocr.idCard({ url: 'https://example.com/id.jpg' })   // { type: 'Front', name, id, … }
 * const text = await api.ocr.recognize('text', { data: await readFile('scan.png'), filename: 'scan.png' })
 */
export class OcrApi {
  constructor(private readonly api: ApiCaller) {}

  /** Any of the endpoints; `query` adds parameters such as the ID card's `type`. */
  async recognize<T = Record<string, unknown>>(kind: OcrKind, image: OcrImage, query: Record<string, string> = {}): Promise<T> {
    const path = OCR_ENDPOINTS[kind]
    if (path === undefined) invalidInput(`unknown image endpoint ${JSON.stringify(kind)}: one of ${Object.keys(OCR_ENDPOINTS).join(', ')}`)
    if (image !== null && typeof image === 'object' && 'url' in image) {
      const url = requireString('image.url', image.url, { maxBytes: 2048 })
      if (!/^https?:\/\/\S+$/i.test(url)) invalidInput('image.url must be a public http(s) URL WeChat can fetch')
      return this.api.call<T>(path, undefined, { method: 'POST', query: { ...query, img_url: url } })
    }
    if (image === null || typeof image !== 'object' || !('data' in image)) invalidInput('an image is { url } or { data, filename }')
    if (!/\.(jpe?g|png|bmp)$/i.test(image.filename ?? '')) invalidInput(`the image must be jpg, png or bmp (by file name), got ${JSON.stringify(image.filename)}`)
    const size = image.data instanceof Blob ? image.data.size : image.data.byteLength
    if (size === 0 || size > OCR_IMAGE_MAX_BYTES) invalidInput(`the image is ${size} bytes, it must be 1 byte to 2 MB`)
    return this.api.call<T>(path, undefined, { query, form: { img: { data: image.data, filename: image.filename } } })
  }

  /** `side`: photo (a picture of the card, default) or scan. */
  idCard(image: OcrImage, side: 'photo' | 'scan' = 'photo') {
    return this.recognize<{ type: 'Front' | 'Back'; name?: string; id?: string; addr?: string; gender?: string; nationality?: string; valid_date?: string }>('idCard', image, { type: side })
  }

  bankCard(image: OcrImage) {
    return this.recognize<{ number: string }>('bankCard', image)
  }

  /** 行驶证 (vehicle licence). */
  vehicleLicense(image: OcrImage) {
    return this.recognize('vehicleLicense', image)
  }

  /** 驾驶证 (driving licence). */
  drivingLicense(image: OcrImage) {
    return this.recognize('drivingLicense', image)
  }

  /** 营业执照 (business licence). */
  businessLicense(image: OcrImage) {
    return this.recognize('businessLicense', image)
  }

  /** Printed text, line by line with positions. */
  text(image: OcrImage) {
    return this.recognize<{ items: Array<{ text: string; pos: unknown }>; img_size: { w: number; h: number } }>('text', image)
  }

  plateNumber(image: OcrImage) {
    return this.recognize<{ number: string }>('plateNumber', image)
  }

  /** QR codes and barcodes found in the image. */
  qrcode(image: OcrImage) {
    return this.recognize<{ code_results: Array<{ type_name: string; data: string }>; img_size: { w: number; h: number } }>('qrcode', image)
  }

  /** A 2× larger image: the answer holds a media_id to download with api.media.download. */
  superResolution(image: OcrImage) {
    return this.recognize<{ media_id: string }>('superResolution', image)
  }

  /** Crop suggestions for the image. */
  aiCrop(image: OcrImage, ratios?: string) {
    return this.recognize<{ results: Array<{ crop_left: number; crop_top: number; crop_right: number; crop_bottom: number }>; img_size: { w: number; h: number } }>('aiCrop', image, ratios === undefined ? {} : { ratios })
  }
}
