import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from './memory.js'

test('memory store evicts the oldest entries beyond maxEntries', async () => {
  const store = new MemoryStore({ maxEntries: 2 })
  await store.set('a', 1)
  await store.set('b', 2)
  await store.set('c', 3)
  assert.equal(await store.get('a'), undefined)
  assert.equal(await store.get('c'), 3)
})

test('memory store values are copies, not shared objects', async () => {
  const store = new MemoryStore()
  const value = { n: 1 }
  await store.set('k', value)
  value.n = 2
  assert.deepEqual(await store.get('k'), { n: 1 })
})
