import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from './memory.js'
import { prefixed } from './prefixed.js'
import type { KeyValueStore } from './types.js'

test('prefixed: keys are namespaced, and the inner store sees the full key', async () => {
  const inner = new MemoryStore()
  const app = prefixed(inner, 'wx1:')
  assert.equal(await app.add('dedup:1', 'a', 60_000), true)
  assert.equal(await inner.get('wx1:dedup:1'), 'a')
  assert.equal(await prefixed(inner, 'wx2:').get('dedup:1'), undefined)
  await app.set('s', { step: 2 })
  assert.deepEqual(await app.get('s'), { step: 2 })
  assert.equal(await app.deleteIf('s', { step: 2 }), true)
  await app.delete('dedup:1')
  assert.equal(await inner.get('wx1:dedup:1'), undefined)
})

test('prefixed: a refused key and a store that throws both come back as rejected promises, never as a throw', async () => {
  const app = prefixed(new MemoryStore(), 'wx1:')
  for (const call of [() => app.get(''), () => app.set('', 1), () => app.delete(''), () => app.add('', 1), () => app.deleteIf('', 1)]) {
    const result = call()
    assert.ok(result instanceof Promise)
    await assert.rejects(result, TypeError)
  }
  const fault = new Error('driver fault')
  const throwing = new Proxy(new MemoryStore(), {
    get: (target, name, receiver) =>
      ['get', 'set', 'delete', 'add', 'deleteIf'].includes(String(name))
        ? () => {
            throw fault
          }
        : Reflect.get(target, name, receiver),
  }) as KeyValueStore
  const wrapped = prefixed(throwing, 'wx1:')
  for (const call of [() => wrapped.get('k'), () => wrapped.set('k', 1), () => wrapped.delete('k'), () => wrapped.add('k', 1), () => wrapped.deleteIf('k', 1)]) {
    const result = call()
    assert.ok(result instanceof Promise)
    await assert.rejects(result, (err) => err === fault)
  }
})
