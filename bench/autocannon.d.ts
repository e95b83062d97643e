// The slice of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface RequestData {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
    setupRequest?: (request: RequestData, context: Record<string, unknown>) => RequestData | null
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    amount?: number
    timeout?: number
    pipelining?: number
    workers?: number
    requests?: RequestData[]
    maxConnectionRequests?: number
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    setupClient?: (client: any) => void
  }
  interface Histogram {
    average: number
    mean: number
    total: number
    p50: number
    p99: number
    max: number
  }
  interface Result {
    duration: number
    requests: Histogram & { sent: number }
    latency: Histogram
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }
  interface Instance extends EventEmitter {
    stop(): void
  }
  function autocannon(options: Options, callback: (err: Error | null, result: Result) => void): Instance
  export default autocannon
}
