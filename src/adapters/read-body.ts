import type { IncomingMessage } from 'node:http'
import { WxmpError } from '../errors.js'
import { overloaded, type BodyBudget } from '../pipeline/body-budget.js'

/**
 * Reads a request body into a Buffer, refusing more than `limit` bytes as soon as it is known
 * (Content-Length, or the running count), so an oversized upload is never buffered whole. With
 * a `budget`, every chunk is reserved from it as it arrives: past the budget the read ends with
 * WX_ERR_OVERLOADED and what it had reserved is given back. On success the caller owns
 * `buffer.length` reserved bytes and releases them when the request is answered.
 */
export function readBody(req: IncomingMessage, limit: number, budget?: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume() // drain, so the connection can carry the 413
    return Promise.reject(new WxmpError('WX_ERR_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the ${limit}-byte limit`))
  }
  if (budget !== undefined && Number.isFinite(declared) && !budget.fits(declared)) {
    req.resume()
    return Promise.reject(overloaded(budget.limit))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const fail = (err: WxmpError) => {
      cleanup()
      budget?.release(size)
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        req.resume()
        return fail(new WxmpError('WX_ERR_BODY_TOO_LARGE', `body exceeds the ${limit}-byte limit`))
      }
      try {
        budget?.reserve(chunk.length)
      } catch (err) {
        req.resume()
        return fail(err as WxmpError)
      }
      size += chunk.length
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => fail(new WxmpError('WX_ERR_BODY_EMPTY', `request body could not be read: ${err.message}`, { cause: err }))
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
