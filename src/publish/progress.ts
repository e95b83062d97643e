/**
 * The progress display of `wxmp publish`: on a terminal one line that updates in place
 * (uploads counted, the wait timed), elsewhere (CI logs, pipes) one line per step.
 */

export interface Progress {
  /** Replaces the current line (a terminal) or prints it when its text changed (anything else). */
  update(text: string): void
  /** Ends the current line with a final text. */
  done(text: string): void
}

export interface ProgressOptions {
  /** Where to write (default process.stderr). */
  write?: (chunk: string) => void
  /** Rewrite one line in place (default: whether stderr is a terminal). */
  tty?: boolean
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export function createProgress(options: ProgressOptions = {}): Progress {
  const write = options.write ?? ((chunk: string) => void process.stderr.write(chunk))
  const tty = options.tty ?? process.stderr.isTTY === true
  let frame = 0
  let last = ''
  return {
    update(text) {
      if (tty) {
        write(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${text}`)
      } else if (text !== last) {
        write(`  ${text}\n`)
      }
      last = text
    },
    done(text) {
      write(tty ? `\r\x1b[2K✔ ${text}\n` : `✔ ${text}\n`)
      last = ''
    },
  }
}

/** A progress display that shows nothing (library use, tests). */
export const silentProgress: Progress = { update() {}, done() {} }
