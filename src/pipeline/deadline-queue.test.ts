import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DeadlineQueue } from './deadline-queue.js'

/** A hand-driven clock and timer: `advance` moves time and fires what is due. */
function fakeTime() {
  let now = 0
  const timers = new Map<number, { at: number; fire: () => void }>()
  let ids = 0
  return {
    options: {
      now: () => now,
      setTimer: (fire: () => void, ms: number) => {
        const id = ++ids
        timers.set(id, { at: now + ms, fire })
        return id
      },
      clearTimer: (id: unknown) => void timers.delete(id as number),
    },
    armed: () => timers.size,
    advance(ms: number) {
      const until = now + ms
      for (;;) {
        const next = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0]
        if (next === undefined) break
        timers.delete(next[0])
        now = next[1].at
        next[1].fire()
      }
      now = until
    },
  }
}

test('deadlines fire in due order, each once, whatever order they were scheduled in', () => {
  const time = fakeTime()
  const queue = new DeadlineQueue(time.options)
  const fired: string[] = []
  queue.schedule(300, () => fired.push('c'))
  queue.schedule(100, () => fired.push('a'))
  queue.schedule(200, () => fired.push('b'))
  queue.schedule(200, () => fired.push('b2'))
  time.advance(150)
  assert.deepEqual(fired, ['a'])
  time.advance(1000)
  assert.deepEqual(fired, ['a', 'b', 'b2', 'c'])
  assert.equal(queue.size, 0)
  assert.equal(time.armed(), 0)
})

test('a cancelled deadline never fires, and an empty queue holds no timer', () => {
  const time = fakeTime()
  const queue = new DeadlineQueue(time.options)
  const fired: string[] = []
  const first = queue.schedule(100, () => fired.push('first'))
  const second = queue.schedule(200, () => fired.push('second'))
  queue.cancel(first)
  queue.cancel(first) // twice is harmless
  assert.equal(queue.size, 1)
  time.advance(150)
  assert.deepEqual(fired, [])
  queue.cancel(second)
  assert.equal(time.armed(), 0, 'nothing keeps the process alive')
  time.advance(1000)
  assert.deepEqual(fired, [])
})

test('cancelling after a deadline fired changes nothing', () => {
  const time = fakeTime()
  const queue = new DeadlineQueue(time.options)
  let count = 0
  const deadline = queue.schedule(10, () => count++)
  const later = queue.schedule(50, () => count++)
  time.advance(20)
  queue.cancel(deadline)
  assert.equal(count, 1)
  assert.equal(queue.size, 1)
  time.advance(100)
  assert.equal(count, 2)
  queue.cancel(later)
  assert.equal(queue.size, 0)
})

test('a deadline scheduled from inside a firing one is kept', () => {
  const time = fakeTime()
  const queue = new DeadlineQueue(time.options)
  const fired: number[] = []
  queue.schedule(10, () => {
    fired.push(1)
    queue.schedule(10, () => fired.push(2))
  })
  time.advance(15)
  assert.deepEqual(fired, [1])
  time.advance(10)
  assert.deepEqual(fired, [1, 2])
})

test('many interleaved schedules and cancels leave exactly the live deadlines to fire', () => {
  const time = fakeTime()
  const queue = new DeadlineQueue(time.options)
  const fired = new Set<number>()
  const live = new Set<number>()
  const handles = new Map<number, ReturnType<DeadlineQueue['schedule']>>()
  for (let i = 0; i < 500; i++) {
    handles.set(i, queue.schedule((i * 37) % 101, () => fired.add(i)))
    live.add(i)
    if (i % 3 === 0) {
      const victim = (i * 7) % (i + 1)
      const handle = handles.get(victim)
      if (handle !== undefined) queue.cancel(handle)
      live.delete(victim)
    }
  }
  time.advance(200)
  assert.deepEqual([...fired].sort((a, b) => a - b), [...live].sort((a, b) => a - b))
  assert.equal(queue.size, 0)
})
