/** Reading a POST body the way WeChat does: empty → 44002, not a JSON object → 47001. */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'

export type JsonBody = Record<string, unknown>

export function readJson(req: FakeRequest, state: FakeState): { body: JsonBody } | { error: FakeResponse } {
  const text = req.body.toString('utf8').trim()
  if (text === '') return { error: state.error(44002) }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { error: state.error(47001, 'data format error hint: [the body is not valid JSON]') }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: state.error(47001) }
  return { body: parsed as JsonBody }
}

export const ok = (extra: Record<string, unknown> = {}): FakeResponse => ({ json: { errcode: 0, errmsg: 'ok', ...extra } })

export const OPENID = /^[\w-]{6,64}$/

export const isNonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0

export const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8')
