import { test } from 'node:test'
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import { boundHeap } from './heap-bounds.js'

const newSpaceBytes = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size

/** Allocation with many survivors per scavenge: what makes V8 grow its new space. */
async function churn(ms: number): Promise<number> {
  const kept: object[] = new Array(200_000)
  let most = 0
  const until = Date.now() + ms
  for (let i = 0; Date.now() < until; i++) {
    kept[i % kept.length] = { i, text: `survivor ${i}` }
    if (i % 10_000 === 0) {
      most = Math.max(most, newSpaceBytes())
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return most
}

// each test file runs in a process of its own (node --test), so the flags stay here
test('the young generation stays within the bound under allocation that would grow it', async () => {
  const bound = 2 * 2 ** 20
  const heap = boundHeap({ maxSemiSpaceBytes: bound, everyMs: 5 })
  try {
    const most = await churn(1500)
    // two semi-spaces of at most the bound (one growth step can land before the check sees it)
    assert.ok(most <= 2 * 2 * bound, `new space reached ${most} bytes`)
  } finally {
    heap.stop()
  }
  // once stopped, V8 grows it again (the control: this churn does make it grow)
  v8.setFlagsFromString('--semi-space-growth-factor=2')
  assert.ok((await churn(1500)) > 2 * 2 * bound, 'the churn grows the new space when nothing bounds it')
})
