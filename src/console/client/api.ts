/** Calls to the console's JSON API: same origin, the session cookie, and the CSRF header on changes. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly reason: string | undefined,
    readonly errcode: number | undefined,
    readonly body: Record<string, unknown>,
  ) {
    super(message)
  }
}

let csrf = ''
let onSignedOut: () => void = () => {}
let onAccountGone: () => void = () => {}
/** The account on screen (a server with several): sent as ?account= with every API request. */
let account: string | undefined

export const base = document.body.dataset.base ?? '/console'

export function setAccount(name: string | undefined): void {
  account = name
}

export function currentAccount(): string | undefined {
  return account
}

/** An API URL of the account on screen: for fetch, EventSource and <img src>. */
export function apiUrl(path: string): string {
  if (account === undefined) return `${base}/api${path}`
  return `${base}/api${path}${path.includes('?') ? '&' : '?'}account=${encodeURIComponent(account)}`
}

export function setCsrf(token: string): void {
  csrf = token
}

export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler
}

/** The account on screen was removed (a reload of the server's accounts): the page starts over. */
export function whenAccountGone(handler: () => void): void {
  onAccountGone = handler
}

export async function call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, init: { raw?: Blob; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (method !== 'GET') headers['x-csrf-token'] = csrf
  let payload: BodyInit | undefined
  if (init.raw !== undefined) {
    payload = init.raw
    headers['content-type'] = init.contentType ?? 'application/octet-stream'
  } else if (method !== 'GET') {
    payload = JSON.stringify(body ?? {})
    headers['content-type'] = 'application/json'
  }
  let res: Response
  try {
    res = await fetch(apiUrl(path), { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' })
  } catch {
    throw new ApiError(0, 'NETWORK', 'network', 'network', undefined, {})
  }
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
  } catch {
    json = {}
  }
  if (!res.ok) {
    const error = (json.error ?? {}) as Record<string, unknown>
    const err = new ApiError(res.status, String(error.code ?? res.status), String(error.message ?? res.statusText), typeof error.reason === 'string' ? error.reason : undefined, typeof error.errcode === 'number' ? error.errcode : undefined, error)
    if (res.status === 401 && path !== '/login' && path !== '/session') onSignedOut()
    if (res.status === 404 && err.reason === 'no-account') onAccountGone()
    throw err
  }
  return json as T
}

export const get = <T>(path: string) => call<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body)
export const put = <T>(path: string, body?: unknown) => call<T>('PUT', path, body)
export const del = <T>(path: string) => call<T>('DELETE', path)
