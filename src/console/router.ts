/**
 * A few lines of routing for the console's JSON API: method + pattern → handler, with the
 * session and CSRF checks decided per route, once, here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session } from './sessions.js'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  /** Named groups of the pattern, URL-decoded. */
  params: Record<string, string>
  /** Present on every route except `public` ones. */
  session: Session
  sessionId: string
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Matched against the path after `<console>/api`, e.g. /^\/conversations\/(?<openid>[^/]+)$/ */
  pattern: RegExp
  /** No session needed (sign-in). Still same-origin checked when it changes something. */
  public?: boolean
  handle(ctx: RouteContext): Promise<void> | void
}

export function match(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
  let pathMatched = false
  for (const route of routes) {
    const m = route.pattern.exec(path)
    if (m === null) continue
    pathMatched = true
    if (route.method !== method) continue
    const params: Record<string, string> = {}
    for (const [k, v] of Object.entries(m.groups ?? {})) {
      try {
        params[k] = decodeURIComponent(v)
      } catch {
        return undefined
      }
    }
    return { route, params }
  }
  return pathMatched ? 'method' : undefined
}
