import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createWriteBatch } from './write-batch.js'

test('writes queued in one turn run together, in order, when the flush runs', () => {
  const flushes: Array<() => void> = []
  const batch = createWriteBatch((flush) => flushes.push(flush))
  const written: string[] = []
  batch.queue(() => written.push('a'))
  batch.queue(() => written.push('b'))
  assert.equal(written.length, 0)
  assert.equal(flushes.length, 1)
  flushes[0]!()
  assert.deepEqual(written, ['a', 'b'])
  batch.queue(() => written.push('c'))
  assert.equal(flushes.length, 2)
  flushes[1]!()
  assert.deepEqual(written, ['a', 'b', 'c'])
})

test('a write that throws does not stop the writes after it', () => {
  let flush = () => {}
  const batch = createWriteBatch((f) => (flush = f))
  const written: string[] = []
  batch.queue(() => {
    throw new Error('socket gone')
  })
  batch.queue(() => written.push('b'))
  flush()
  assert.deepEqual(written, ['b'])
})

test('by default the flush runs after the current turn (setImmediate)', async () => {
  const batch = createWriteBatch()
  const written: string[] = []
  batch.queue(() => written.push('a'))
  await Promise.resolve()
  assert.equal(written.length, 0)
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(written, ['a'])
})
