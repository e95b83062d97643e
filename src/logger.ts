import { createRequire } from 'node:module'
import { pino } from 'pino'

/** The logging surface wxmp uses: pino's, so a pino (or compatible) logger can be passed in. */
export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

/** Paths redacted from every log line: secrets must never reach logs. */
export const REDACT_PATHS = [
  'token',
  'appSecret',
  'encodingAESKey',
  'previousEncodingAESKey',
  'accessToken',
  'access_token',
  'secret',
  'config.token',
  'config.appSecret',
  'config.encodingAESKey',
  '*.access_token',
  '*.secret',
]

/** How log lines look: `pretty` for a person at a terminal, `json` for machines; `auto` picks by whether stdout is a terminal. */
export type LogFormat = 'pretty' | 'json' | 'auto'

/**
 * The default logger via pino, level from WXMP_LOG_LEVEL (default info), secrets redacted.
 * Format from WXMP_LOG_FORMAT: JSON lines (what log collectors read) unless stdout is a
 * terminal, where lines are human-readable (`12:00:01.123 INFO: message key=value`). The
 * pretty printer (pino-pretty) is loaded only when used.
 */
export function createLogger(options: { level?: string; format?: LogFormat; destination?: NodeJS.WritableStream & { isTTY?: boolean } } = {}): Logger {
  const destination = options.destination ?? process.stdout
  const format = options.format ?? (process.env.WXMP_LOG_FORMAT as LogFormat | undefined) ?? 'auto'
  const pretty = format === 'pretty' || (format === 'auto' && destination.isTTY === true)
  const settings = {
    level: options.level ?? process.env.WXMP_LOG_LEVEL ?? 'info',
    base: { name: 'wxmp' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }
  if (!pretty) return (options.destination === undefined ? pino(settings) : pino(settings, options.destination)) as unknown as Logger
  // synchronous, in this thread: a line is on the terminal before the banner that follows it
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream
  const stream = prettyStream({
    destination,
    sync: true,
    colorize: destination.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: true,
  })
  return pino(settings, stream) as unknown as Logger
}

type Level = 'debug' | 'info' | 'warn' | 'error'

/**
 * A child logger that is made on its first line: most requests log nothing, and pino's
 * `child()` costs microseconds per request. Lines below the parent's level (when the parent
 * can tell, as pino can) never make it. Everything else behaves as `parent.child(bindings)`.
 *
 * @example const log = lazyChild(logger, { requestId }) // free until log.warn(…) is called
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChildLogger(parent, bindings)
}

class LazyChildLogger implements Logger {
  private made: Logger | undefined

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  debug(obj: object, msg?: string): void {
    this.line('debug', obj, msg)
  }

  info(obj: object, msg?: string): void {
    this.line('info', obj, msg)
  }

  warn(obj: object, msg?: string): void {
    this.line('warn', obj, msg)
  }

  error(obj: object, msg?: string): void {
    this.line('error', obj, msg)
  }

  child(bindings: Record<string, unknown>): Logger {
    return this.real().child(bindings)
  }

  private real(): Logger {
    return (this.made ??= this.parent.child(this.bindings))
  }

  private line(level: Level, obj: object, msg: string | undefined): void {
    if (this.made === undefined) {
      const gate = (this.parent as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled
      if (typeof gate === 'function' && !gate.call(this.parent, level)) return
    }
    const target = this.real()
    if (msg === undefined) target[level](obj)
    else target[level](obj, msg)
  }
}
