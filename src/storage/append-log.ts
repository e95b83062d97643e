/**
 * An append-only file written once per event-loop turn: what the turn appended goes out in one
 * `write` at its end, before the turn's answers are written (src/pipeline/turn-end.ts), and
 * whoever waits for it is told once it has. A write that returned is in the operating system's
 * hands, so it survives kill -9 of the process, as a SQLite commit does with
 * synchronous=NORMAL (not a power cut).
 *
 * Why not SQLite for this: the message log and the replay/dedup journal must be durable before
 * each answer leaves, and a SQLite transaction per turn (B-tree pages of four indexes written to
 * the WAL, then again by the checkpoint) cost the event loop several times what the rest of
 * the request costs. An append costs one system call per turn; the log is loaded into SQLite
 * in large batches off the event loop (src/records/ingest.ts).
 *
 * Files: `<prefix>-<n>.log` in `dir`, a new one when the current passes `segmentBytes`.
 */
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, unlink, writeSync } from 'node:fs'
import { join } from 'node:path'
import { afterTurnWrites, beforeAnswersLeave } from '../pipeline/turn-end.js'

export interface AppendLogOptions {
  /** A file is closed and the next begun past this size. Default 16 MiB. */
  segmentBytes?: number
  /** Told after every write with the segment it went to and its size now (ingesters follow this). */
  onWritten?: (segment: number, size: number) => void
  /** Told when a write fails (the turn's bytes are dropped; `written()` rejects for them). */
  onError?: (err: unknown) => void
}

/** Files are for this user only: they hold followers' messages. */
const PRIVATE = 0o600

export class AppendLog {
  private fd: number
  private size: number
  private buf = Buffer.allocUnsafeSlow(64 * 1024)
  private length = 0
  private scheduled = false
  /** The promise of this turn's write, shared by everyone who waits for it. */
  private turn: { promise: Promise<void>; resolve(): void; reject(err: unknown): void } | undefined
  private readonly segmentBytes: number
  private closed = false
  /** The segment being written. */
  segment: number

  constructor(
    readonly dir: string,
    readonly prefix: string,
    private readonly options: AppendLogOptions = {},
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.segmentBytes = options.segmentBytes ?? 16 * 2 ** 20
    this.segment = Math.max(0, ...segmentsOf(dir, prefix)) + 1
    this.fd = openSync(this.path(this.segment), 'a', PRIVATE)
    this.size = fstatSync(this.fd).size
  }

  /** The file of segment `n`. */
  path(n: number): string {
    return join(this.dir, `${this.prefix}-${n}.log`)
  }

  /** Bytes appended but not yet written. */
  get unwritten(): number {
    return this.length
  }

  /** Room for `bytes` more at the end of this turn's buffer; write them at `reserve(n)` … `+ n`. */
  reserve(bytes: number): { buf: Buffer; at: number } {
    if (this.length + bytes > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + bytes))
      this.buf.copy(grown, 0, 0, this.length)
      this.buf = grown
    }
    const at = this.length
    this.length += bytes
    this.schedule()
    return { buf: this.buf, at }
  }

  /** Gives back the unused end of the last reservation. */
  shrink(unused: number): void {
    this.length -= unused
  }

  /** Appends a string (UTF-8). */
  appendText(text: string): void {
    const most = text.length * 3
    const { buf, at } = this.reserve(most)
    this.shrink(most - (buf as Buffer & { utf8Write(text: string, at: number, max: number): number }).utf8Write(text, at, most))
  }

  /** Appends bytes. */
  append(bytes: Buffer, start = 0, end = bytes.length): void {
    const { buf, at } = this.reserve(end - start)
    bytes.copy(buf, at, start, end)
  }

  /**
   * Resolves once everything appended so far is written (at once when it already is); rejects
   * when that write failed (disk full): those bytes are not in the file.
   */
  written(): Promise<void> {
    if (this.length === 0 && !this.scheduled) return Promise.resolve()
    if (this.turn === undefined) {
      let resolve!: () => void
      let reject!: (err: unknown) => void
      const promise = new Promise<void>((yes, no) => {
        resolve = yes
        reject = no
      })
      this.turn = { promise, resolve, reject }
    }
    return this.turn.promise
  }

  /**
   * Resolves once the write of everything appended so far was attempted, whether it succeeded
   * or not (a failure goes to `onError`); undefined when nothing is waiting to be written. The
   * write is a step of the turn's end, so this is the turn's own promise (turn-end.ts), shared
   * with every other log written in the same turn: an answer waits once for all of them.
   */
  attempted(): Promise<void> | undefined {
    if (this.length === 0 && !this.scheduled) return undefined
    return afterTurnWrites() ?? this.written().then(noop, noop)
  }

  /** Writes what this turn appended now (the turn's end does it anyway). */
  flush(): void {
    this.scheduled = false
    let failure: unknown
    if (this.length > 0 && !this.closed) {
      try {
        let done = 0
        while (done < this.length) done += writeSync(this.fd, this.buf, done, this.length - done)
        this.size += this.length
        this.options.onWritten?.(this.segment, this.size)
      } catch (err) {
        failure = err
        // a write cut short (disk full) must not leave half a record for the next one to run into
        try {
          ftruncateSync(this.fd, this.size)
        } catch {
          // the file keeps a torn tail; its reader skips what it cannot parse
        }
        this.options.onError?.(err)
      }
      this.length = 0
      if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafeSlow(64 * 1024) // a burst's buffer is let go
      if (this.size >= this.segmentBytes) this.rotate()
    }
    const turn = this.turn
    this.turn = undefined
    if (turn === undefined) return
    if (failure === undefined) turn.resolve()
    else turn.reject(failure)
  }

  /**
   * Deletes a finished segment (never the one being written), off the event loop: freeing a
   * file of many megabytes takes the kernel milliseconds. Resolves once it is gone.
   */
  remove(n: number): Promise<void> {
    if (n === this.segment) return Promise.resolve()
    return new Promise((resolve) => unlink(this.path(n), () => resolve())) // already gone is fine too
  }

  /** Flushes and closes the file. */
  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    closeSync(this.fd)
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    beforeAnswersLeave(this.flushNow)
  }

  private readonly flushNow = () => {
    if (this.scheduled) this.flush()
  }

  private rotate(): void {
    closeSync(this.fd)
    this.segment++
    this.fd = openSync(this.path(this.segment), 'a', PRIVATE)
    this.size = 0
  }
}

function noop(): void {}

/** The segment numbers of `<prefix>-<n>.log` files in `dir`, ascending. */
export function segmentsOf(dir: string, prefix: string): number[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const pattern = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`)}-(\\d+)\\.log$`)
  return names.flatMap((name) => {
    const match = pattern.exec(name)
    return match === null ? [] : [Number(match[1])]
  }).sort((a, b) => a - b)
}

