/**
 * The gates that answers stored by the deduper still wait for before they may leave (its
 * GatedAnswer: for the server's message log, the turn's file writes). A retry answered while
 * its message's gate is pending must wait for it too; rather than a map entry per message (a
 * long-lived map that grows and shrinks every turn reallocates its table, and the garbage
 * collector promotes those tables), the set of gates still pending is kept, usually one per
 * turn, and a retry waits for all of them: its own is among them if it is still pending.
 * Retries are rare, and the other gates settle within the same turn or the next.
 */
export class Gates {
  private readonly pending = new Set<Promise<unknown>>()

  /** An answer waits for `gate` (which never rejects); the answers of one turn add it once. */
  hold(gate: Promise<unknown>): void {
    if (this.pending.has(gate)) return
    this.pending.add(gate)
    const release = () => void this.pending.delete(gate)
    void gate.then(release, release)
  }

  /** What an answer that may leave only after every gate held so far waits for; undefined when none is pending. */
  settled(): Promise<unknown> | undefined {
    if (this.pending.size === 0) return undefined
    if (this.pending.size === 1) return this.pending.values().next().value
    return Promise.all(this.pending).then(noop, noop)
  }

  /** Gates pending now (tests). */
  get size(): number {
    return this.pending.size
  }
}

function noop(): void {}
