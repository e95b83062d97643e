/**
 * WeChat's side of one delivery, in time: a push is `POST <URL>?signature&timestamp&nonce&openid
 * [&encrypt_type=aes&msg_signature]` with WeChat's headers; no complete answer within 5 s (or no
 * connection) ⇒ the same query string and body again, 3 attempts in all; an answer that
 * arrives, whatever it is, ends the delivery. The hard budget covers the headers and the whole
 * body; the answer is read up to 1 MiB (no real reply comes close).
 */
import { performance } from 'node:perf_hooks'

/** The headers real WeChat sends with every push (observed). */
export const WECHAT_REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'User-Agent': 'Mozilla/4.0',
  Accept: '*/*',
  Pragma: 'no-cache',
  Connection: 'close',
  'Content-Type': 'text/xml',
})

/** WeChat's budget per attempt and its number of attempts. */
export const WECHAT_TIMEOUT_MS = 5000
export const WECHAT_ATTEMPTS = 3

/** A reply body larger than this is not read further: no real reply comes close. */
export const MAX_REPLY_BYTES = 1024 * 1024

/**
 * What a wxmp server says comes after its answer (WeChat ignores the header): the answer follows
 * as a customer-service message (`customer-service`, after an interim), or waits for the
 * user's next message (`next-message`, after the pending notice or a page with more to come).
 */
export const NEXT_HEADER = 'x-wxmp-next'
export type NextHint = 'customer-service' | 'next-message'

function nextHint(value: string | null): NextHint | undefined {
  return value === 'customer-service' || value === 'next-message' ? value : undefined
}

export type AttemptOutcome = 'reply' | 'no-reply' | 'timeout' | 'invalid' | 'http-error' | 'network-error'

export interface SimulatedAttempt {
  /** 1-based attempt number. */
  n: number
  /** HTTP status, when an answer arrived. */
  status?: number
  /** From sending the request to the last byte of the answer (or the timeout). */
  latencyMs: number
  outcome: AttemptOutcome
  /** Why the attempt failed or what made the answer invalid. */
  detail?: string
}

export type Delivery =
  | { kind: 'answer'; status: number; bytes: Buffer; tooLarge: boolean; latencyMs: number; next: NextHint | undefined }
  | { kind: 'timeout' | 'network-error'; detail: string; latencyMs: number }

/** One HTTP exchange under a hard budget that covers the headers and the whole body. */
export async function deliver(url: string, init: RequestInit, timeoutMs: number, fetchFn: typeof fetch): Promise<Delivery> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  const t0 = performance.now()
  const elapsed = () => Math.round(performance.now() - t0)
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal })
    const { bytes, tooLarge } = await readCapped(response)
    return { kind: 'answer', status: response.status, bytes, tooLarge, latencyMs: elapsed(), next: nextHint(response.headers.get(NEXT_HEADER)) }
  } catch (err) {
    if (controller.signal.aborted) return { kind: 'timeout', detail: `no complete answer within ${timeoutMs} ms`, latencyMs: elapsed() }
    return { kind: 'network-error', detail: networkErrorText(err), latencyMs: elapsed() }
  } finally {
    clearTimeout(timer)
  }
}

async function readCapped(response: Response): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  if (response.body === null) return { bytes: Buffer.alloc(0), tooLarge: false }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > MAX_REPLY_BYTES) return { bytes: Buffer.alloc(0), tooLarge: true } // leaving the loop cancels the stream
    chunks.push(Buffer.from(chunk))
  }
  return { bytes: Buffer.concat(chunks), tooLarge: false }
}

function networkErrorText(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof cause?.code === 'string' ? cause.code : undefined
  const message = typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err)
  // fetch refuses ports browsers block (1, 22, 25, 6000, …) with a bare "bad port"
  if (message === 'bad port') return 'fetch refuses this port (it is on the fetch blocked-port list): use another port'
  return code === undefined || message.includes(code) ? message : `${code}: ${message}`
}
