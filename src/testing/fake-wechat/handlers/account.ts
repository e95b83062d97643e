/**
 * Read-only endpoints that tell what the account may do (`wxmp doctor` calls them): the
 * customer-service accounts (`customservice/getkflist`) and the mass-send speed
 * (`message/mass/speed/get`). An account without the permission answers 48001: inject it with
 * `{"errcode":48001,"path":…}`.
 */
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { readJson } from './body.js'

export function kfList(_req: FakeRequest, _state: FakeState): FakeResponse {
  return { json: { kf_list: [] } }
}

export function massSpeedGet(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  // speed 0 is the fastest of WeChat's five levels (80 万人/分钟)
  return { json: { speed: 0, realspeed: 80 } }
}
