import type { IncomingMessage } from 'node:http'
import { WxmpError } from '../errors.js'

/**
 * Reads a request body into a Buffer, refusing more than `limit` bytes as soon as it is known
 * (Content-Length, or the running count), so an oversized upload is never buffered whole.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume() // drain, so the connection can carry the 413
    return Promise.reject(new WxmpError('WX_ERR_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the ${limit}-byte limit`))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        req.resume()
        reject(new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds the ${limit}-byte limit`))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => {
      cleanup()
      reject(new WxmpError('WX_ERR_BODY_EMPTY', `request body could not be read: ${err.message}`, { cause: err }))
    }
    const onAborted = () => onError(new Error('client aborted the upload'))
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}
