/**
 * The short soak (the long one is `npm run soak`): the real server at a steady rate of mixed
 * messages, killed with SIGKILL halfway and restarted. Zero non-200 answers outside the kill
 * window, every message answered in the end (WeChat-style retries), and every answered
 * message in the message log.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runSoak } from './support/soak-run.js'

test('soak: steady mixed traffic across a kill -9 and restart loses no reply and no row', async (t) => {
  const report = await runSoak({ durationMs: 12_000, ratePerSec: 40, killAtMs: 5_000 })
  t.diagnostic(
    `soak: ${report.messages} messages (${report.kinds} types), ${report.deliveries} deliveries, ${report.answered200} answered, ` +
      `${report.failuresInKillWindow} failed inside the ${report.killWindowMs} ms kill window, ${report.failuresOutsideKillWindow.length} outside, ` +
      `${report.unanswered} unanswered, rows lost ${report.rowsLost.length}, p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms`,
  )
  assert.deepEqual(report.failuresOutsideKillWindow, [], 'no non-200 answer outside the kill window')
  assert.equal(report.unanswered, 0, 'every message was answered, on a retry if the kill cut it off')
  assert.deepEqual(report.rowsLost, [], 'every message that got a reply is in the message log')
  assert.equal(report.skippedForBackpressure, 0)
  assert.ok(report.messages >= 400, `${report.messages} messages`)
})
