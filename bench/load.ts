/**
 * One load run with autocannon, in this process. Every connection gets its own slice of a
 * prebuilt pool (autocannon builds each request's bytes once, before the clock starts), so
 * no request is sent twice and the generator spends the same small CPU per request on every
 * target. Requests/s, latencies (at full resolution: autocannon's own histogram rounds to whole
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
  pool: PooledRequest[]
}

export interface LoadResult {
  /** 2xx responses. */
  ok: number
  /** From the first response to the last. */
  durationSec: number
  rps: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  non2xx: number
  errors: number
  timeouts: number
  /** True when a connection used up its slice of the pool (the run is not valid). */
  exhausted: boolean
  /** CPU seconds the generator (this process) used during the window. */
  generatorCpuSec: number
}

interface Client {
  setRequests(requests: Array<{ method: string; path: string; headers: Record<string, string>; body: string }>): void
}

const HEADERS = { 'content-type': 'text/xml' }

/** How many requests each connection may send: its slice of the pool. */
export function sliceLength(poolSize: number, connections: number): number {
  return Math.floor(poolSize / connections)
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { pool, connections } = options
  const perConnection = sliceLength(pool.length, connections)
  if (options.amount !== undefined && options.amount > perConnection * connections) throw new Error('pool smaller than amount')
  let nextSlice = 0
  const sent = new Map<unknown, number>()
  const latencies = new Float64Array(perConnection * connections)
  let recorded = 0
  let firstAt = 0
  let lastAt = 0
  let cpuAtFirst: NodeJS.CpuUsage | undefined
  const setupClient = (client: Client) => {
    const from = nextSlice++ * perConnection
    client.setRequests(pool.slice(from, from + perConnection).map((r) => ({ method: 'POST', path: r.path, headers: HEADERS, body: r.body })))
  }
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.origin,
        connections,
        ...(options.amount === undefined ? { duration: options.durationSec ?? 10 } : { amount: options.amount }),
        maxConnectionRequests: perConnection,
        // autocannon starts each connection's timeout when the connection is made, and a large
        // pool takes seconds to turn into request bytes before the first one goes out
        timeout: 60,
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
          p99Ms: at(0.99),
          maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          exhausted: options.amount === undefined && [...sent.values()].some((n) => n >= perConnection),
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
      if (count > 0 && statusCode >= 200 && statusCode < 300 && recorded < latencies.length) latencies[recorded++] = responseTime
    })
  })
}
