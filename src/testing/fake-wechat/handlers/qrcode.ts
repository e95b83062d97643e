/** Parametric QR codes (protocol.md §9.5) with WeChat's scene rules. */
import { randomBytes } from 'node:crypto'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { readJson, type JsonBody } from './body.js'

const ACTIONS = new Set(['QR_SCENE', 'QR_STR_SCENE', 'QR_LIMIT_SCENE', 'QR_LIMIT_STR_SCENE'])

export function qrcodeCreate(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { body } = parsed
  const action = body.action_name
  if (typeof action !== 'string' || !ACTIONS.has(action)) return state.error(40052)
  const scene = (body.action_info as { scene?: JsonBody } | undefined)?.scene
  if (scene === null || typeof scene !== 'object') return state.error(40053)
  const permanent = action.startsWith('QR_LIMIT')
  if (action.endsWith('STR_SCENE')) {
    const s = scene.scene_str
    if (typeof s !== 'string' || s.length < 1 || s.length > 64) return state.error(40053)
  } else {
    const id = scene.scene_id
    const max = permanent ? 100_000 : 2 ** 32 - 1
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > max) return state.error(40053)
  }
  let expire: number | undefined
  if (!permanent) {
    const requested = body.expire_seconds
    expire = typeof requested === 'number' && requested > 0 ? Math.min(Math.floor(requested), 2_592_000) : 60
  }
  const ticket = randomBytes(60).toString('base64')
  state.qrcodes.push({ ticket, action_name: action, scene, ...(expire === undefined ? {} : { expire_seconds: expire }), createdAt: state.now() })
  return { json: { ticket, ...(expire === undefined ? {} : { expire_seconds: expire }), url: `http://weixin.qq.com/q/${randomBytes(15).toString('base64url')}` } }
}

/** A 1×1 GIF: the fake shows where the QR image would be, not a scannable code. */
const PLACEHOLDER_IMAGE = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64')

/** mp.weixin.qq.com/cgi-bin/showqrcode: the image for a live ticket (no token), HTTP 404 otherwise. */
export function showQrcode(req: FakeRequest, state: FakeState): FakeResponse {
  const ticket = req.query.get('ticket') ?? ''
  const code = state.qrcodes.find((q) => q.ticket === ticket)
  if (code === undefined || (code.expire_seconds !== undefined && state.now() >= code.createdAt + code.expire_seconds * 1000)) {
    return { text: 'fake-wechat: unknown or expired ticket', status: 404 }
  }
  return { binary: PLACEHOLDER_IMAGE, contentType: 'image/gif' }
}
