import { test } from 'node:test'
import assert from 'node:assert/strict'
import { afterTurnWrites, beforeAnswersLeave, withTurnAnswers } from './turn-end.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

test("a turn's file writes run before its answers, whichever was queued first", async () => {
  const order: string[] = []
  withTurnAnswers(() => order.push('answer'))
  beforeAnswersLeave(() => order.push('write'))
  await nextTurn()
  assert.deepEqual(order, ['write', 'answer'])
})

test('an answer released by a write of the turn (a promise it resolved) leaves in the same turn', async () => {
  const order: string[] = []
  let written!: () => void
  const durable = new Promise<void>((resolve) => (written = resolve))
  beforeAnswersLeave(() => {
    order.push('write')
    written()
  })
  // the chain an answer takes in the server: a few promise hops after the write returned
  void durable.then(() => undefined).then(() => withTurnAnswers(() => order.push('answer')))
  // scheduled after the turn's two steps: it runs after both when the answer made it into this turn
  setImmediate(() => order.push('next setImmediate'))
  await nextTurn()
  await nextTurn()
  assert.deepEqual(order, ['write', 'answer', 'next setImmediate'])
})

test('writes asked for between the two steps go to the next turn; answers ready then still leave in this one', async () => {
  const order: string[] = []
  beforeAnswersLeave(() => {
    order.push('write 1')
    queueMicrotask(() => {
      beforeAnswersLeave(() => order.push('write 2'))
      withTurnAnswers(() => order.push('answer 1'))
    })
  })
  setImmediate(() => order.push('next setImmediate'))
  await nextTurn()
  await nextTurn()
  assert.deepEqual(order, ['write 1', 'answer 1', 'next setImmediate', 'write 2'])
})

test('an answer queued after its turn has answered waits for the next turn, after the writes queued before it', async () => {
  const order: string[] = []
  withTurnAnswers(() => {
    order.push('answer 1')
    beforeAnswersLeave(() => order.push('write 2'))
    withTurnAnswers(() => order.push('answer 2'))
  })
  await nextTurn()
  assert.deepEqual(order, ['answer 1'])
  await nextTurn()
  assert.deepEqual(order, ['answer 1', 'write 2', 'answer 2'])
})

test('a step that throws does not cost the others their turn', async () => {
  const order: string[] = []
  beforeAnswersLeave(() => {
    throw new Error('disk gone')
  })
  beforeAnswersLeave(() => order.push('write'))
  withTurnAnswers(() => {
    throw new Error('socket gone')
  })
  withTurnAnswers(() => order.push('answer'))
  await nextTurn()
  assert.deepEqual(order, ['write', 'answer'])
})

test("afterTurnWrites: one promise for the turn's writes, settled after them and before the turn's answers", async () => {
  assert.equal(afterTurnWrites(), undefined, 'nothing queued: nothing to wait for')
  const order: string[] = []
  beforeAnswersLeave(() => order.push('write'))
  const gate = afterTurnWrites()
  assert.ok(gate !== undefined)
  assert.equal(afterTurnWrites(), gate, 'every answer of the turn waits for the same promise')
  void gate.then(() => withTurnAnswers(() => order.push('answer released by the gate')))
  withTurnAnswers(() => order.push('answer'))
  await nextTurn()
  assert.deepEqual(order, ['write', 'answer', 'answer released by the gate'])
  beforeAnswersLeave(() => undefined)
  const next = afterTurnWrites()
  assert.ok(next !== undefined && next !== gate, 'the next turn has its own')
  await next
})

test("afterTurnWrites settles even when one of the turn's writes throws", async () => {
  beforeAnswersLeave(() => {
    throw new Error('disk full')
  })
  await afterTurnWrites()
})
