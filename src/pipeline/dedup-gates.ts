/**
 * The messages whose stored answer may not leave yet, each with the gate it waits for (the
 * deduper's GatedAnswer: the turn's file writes, usually). A retry answered meanwhile waits for
 * the same gate. The keys held by one gate are released together when it settles: one callback
 * per gate, that is per event-loop turn for the server's message log, not one per message.
 */
export class Gates {
  private readonly held = new Map<string, Promise<unknown>>()
  /** The newest gate and its keys. */
  private newest: { gate: Promise<unknown>; keys: string[] } | undefined

  /** `key`'s answer waits for `gate` (which never rejects). */
  hold(key: string, gate: Promise<unknown>): void {
    this.held.set(key, gate)
    let batch = this.newest
    if (batch === undefined || batch.gate !== gate) {
      const mine: { gate: Promise<unknown>; keys: string[] } = { gate, keys: [] }
      this.newest = batch = mine
      const release = () => {
        for (const key of mine.keys) if (this.held.get(key) === gate) this.held.delete(key)
        if (this.newest === mine) this.newest = undefined
      }
      void gate.then(release, release)
    }
    batch.keys.push(key)
  }

  /** The gate `key`'s answer still waits for, if any. */
  of(key: string): Promise<unknown> | undefined {
    return this.held.get(key)
  }

  /** Keys held now (tests). */
  get size(): number {
    return this.held.size
  }
}
