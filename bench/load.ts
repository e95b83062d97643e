/**
 * One load run with autocannon, in this process. Every request is made and signed just before
 * it is sent (autocannon's setupRequest), as WeChat signs its own, so no request is sent twice
 * and the generator spends the same small CPU per request on every target.
 *
 * Why not a prebuilt pool (what this did before 2026-12-04): a pool large enough for a run is
 * hundreds of thousands of request buffers in the generator's heap, and its scavenges then took
 * 5–30 ms each (median 5 ms, 200 in a run). Every response in flight waited for them, so the
 * generator's pauses made most of the measured p99. Its timestamps also grew old during the run,
 * which the replay guard rightly refused at times under a flood (bench/README.md).
 *
 * Requests/s, latencies (at full resolution: autocannon's own histogram rounds to whole
 * milliseconds; each connection's first request, which includes connecting, is left out) and
 * the generator's CPU are taken over the window from the first response to the last.
 */
import autocannon from 'autocannon'
import type { PooledRequest } from './requests.js'

export interface LoadOptions {
  /** e.g. http://127.0.0.1:3000 */
  origin: string
  connections: number
  /** Run for this long; or send `amount` requests. */
  durationSec?: number
  amount?: number
  /** Makes the next request; called once per request sent. */
  next: () => PooledRequest
}

export interface LoadResult {
  /** 2xx responses. */
  ok: number
  /** From the first response to the last. */
  durationSec: number
  rps: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  p999Ms: number
  maxMs: number
  non2xx: number
  errors: number
  timeouts: number
  /** CPU seconds the generator (this process) used during the window. */
  generatorCpuSec: number
}

interface RequestData {
  method: string
  path: string
  headers: Record<string, string>
  body: string
}

interface Client {
  setRequests(requests: Array<{ method: string; headers: Record<string, string>; setupRequest(request: RequestData): RequestData }>): void
}

const HEADERS = { 'content-type': 'text/xml' }

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { next, connections } = options
  const sent = new Map<unknown, number>()
  let latencies = new Float64Array(1 << 16)
  let recorded = 0
  let firstAt = 0
  let lastAt = 0
  let cpuAtFirst: NodeJS.CpuUsage | undefined
  const setupRequest = (request: RequestData): RequestData => {
    const made = next()
    request.path = made.path
    request.body = made.body
    return request
  }
  const setupClient = (client: Client) => client.setRequests([{ method: 'POST', headers: HEADERS, setupRequest }])
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.origin,
        connections,
        ...(options.amount === undefined ? { duration: options.durationSec ?? 10 } : { amount: options.amount }),
        timeout: 10, // seconds without an answer: counted as a timeout, and the run fails
        setupClient,
      },
      (err, result) => {
        if (err !== null) return reject(err)
        const cpu = process.cpuUsage(cpuAtFirst)
        const sorted = latencies.subarray(0, recorded).sort()
        const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
        const durationSec = (lastAt - firstAt) / 1000
        const ok = result['2xx']
        resolve({
          ok,
          durationSec,
          rps: durationSec > 0 ? (ok - 1) / durationSec : 0,
          p50Ms: at(0.5),
          p90Ms: at(0.9),
          p99Ms: at(0.99),
          p999Ms: at(0.999),
          maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          generatorCpuSec: (cpu.user + cpu.system) / 1e6,
        })
      },
    )
    instance.on('response', (client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      lastAt = performance.now()
      if (firstAt === 0) {
        firstAt = lastAt
        cpuAtFirst = process.cpuUsage()
      }
      const count = sent.get(client) ?? 0
      sent.set(client, count + 1)
      // a connection's first request waited for the connection (and for the other connections' setup)
      if (count > 0 && statusCode >= 200 && statusCode < 300) {
        if (recorded === latencies.length) {
          const grown = new Float64Array(latencies.length * 2)
          grown.set(latencies)
          latencies = grown
        }
        latencies[recorded++] = responseTime
      }
    })
  })
}
