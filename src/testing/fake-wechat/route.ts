/**
 * One endpoint of the fake: method, whether it needs the account access_token, handler. A
 * handler file can export a map of these (`export const DRAFT_ROUTES = { … }`) and routes.ts
 * registers it with one line.
 */
import type { FakeState } from './state.js'
import type { FakeRequest, FakeResponse } from './types.js'

export interface Route {
  method: 'GET' | 'POST'
  /** Checks the account access_token first (OAuth and token endpoints do not). */
  auth: boolean
  handle: (req: FakeRequest, state: FakeState) => FakeResponse | Promise<FakeResponse>
}

export const get = (handle: Route['handle'], auth = true): Route => ({ method: 'GET', auth, handle })
export const post = (handle: Route['handle'], auth = true): Route => ({ method: 'POST', auth, handle })
