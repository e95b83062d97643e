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

test('memory store eviction follows insertion order, a re-set key counting as new', async () => {
  const store = new MemoryStore({ maxEntries: 3 })
  await store.set('a', 1)
  await store.set('b', 2)
  await store.set('c', 3)
  await store.set('a', 10) // now the newest
  await store.set('d', 4) // evicts b, the oldest
  assert.equal(await store.get('b'), undefined)
  await store.set('e', 5) // evicts c
  assert.equal(await store.get('c'), undefined)
  assert.deepEqual([await store.get('a'), await store.get('d'), await store.get('e')], [10, 4, 5])
  await store.delete('d')
  await store.set('f', 6)
  await store.set('g', 7) // evicts a, the oldest left
  assert.equal(await store.get('a'), undefined)
  assert.deepEqual([await store.get('e'), await store.get('f'), await store.get('g')], [5, 6, 7])
})

test('memory store keeps exactly the newest maxEntries keys through many evictions', async () => {
  const store = new MemoryStore({ maxEntries: 1000 })
  for (let i = 0; i < 20_000; i++) assert.equal(await store.add(`k${i}`, i), true)
  const live: number[] = []
  for (let i = 0; i < 20_000; i++) if ((await store.get(`k${i}`)) !== undefined) live.push(i)
  assert.equal(live.length, 1000)
  assert.equal(live[0], 19_000)
  assert.equal(live[999], 19_999)
  await store.close()
  assert.equal(await store.add('k0', 0), true)
  assert.equal(await store.add('k1', 1), true)
  assert.equal(await store.get('k0'), 0)
})

test('memory store round-trips long values (kept as UTF-8 bytes) exactly, and compares them in deleteIf', async () => {
  const store = new MemoryStore()
  const reply = { state: 'done', response: { status: 200, body: `<xml><Content><![CDATA[你好 ${'x'.repeat(200)} 😀 \u2028 "quoted"]]></Content></xml>` } }
  assert.equal(await store.add('long', reply), true)
  assert.deepEqual(await store.get('long'), reply)
  assert.equal(await store.deleteIf('long', { ...reply, state: 'other' }), false)
  assert.equal(await store.deleteIf('long', reply), true)
  assert.equal(await store.get('long'), undefined)
  const lone = 'a\ud800b'.repeat(40) // lone surrogates survive as JSON escapes
  await store.set('lone', lone)
  assert.equal(await store.get('lone'), lone)
  await store.set('short', 'x')
  assert.equal(await store.get('short'), 'x')
})

test('local methods keep a value as given; the async API still hands out copies of it', async () => {
  const store = new MemoryStore()
  const record = { state: 'done', n: 1 }
  assert.equal(store.local.addLocal('k', record, 60_000), true)
  assert.equal(store.local.addLocal('k', { other: true }, 60_000), false)
  assert.equal(store.local.getLocal('k'), record)
  const copy = await store.get<{ n: number }>('k')
  assert.deepEqual(copy, record)
  assert.notEqual(copy, record)
  assert.equal(await store.add('k', 1), false)
  assert.equal(await store.deleteIf('k', { state: 'done', n: 1 }), true)
  assert.equal(store.local.getLocal('k'), undefined)
})

test('deleteLocalIf removes only the very object it was given; getLocal reads JSON entries too', async () => {
  const store = new MemoryStore()
  const claim = { owner: 'a' }
  store.local.setLocal('k', claim, 60_000)
  assert.equal(store.local.deleteLocalIf('k', { owner: 'a' }), false)
  assert.equal(store.local.deleteLocalIf('k', claim), true)
  await store.set('j', { n: 2 })
  assert.deepEqual(store.local.getLocal('j'), { n: 2 })
  assert.equal(store.local.deleteLocalIf('j', { n: 2 }), false) // a JSON entry is not "the same object"
})

test('local entries expire and are evicted like the others', () => {
  let now = 0
  const store = new MemoryStore({ now: () => now, maxEntries: 2 })
  store.local.setLocal('a', 'A', 1000)
  store.local.setLocal('b', 'B', 5000)
  now = 1000
  assert.equal(store.local.getLocal('a'), undefined)
  assert.equal(store.local.addLocal('a', 'A2', 1000), true)
  store.local.setLocal('c', 'C', 5000) // evicts b, the oldest
  assert.equal(store.local.getLocal('b'), undefined)
  assert.equal(store.local.getLocal('c'), 'C')
  assert.throws(() => store.local.addLocal('', 1, 10), TypeError)
})
