/** Parametric QR codes (protocol.md §9.5): temporary (≤ 30 days) and permanent (≤ 100 000 per account). */
import type { ApiCaller } from '../caller.js'
import { invalidInput, requireInteger, requireString } from './input.js'

export interface QrcodeResult {
  ticket: string
  /** Seconds; absent for permanent codes. */
  expire_seconds?: number
  /** The URL the QR code encodes (render it yourself, or use imageUrl(ticket)). */
  url: string
}

export type QrScene = { sceneId: number } | { sceneStr: string }

export const QR_MAX_EXPIRE_SECONDS = 2_592_000
export const QR_PERMANENT_MAX_SCENE_ID = 100_000

function sceneOf(scene: QrScene, permanent: boolean): { action: 'id' | 'str'; scene: Record<string, unknown> } {
  if (scene !== null && typeof scene === 'object' && 'sceneStr' in scene) {
    return { action: 'str', scene: { scene_str: requireString('sceneStr', scene.sceneStr, { maxChars: 64 }) } }
  }
  if (scene !== null && typeof scene === 'object' && 'sceneId' in scene) {
    const id = permanent ? requireInteger('sceneId (permanent)', scene.sceneId, 1, QR_PERMANENT_MAX_SCENE_ID) : requireInteger('sceneId (temporary)', scene.sceneId, 1, 2 ** 32 - 1)
    return { action: 'id', scene: { scene_id: id } }
  }
  return invalidInput('a QR scene is { sceneId: number } or { sceneStr: string }')
}

/**
 * @example
 * const { ticket } = await api.qrcode.createTemporary({ sceneStr: 'invite-42' }, 86400)
 * const png = api.qrcode.imageUrl(ticket)
 */
export class QrcodeApi {
  constructor(private readonly api: ApiCaller) {}

  /** A temporary code, valid `expireSeconds` (default 30 days, the maximum). */
  async createTemporary(scene: QrScene, expireSeconds = QR_MAX_EXPIRE_SECONDS): Promise<QrcodeResult> {
    const { action, scene: s } = sceneOf(scene, false)
    return this.api.call<QrcodeResult>('/cgi-bin/qrcode/create', {
      expire_seconds: requireInteger('expireSeconds', expireSeconds, 1, QR_MAX_EXPIRE_SECONDS),
      action_name: action === 'id' ? 'QR_SCENE' : 'QR_STR_SCENE',
      action_info: { scene: s },
    })
  }

  /** A permanent code (scene id 1–100 000, or a string); an account has at most 100 000. */
  async createPermanent(scene: QrScene): Promise<QrcodeResult> {
    const { action, scene: s } = sceneOf(scene, true)
    return this.api.call<QrcodeResult>('/cgi-bin/qrcode/create', {
      action_name: action === 'id' ? 'QR_LIMIT_SCENE' : 'QR_LIMIT_STR_SCENE',
      action_info: { scene: s },
    })
  }

  /** The image for a ticket (no token needed), on mp.weixin.qq.com (or the fake, see mpBaseUrl). */
  imageUrl(ticket: string): string {
    return `${this.api.mpBaseUrl}/cgi-bin/showqrcode?ticket=${encodeURIComponent(requireString('ticket', ticket))}`
  }
}
