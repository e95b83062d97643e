import { WxmpError } from '../errors.js'
import { parseConnectionUrl, redactUrl } from './connection-url.js'

/** A storage URL taken apart: which backend, and what to hand its driver. */
export type StorageTarget =
  | { kind: 'memory' }
  | { kind: 'sqlite'; filename: string }
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; url: string }

const FORMS: Record<StorageTarget['kind'], string> = {
  memory: 'memory:',
  sqlite: 'sqlite:<file> (e.g. sqlite:./data/wxmp.db, or sqlite::memory: for a throwaway one)',
  redis: 'redis://[:password@]host:6379/<db> (rediss:// for TLS)',
  postgres: 'postgres://user[:password]@host:5432/<database> (or postgresql://; postgres://user@/<database>?host=/var/run/postgresql for a Unix socket)',
}

/**
 * Parses `memory:`, `sqlite:<file>`, `redis://…`/`rediss://…` and `postgres://…`/`postgresql://…`.
 * Anything else, or a kind not in `accepted`, is WX_ERR_CONFIG naming `variable` and the
 * accepted forms.
 *
 * @example
 * parseStorageUrl('sqlite:./data/wxmp.db', 'DATABASE_URL', ['sqlite', 'postgres'])
 * // → { kind: 'sqlite', filename: './data/wxmp.db' }
 */
export function parseStorageUrl(
  raw: string,
  variable: string,
  accepted: readonly StorageTarget['kind'][] = ['memory', 'sqlite', 'redis', 'postgres'],
): StorageTarget {
  const value = typeof raw === 'string' ? raw.trim() : ''
  const target = classify(value)
  if (target !== undefined && accepted.includes(target.kind)) return target
  const shown = value === '' ? 'empty' : `"${value.includes('://') ? redactUrl(value) : value.slice(0, 100)}"`
  const why =
    target === undefined
      ? value === ''
        ? 'is empty'
        : `is ${shown}, which is not a storage URL`
      : `is ${shown}, but a ${target.kind} backend cannot be used here`
  throw new WxmpError('WX_ERR_CONFIG', `${variable} ${why}: use ${accepted.map((kind) => FORMS[kind]).join(', or ')}`, {
    details: { variable },
  })
}

function classify(value: string): StorageTarget | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase()
  switch (scheme) {
    case 'memory':
      return value.slice('memory:'.length).replace(/^\/\//, '') === '' ? { kind: 'memory' } : undefined
    case 'sqlite': {
      // sqlite:./a.db, sqlite:/abs/a.db, sqlite://./a.db, sqlite:///abs/a.db, sqlite::memory:
      const filename = value.slice('sqlite:'.length).replace(/^\/\//, '')
      return filename === '' ? undefined : { kind: 'sqlite', filename }
    }
    case 'redis':
    case 'rediss':
      // by WHATWG's rules only (an empty host, `redis:///0`, is localhost to ioredis): the
      // user-before-empty-host form PostgreSQL takes (src/storage/connection-url.ts) has no ioredis twin
      return URL.canParse(value) ? { kind: 'redis', url: value } : undefined
    case 'postgres':
    case 'postgresql':
      return parseConnectionUrl(value) !== undefined ? { kind: 'postgres', url: value } : undefined
    default:
      return undefined
  }
}
