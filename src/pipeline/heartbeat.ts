/**
 * An instance's heartbeat in the shared store: proof that the owner of a dedup claim is still
 * alive. While an instance holds claims it renews `dedup-owner:<owner>` (living `ttlMs`) every
 * third of that; when it crashes, is killed or restarts, the key expires and a retry that finds
 * its claim takes the message over at once instead of waiting for an age limit.
 */
import type { KeyValueStore } from '../storage/types.js'

export class Heartbeat {
  private beatAt = -Infinity
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> | undefined

  constructor(
    private readonly store: KeyValueStore,
    private readonly owner: string,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Writes the heartbeat unless a fresh one is there (at most one write per third of its life). */
  beat(): Promise<void> {
    if (this.now() - this.beatAt < this.ttlMs / 3) return Promise.resolve()
    this.writing ??= this.store
      .set(ownerKey(this.owner), 1, this.ttlMs)
      .then(
        () => void (this.beatAt = this.now()),
        () => undefined, // the store is down: claims cannot be judged anyway
      )
      .finally(() => (this.writing = undefined))
    return this.writing
  }

  /** Renews the heartbeat while `busy()` says claims are held; the timer stops by itself when none are. */
  keepBeating(busy: () => boolean): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      if (!busy()) return this.close()
      void this.beat()
    }, Math.max(50, Math.floor(this.ttlMs / 3)))
    this.timer.unref()
  }

  /** True while `owner`'s heartbeat is in the store. */
  async alive(owner: string): Promise<boolean> {
    return (await this.store.get(ownerKey(owner))) !== undefined
  }

  /** Stops renewing (shutdown); the heartbeat then expires by itself. */
  close(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

function ownerKey(owner: string): string {
  return `dedup-owner:${owner}`
}
