/**
 * Sign-in rate limit with lock-out, shared by every instance through the shared store:
 * 5 failures for one name or 20 from one address within 15 minutes lock that name or address
 * for 15 minutes. While locked, the password is not even checked, so guessing gains nothing.
 * Counting is get-then-set (the store has no increment): parallel guesses can each read the
 * same count, so an in-process counter adds the attempts this instance saw.
 */
import type { KeyValueStore } from '../storage/types.js'

export interface LoginGuardOptions {
  perName?: number
  perAddress?: number
  windowMs?: number
  lockMs?: number
  now?: () => number
}

interface Failures {
  count: number
  since: number
}

export class LoginGuard {
  private readonly perName: number
  private readonly perAddress: number
  private readonly windowMs: number
  private readonly lockMs: number
  private readonly now: () => number
  private readonly local = new Map<string, Failures>()

  constructor(
    private readonly store: KeyValueStore,
    options: LoginGuardOptions = {},
  ) {
    this.perName = options.perName ?? 5
    this.perAddress = options.perAddress ?? 20
    this.windowMs = options.windowMs ?? 15 * 60_000
    this.lockMs = options.lockMs ?? 15 * 60_000
    this.now = options.now ?? Date.now
  }

  /** Milliseconds left on a lock of this name or address; 0 when sign-in may be tried. */
  async lockedFor(name: string, address: string): Promise<number> {
    const locks = await Promise.all([this.store.get<number>(lockKey('name', name)), this.store.get<number>(lockKey('addr', address))])
    const until = Math.max(0, ...locks.filter((v): v is number => typeof v === 'number'))
    return Math.max(0, until - this.now())
  }

  /** Counts a failure; returns true when it locked the name or the address. */
  async failed(name: string, address: string): Promise<boolean> {
    const [byName, byAddress] = await Promise.all([this.count('name', name, this.perName), this.count('addr', address, this.perAddress)])
    return byName || byAddress
  }

  /** A successful sign-in clears the name's failures (not the address's: one good password must not reset a spray). */
  async succeeded(name: string): Promise<void> {
    this.local.delete(failKey('name', name))
    await this.store.delete(failKey('name', name))
  }

  private async count(kind: 'name' | 'addr', id: string, limit: number): Promise<boolean> {
    const at = this.now()
    const k = failKey(kind, id)
    const stored = await this.store.get<Failures>(k)
    const local = this.local.get(k)
    const live = (f: Failures | undefined) => (f !== undefined && at - f.since < this.windowMs ? f : undefined)
    const base = [live(stored), live(local)].reduce<Failures | undefined>((a, b) => (b === undefined ? a : a === undefined || b.count > a.count ? b : a), undefined)
    const next: Failures = { count: (base?.count ?? 0) + 1, since: base?.since ?? at }
    this.local.set(k, next)
    if (this.local.size > 10_000) this.local.delete(this.local.keys().next().value as string)
    if (next.count >= limit) {
      await this.store.set(lockKey(kind, id), at + this.lockMs, this.lockMs)
      await this.store.delete(k)
      this.local.delete(k)
      return true
    }
    await this.store.set(k, next, Math.max(1000, next.since + this.windowMs - at))
    return false
  }
}

const safe = (id: string) => encodeURIComponent(id.toLowerCase().slice(0, 100))
const failKey = (kind: string, id: string) => `login-fail:${kind}:${safe(id)}`
const lockKey = (kind: string, id: string) => `login-lock:${kind}:${safe(id)}`
