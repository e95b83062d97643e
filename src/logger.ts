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

/**
 * The default logger: JSON lines on stdout via pino, level from WXMP_LOG_LEVEL (default
 * info), secrets redacted.
 */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  return pino({
    level: options.level ?? process.env.WXMP_LOG_LEVEL ?? 'info',
    base: { name: 'wxmp' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  }) as unknown as Logger
}
