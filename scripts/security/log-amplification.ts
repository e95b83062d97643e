/**
 * Log amplification: N forged requests from one address, sent 50 at a time; reports the log
 * bytes and lines the server wrote for them, and what /metrics counted.
 *
 *   node --import tsx scripts/security/log-amplification.ts 20000
 */
import { startFiguresServer } from './common.js'

const total = Number(process.argv[2] ?? 20000)
const server = await startFiguresServer({ WXMP_LOG_LEVEL: 'info' })
try {
  const before = server.raw.length
  const bytesBefore = server.raw.reduce((n, l) => n + l.length + 1, 0)
  const now = Math.floor(Date.now() / 1000)
  const started = Date.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < total) {
        const i = next++
        const res = await fetch(`${server.url}?signature=${'a'.repeat(40)}&timestamp=${now}&nonce=${i}`, { method: 'POST', body: '<xml/>' })
        await res.arrayBuffer()
      }
    }),
  )
  const elapsed = Date.now() - started
  await new Promise((resolve) => setTimeout(resolve, 500))
  const lines = server.raw.slice(before)
  const bytes = server.raw.reduce((n, l) => n + l.length + 1, 0) - bytesBefore
  const metricsUrl = process.env.FIGURES_METRICS_URL ?? server.url.replace('/wechat', '/metrics')
  const metrics = await (await fetch(metricsUrl)).text()
  const counted = /wxmp_requests_total\{outcome="rejected",code="WX_ERR_SIGNATURE_INVALID"\} (\d+)/.exec(metrics)?.[1]
  console.log(`${total} forged requests in ${elapsed} ms: ${lines.length} log lines, ${(bytes / 1e6).toFixed(2)} MB of log; metrics counted ${counted}`)
} finally {
  await server.stop()
}
