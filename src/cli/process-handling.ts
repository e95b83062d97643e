/** How the `wxmp` process meets its surroundings: a pipe closed early, and stop signals. */

/**
 * `wxmp … | head` closes the pipe early: the next write fails with EPIPE. That is the reader
 * saying "enough", not an error: stop quietly, for every command.
 */
let guarded = false
export function quietOnClosedPipe(): void {
  if (guarded) return
  guarded = true
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw err
    })
  }
}

/** SIGTERM/SIGINT: stop accepting, finish running handlers (bounded), then exit. */
export function installShutdown(close: (o?: { drainMs?: number }) => Promise<void>, printErr: (line: string) => void): void {
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) process.exit(130) // a second signal: exit now
    stopping = true
    printErr(`wxmp: ${signal} received, finishing running handlers…`)
    close({ drainMs: 10_000 })
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        printErr(`wxmp: shutdown error: ${(err as Error).message}`)
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
