import { test } from 'node:test'
import assert from 'node:assert/strict'
import { amrDurationMs } from './media.js'

test('AMR duration from its frames (20 ms each), narrow and wide band; anything else is unknown', () => {
  const nb = (frames: number, mode: number, size: number) => Buffer.concat([Buffer.from('#!AMR\n'), ...Array.from({ length: frames }, () => Buffer.concat([Buffer.from([mode << 3]), Buffer.alloc(size)]))])
  assert.equal(amrDurationMs(nb(50, 7, 31)), 1000)
  assert.equal(amrDurationMs(nb(10, 0, 12)), 200)
  const wb = Buffer.concat([Buffer.from('#!AMR-WB\n'), ...Array.from({ length: 25 }, () => Buffer.concat([Buffer.from([2 << 3]), Buffer.alloc(32)]))])
  assert.equal(amrDurationMs(wb), 500)
  assert.equal(amrDurationMs(nb(3, 7, 31).subarray(0, 40)), undefined, 'a cut file')
  assert.equal(amrDurationMs(Buffer.from('ID3 mp3 data')), undefined)
})
