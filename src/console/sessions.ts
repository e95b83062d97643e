/**
 * Operator sessions in the shared store (Redis or the database), so every instance of a fleet
 * knows them and a restart signs nobody out. The cookie carries 32 random bytes; the store
 * key is their SHA-256, so a copy of the store does not hand out live sessions. Each session
 * has its own CSRF token, given to the page by GET /api/session (same-origin only).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { KeyValueStore } from '../storage/types.js'

export interface Session {
  user: string
  csrf: string
  createdAt: number
  lastSeenAt: number
}

export interface SessionOptions {
  /** A session idle this long ends. Default 2 hours. */
  idleMs?: number
  /** A session ends this long after sign-in, however busy. Default 12 hours. */
  maxAgeMs?: number
  now?: () => number
}

const ID = /^[A-Za-z0-9_-]{43}$/
/** lastSeenAt is written back at most this often (not on every request). */
const TOUCH_EVERY_MS = 60_000

export class SessionStore {
  readonly idleMs: number
  readonly maxAgeMs: number
  private readonly now: () => number

  constructor(
    private readonly store: KeyValueStore,
    options: SessionOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 2 * 3600_000
    this.maxAgeMs = options.maxAgeMs ?? 12 * 3600_000
    this.now = options.now ?? Date.now
  }

  /** A new session for `user`; returns the cookie value and the session. */
  async create(user: string): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url')
    const at = this.now()
    const session: Session = { user, csrf: randomBytes(24).toString('base64url'), createdAt: at, lastSeenAt: at }
    await this.store.set(key(id), session, this.idleMs)
    return { id, session }
  }

  /** The live session for a cookie value, or undefined (unknown, idle too long, too old). */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (id === undefined || !ID.test(id)) return undefined
    const session = await this.store.get<Session>(key(id))
    if (session === undefined || typeof session.user !== 'string') return undefined
    const at = this.now()
    if (at - session.createdAt > this.maxAgeMs || at - session.lastSeenAt > this.idleMs) {
      await this.store.delete(key(id))
      return undefined
    }
    if (at - session.lastSeenAt > TOUCH_EVERY_MS) {
      session.lastSeenAt = at
      await this.store.set(key(id), session, Math.min(this.idleMs, session.createdAt + this.maxAgeMs - at))
    }
    return session
  }

  async destroy(id: string | undefined): Promise<void> {
    if (id !== undefined && ID.test(id)) await this.store.delete(key(id))
  }
}

function key(id: string): string {
  return `session:${createHash('sha256').update(id).digest('base64url')}`
}

/** Constant-time comparison of a CSRF token from a header with the session's. */
export function csrfMatches(session: Session, given: string | undefined): boolean {
  if (given === undefined) return false
  const a = Buffer.from(session.csrf)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}
