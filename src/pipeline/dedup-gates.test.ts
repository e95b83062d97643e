import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Gates } from './dedup-gates.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((yes) => (resolve = yes))
  return { promise, resolve }
}

test('the answers of one turn hold its gate once; a retry waits for every gate still pending, and none once they settled', async () => {
  const gates = new Gates()
  assert.equal(gates.settled(), undefined)
  const turn1 = deferred()
  const turn2 = deferred()
  gates.hold(turn1.promise)
  gates.hold(turn1.promise)
  assert.equal(gates.size, 1)
  assert.equal(gates.settled(), turn1.promise, 'one gate: waited for as it is')
  gates.hold(turn2.promise)
  gates.hold(turn1.promise) // an answer of the older turn again: still held once
  assert.equal(gates.size, 2)
  let done = false
  void gates.settled()!.then(() => (done = true))
  turn2.resolve()
  await turn2.promise
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(done, false, 'the older gate is still pending')
  assert.equal(gates.size, 1)
  turn1.resolve()
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(done, true)
  assert.equal(gates.size, 0)
  assert.equal(gates.settled(), undefined)
})

test('a gate that rejects is let go too', async () => {
  const gates = new Gates()
  const failed = Promise.reject(new Error('write failed'))
  gates.hold(failed)
  await failed.catch(() => undefined)
  await Promise.resolve()
  assert.equal(gates.size, 0)
})
