/**
 * The dashboard's numbers for the last hour, per minute, from the message log (so a fleet's
 * instances all count): messages, replies by route, deadline misses, and p50/p99 latency.
 * Quantiles come from a per-minute histogram counted in SQL (the same buckets on SQLite and
 * PostgreSQL), interpolated inside the bucket, as Prometheus does: exact to the bucket, and
 * the database never ships an hour of rows to the server.
 */
import type { SqlDatabase } from '../records/sql-database.js'

/** Upper bounds in ms; the last bucket is open. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 3000, 4000, 4500, 5000, 10_000, 30_000]

export interface MinuteStats {
  /** Start of the minute, ms. */
  t: number
  messages: number
  passive: number
  customerService: number
  pending: number
  failed: number
  none: number
  deadlineMisses: number
  p50: number | null
  p99: number | null
}

const BUCKET_SQL = `CASE ${LATENCY_BUCKETS_MS.map((b, i) => `WHEN latency_ms < ${b} THEN ${i}`).join(' ')} ELSE ${LATENCY_BUCKETS_MS.length} END`
const FAILED = new Set(['out-of-window', 'no-permission', 'quota', 'failed', 'dropped'])

export async function lastHour(db: SqlDatabase, appId: string, now: number, replyTimeoutMs: number, minutes = 60): Promise<MinuteStats[]> {
  const firstMinute = Math.floor(now / 60_000) - (minutes - 1)
  const since = firstMinute * 60_000
  const [routes, latency] = await Promise.all([
    db.all<{ m: number; via: string | null; status: string | null; n: number; late: number }>(
      `SELECT received_at / 60000 AS m, reply_via AS via, reply_status AS status, COUNT(*) AS n,
        SUM(CASE WHEN latency_ms >= ? AND reply_via <> 'passive' THEN 1 ELSE 0 END) AS late
       FROM wxmp_messages WHERE app_id = ? AND received_at >= ? GROUP BY received_at / 60000, reply_via, reply_status`,
      [replyTimeoutMs, appId, since],
    ),
    db.all<{ m: number; b: number; n: number }>(
      `SELECT received_at / 60000 AS m, ${BUCKET_SQL} AS b, COUNT(*) AS n
       FROM wxmp_messages WHERE app_id = ? AND received_at >= ? AND latency_ms IS NOT NULL GROUP BY received_at / 60000, ${BUCKET_SQL}`,
      [appId, since],
    ),
  ])
  const stats: MinuteStats[] = Array.from({ length: minutes }, (_, i) => ({
    t: (firstMinute + i) * 60_000,
    messages: 0,
    passive: 0,
    customerService: 0,
    pending: 0,
    failed: 0,
    none: 0,
    deadlineMisses: 0,
    p50: null,
    p99: null,
  }))
  const at = (m: number) => stats[Number(m) - firstMinute]
  for (const r of routes) {
    const s = at(r.m)
    if (s === undefined) continue
    const n = Number(r.n)
    s.messages += n
    s.deadlineMisses += Number(r.late ?? 0)
    if (r.status !== null && FAILED.has(r.status)) s.failed += n
    else if (r.via === 'passive') s.passive += n
    else if (r.via === 'customer-service') s.customerService += n
    else if (r.via === 'pending') s.pending += n
    else s.none += n // 'none', or still running (no outcome yet)
  }
  const histograms = new Map<number, number[]>()
  for (const r of latency) {
    const m = Number(r.m)
    let h = histograms.get(m)
    if (h === undefined) histograms.set(m, (h = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)))
    h[Number(r.b)]! += Number(r.n)
  }
  for (const [m, h] of histograms) {
    const s = at(m)
    if (s === undefined) continue
    s.p50 = quantile(h, 0.5)
    s.p99 = quantile(h, 0.99)
  }
  return stats
}

/** The q-quantile of a bucketed histogram, interpolated linearly inside its bucket. */
export function quantile(histogram: readonly number[], q: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let seen = 0
  for (let i = 0; i < histogram.length; i++) {
    const n = histogram[i]!
    if (seen + n >= rank && n > 0) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1]!
      const upper = LATENCY_BUCKETS_MS[i] ?? lower // the open bucket: report its lower bound
      return Math.round((lower + (upper - lower) * ((rank - seen) / n)) * 10) / 10
    }
    seen += n
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!
}
