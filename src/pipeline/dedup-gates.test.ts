import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Gates } from './dedup-gates.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((yes) => (resolve = yes))
  return { promise, resolve }
}

test("keys held by one gate are let go together once it settles; a key held again by a newer gate stays held", async () => {
  const gates = new Gates()
  const turn1 = deferred()
  const turn2 = deferred()
  gates.hold('a', turn1.promise)
  gates.hold('b', turn1.promise)
  gates.hold('c', turn2.promise)
  gates.hold('a', turn2.promise) // the same message gated again later (a retry that ran it): the newer gate counts
  assert.equal(gates.of('b'), turn1.promise)
  assert.equal(gates.of('a'), turn2.promise)
  turn1.resolve()
  await turn1.promise
  await Promise.resolve()
  assert.equal(gates.of('b'), undefined)
  assert.equal(gates.of('a'), turn2.promise, 'not let go by the older gate')
  assert.equal(gates.size, 2)
  turn2.resolve()
  await turn2.promise
  await Promise.resolve()
  assert.equal(gates.size, 0)
})

test('a gate that rejects lets its keys go too', async () => {
  const gates = new Gates()
  const failed = Promise.reject(new Error('write failed'))
  gates.hold('a', failed)
  await failed.catch(() => undefined)
  await Promise.resolve()
  assert.equal(gates.size, 0)
})
