import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RejectionLog } from './rejection-log.js'

function capture() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = []
  return { lines, logger: { warn: (obj: object, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }) } }
}

describe('rejection lines aggregated per source', () => {
  test('a flood from one source writes its first lines per code in full, then one summary per interval', () => {
    let now = 0
    const { lines, logger } = capture()
    const log = new RejectionLog({ logger, intervalMs: 10_000, perCode: 3, now: () => now })
    try {
      for (let i = 0; i < 1000; i++) log.warn({ code: 'WX_ERR_SIGNATURE_INVALID', remote: '203.0.113.7', requestId: `r${i}` }, 'request rejected')
      for (let i = 0; i < 10; i++) log.warn({ code: 'WX_ERR_TIMESTAMP_STALE', remote: '203.0.113.7' }, 'request rejected')
      log.warn({ code: 'WX_ERR_SIGNATURE_INVALID', remote: '198.51.100.1' }, 'request rejected')
      assert.equal(lines.length, 3 + 3 + 1)
      now += 10_000
      log.warn({ code: 'WX_ERR_SIGNATURE_INVALID', remote: '203.0.113.7' }, 'request rejected') // a new interval
      const summary = lines.find((l) => l.obj.rejected !== undefined)
      assert.deepEqual(summary?.obj, { remote: '203.0.113.7', rejected: 1004, codes: { WX_ERR_SIGNATURE_INVALID: 997, WX_ERR_TIMESTAMP_STALE: 7 }, intervalSec: 10 })
      assert.match(summary?.msg ?? '', /1004 more requests from 203\.0\.113\.7 rejected in the last 10 s/)
      assert.equal(lines.at(-1)?.obj.requestId, undefined)
      assert.equal(lines.at(-1)?.obj.code, 'WX_ERR_SIGNATURE_INVALID', 'the new interval logs in full again')
      assert.equal(lines.length, 3 + 3 + 1 + 1 + 1)
    } finally {
      log.close()
    }
  })

  test('past maxSources, new sources share one entry, so a spray of addresses cannot grow memory or lines', () => {
    const { lines, logger } = capture()
    const log = new RejectionLog({ logger, perCode: 1, maxSources: 10, now: () => 0 })
    for (let i = 0; i < 10_000; i++) log.warn({ code: 'WX_ERR_SIGNATURE_INVALID', remote: `10.0.${i >> 8}.${i & 255}` }, 'request rejected')
    assert.equal(lines.length, 11)
    log.close()
    assert.deepEqual(lines.at(-1)?.obj.remote, '(other sources)')
    assert.equal(lines.at(-1)?.obj.rejected, 10_000 - 11)
  })
})
