/**
 * The fake server's access tokens, with WeChat's lifetime rules (protocol.md §6.2):
 * - classic `/cgi-bin/token`: every fetch issues a new token; the previous ones keep working
 *   for an overlap (5 minutes), then answer 40001;
 * - `/cgi-bin/stable_token`: the same token while it has more than 5 minutes left, then a new
 *   one (the old one lives to its own expiry); `force_refresh` kills the current ones at once;
 * - the two kinds are independent: neither invalidates the other.
 */
import { randomBytes } from 'node:crypto'
import { wxError } from './wx-error.js'

export type TokenKind = 'classic' | 'stable'

interface IssuedToken {
  value: string
  kind: TokenKind
  issuedAt: number
  expiresAt: number
  /** Classic: when a newer token was issued (the overlap starts then). */
  supersededAt?: number
  /** Stable force_refresh: dead from this instant. */
  revokedAt?: number
}

export interface TokenBookOptions {
  now: () => number
  /** Token lifetime in seconds. Default 7200. */
  ttlSeconds: number
  /** How long a superseded classic token keeps working, ms. Default 300 000. */
  overlapMs: number
}

/** Stable tokens are renewed when fewer than this many ms are left (WeChat: ≥ 5 min). */
const STABLE_RENEW_MS = 300_000

/** Real tokens are long runs of [A-Za-z0-9_-]; anything else is "malformed" (40014). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,512}$/

export class TokenBook {
  private readonly tokens = new Map<string, IssuedToken>()
  private seq = 0

  constructor(private readonly options: TokenBookOptions) {}

  /** `/cgi-bin/token`: a new token; every earlier classic one starts its overlap. */
  issueClassic(): { access_token: string; expires_in: number } {
    const now = this.options.now()
    for (const t of this.tokens.values()) if (t.kind === 'classic' && t.supersededAt === undefined) t.supersededAt = now
    const token = this.issue('classic', now)
    return { access_token: token.value, expires_in: this.options.ttlSeconds }
  }

  /** `/cgi-bin/stable_token`: the current stable token, or a new one when needed or forced. */
  stable(forceRefresh: boolean): { access_token: string; expires_in: number } {
    const now = this.options.now()
    if (forceRefresh) {
      for (const t of this.tokens.values()) if (t.kind === 'stable' && t.revokedAt === undefined) t.revokedAt = now
    }
    const current = this.currentStable(now)
    if (current !== undefined && current.expiresAt - now > STABLE_RENEW_MS) {
      return { access_token: current.value, expires_in: Math.floor((current.expiresAt - now) / 1000) }
    }
    const token = this.issue('stable', now)
    return { access_token: token.value, expires_in: this.options.ttlSeconds }
  }

  /** Throws WeChat's errcode when `value` is not a usable access_token right now. */
  check(value: string | null): void {
    if (value === null || value === '') throw wxError(41001)
    if (!TOKEN_SHAPE.test(value)) throw wxError(40014)
    const token = this.tokens.get(value)
    const now = this.options.now()
    if (token === undefined) throw wxError(40001)
    if (token.revokedAt !== undefined && now >= token.revokedAt) throw wxError(40001, 'access_token was force-refreshed')
    if (token.supersededAt !== undefined && now >= token.supersededAt + this.options.overlapMs) throw wxError(40001, 'a newer access_token was fetched')
    if (now >= token.expiresAt) throw wxError(42001)
  }

  /** Kills a token as if it had expired (a test's way to force 42001). */
  expire(value: string): boolean {
    const token = this.tokens.get(value)
    if (token === undefined) return false
    token.expiresAt = Math.min(token.expiresAt, this.options.now())
    return true
  }

  /** Every token issued so far, oldest first (for tests and `GET /__fake/state`). */
  list(): Array<{ value: string; kind: TokenKind; issuedAt: number; expiresAt: number; valid: boolean }> {
    return [...this.tokens.values()].map((t) => ({ value: t.value, kind: t.kind, issuedAt: t.issuedAt, expiresAt: t.expiresAt, valid: this.isValid(t.value) }))
  }

  isValid(value: string): boolean {
    try {
      this.check(value)
      return true
    } catch {
      return false
    }
  }

  private currentStable(now: number): IssuedToken | undefined {
    let latest: IssuedToken | undefined
    for (const t of this.tokens.values()) {
      if (t.kind === 'stable' && t.revokedAt === undefined && now < t.expiresAt && (latest === undefined || t.issuedAt >= latest.issuedAt)) latest = t
    }
    return latest
  }

  private issue(kind: TokenKind, now: number): IssuedToken {
    this.seq++
    // readable in logs (kind and sequence), unguessable like WeChat's (random tail)
    const value = `FAKE_${kind.toUpperCase()}_${this.seq}_${randomBytes(48).toString('base64url')}`
    const token: IssuedToken = { value, kind, issuedAt: now, expiresAt: now + this.options.ttlSeconds * 1000 }
    this.tokens.set(value, token)
    return token
  }
}
