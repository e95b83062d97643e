/**
 * SIGINT/SIGTERM for the servers `serve()` started: each stops accepting, lets requests in
 * flight and background handlers (late replies) finish for at most its drainMs, then the
 * process ends by the same signal, as it would have without us. One pair of process listeners
 * serves every server (a test may run dozens), and it is removed when the last one closes.
 * When the application listens for the signal itself, it decides when to exit: we only drain.
 * A second signal while draining ends the process at once.
 */

type Drainable = { close(options?: { drainMs?: number }): Promise<void>; drainMs: number }

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
const servers = new Set<Drainable>()
let stopping = false

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) process.exit(130)
  stopping = true
  const draining = [...servers].map((s) => s.close({ drainMs: s.drainMs }).catch(() => undefined))
  void Promise.all(draining).then(() => {
    uninstall()
    stopping = false
    // the application's own listener decides; otherwise end the way the signal would have
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
  })
}

function install(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal)
}

function uninstall(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal)
}

/** Registers a server for draining on SIGINT/SIGTERM; returns the function that unregisters it. */
export function drainOnSignals(server: Drainable): () => void {
  if (servers.size === 0) install()
  servers.add(server)
  return () => {
    if (!servers.delete(server)) return
    if (servers.size === 0 && !stopping) uninstall()
  }
}
