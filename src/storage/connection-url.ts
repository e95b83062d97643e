/**
 * Connection URLs as the drivers read them, for wxmp's own checks, log lines and error messages.
 *
 * WHATWG's URL parser refuses a user name before an empty host (`postgres://me@/db`), yet that is
 * how libpq and node-postgres spell a connection over a Unix socket:
 * `postgres://me@/db?host=/var/run/postgresql`. node-postgres parses it with a placeholder host,
 * and so does this, so that wxmp accepts what its driver accepts.
 */

/** A host no real URL has, standing in for an empty one while parsing. */
const EMPTY_HOST = 'wxmp-empty-host.invalid'

/** The URL parsed; `emptyHost` when it was written without a host (the drivers' default or `?host=`). */
export function parseConnectionUrl(raw: string): { url: URL; emptyHost: boolean } | undefined {
  try {
    const url = new URL(raw)
    return { url, emptyHost: url.host === '' }
  } catch {
    // only the one form the drivers take: credentials, then `@/`
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@\//i.test(raw)) return undefined
    try {
      return { url: new URL(raw.replace('@/', `@${EMPTY_HOST}/`)), emptyHost: true }
    } catch {
      return undefined
    }
  }
}

/** A connection URL fit for logs and error messages: the password is never shown. */
export function redactUrl(raw: string): string {
  const parsed = parseConnectionUrl(raw)
  if (parsed === undefined) return '<unparseable URL>'
  if (parsed.url.password !== '') parsed.url.password = '***'
  const text = parsed.url.toString()
  return parsed.emptyHost ? text.replace(`@${EMPTY_HOST}/`, '@/') : text
}

/**
 * Where a PostgreSQL URL points, for messages: `host:port/database`, or the socket folder
 * (`?host=/var/run/postgresql`) and the database. Without a host node-postgres takes PGHOST
 * from `env`, else localhost.
 */
export function postgresLocation(raw: string, env: Record<string, string | undefined> = process.env): string {
  const parsed = parseConnectionUrl(raw)
  if (parsed === undefined) return '<unparseable URL>'
  const { url, emptyHost } = parsed
  const socket = url.searchParams.get('host')
  const host = socket !== null && socket !== '' ? socket : emptyHost ? env.PGHOST || 'localhost' : decodeURIComponent(url.host)
  // a socket folder written as the host, percent-encoded (`postgres://%2Fvar%2Frun%2Fpostgresql/db`)
  return `${host.replace(/\/+$/, '')}${url.pathname}`
}
