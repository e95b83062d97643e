import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openRecords } from '../records/open-records.js'
import { lastHour, quantile } from './dashboard-queries.js'

test('quantiles interpolate inside the bucket; empty is null', () => {
  // buckets: <1, <2, <5, <10 …
  assert.equal(quantile([0, 0, 0, 10], 0.5), 7.5)
  assert.equal(quantile([0, 0, 0, 0], 0.5), null)
  assert.equal(quantile([100, 0, 0, 1], 0.99), 1)
})

test('the last hour per minute: messages, routes, deadline misses and latency, from the log', async () => {
  const records = await openRecords('memory:')
  const now = 1_700_000_000_000 + 30_000 - (1_700_000_000_000 % 60_000)
  const add = async (at: number, latencyMs: number, via: 'passive' | 'customer-service' | 'none', status?: 'sent' | 'out-of-window') => {
    const id = await records.messages.recordInbound({ appId: 'wxA', msgKey: `k${at}-${latencyMs}-${via}`, openid: 'o1', msgType: 'text', createTime: 1, rawXml: '<xml/>', receivedAt: at, encrypted: false })
    await records.messages.recordOutcome(id, { replyVia: via, replyStatus: status, latencyMs })
  }
  await add(now - 1000, 4, 'passive')
  await add(now - 2000, 40, 'passive')
  await add(now - 3000, 6000, 'customer-service', 'sent')
  await add(now - 4000, 7000, 'customer-service', 'out-of-window')
  await add(now - 61_000, 3, 'none')
  await add(now - 2 * 3600_000, 3, 'passive') // outside the hour
  const minutes = await lastHour(records.db, 'wxA', now, 4500)
  assert.equal(minutes.length, 60)
  const last = minutes.at(-1)!
  assert.deepEqual([last.messages, last.passive, last.customerService, last.failed, last.deadlineMisses], [4, 2, 1, 1, 2])
  assert.ok(last.p50! >= 25 && last.p50! <= 50, `p50 ${last.p50}`)
  assert.ok(last.p99! >= 5000, `p99 ${last.p99}`)
  assert.equal(minutes.at(-2)!.none, 1)
  assert.equal(minutes.reduce((s, m) => s + m.messages, 0), 5)
  assert.equal((await lastHour(records.db, 'wxOther', now, 4500)).reduce((s, m) => s + m.messages, 0), 0)
  await records.close()
})
