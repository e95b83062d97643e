import { WxmpError, isWxmpError } from '../errors.js'

/**
 * Wraps a driver error as WX_ERR_STORAGE with the backend, the operation and where it points,
 * so a log line says "Redis at 127.0.0.1:6379 failed on add" rather than "ECONNREFUSED".
 */
export function storageError(where: string, operation: string, err: unknown, hint?: string): WxmpError {
  if (isWxmpError(err)) return err
  const reason = err instanceof Error ? err.message || err.name : String(err)
  const message = `${where} failed on ${operation}: ${reason}${hint === undefined ? '' : ` (${hint})`}`
  return new WxmpError('WX_ERR_STORAGE', message, { cause: err, details: { backend: where, operation } })
}
