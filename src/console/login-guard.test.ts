import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryStore } from '../storage/memory.js'
import { LoginGuard } from './login-guard.js'

test('five failures lock the name for the lock time; other names and a later window are free', async () => {
  let now = 1_000_000
  const guard = new LoginGuard(new MemoryStore({ now: () => now }), { now: () => now })
  for (let i = 0; i < 4; i++) assert.equal(await guard.failed('bob', '10.0.0.1'), false)
  assert.equal(await guard.lockedFor('bob', '10.0.0.1'), 0)
  assert.equal(await guard.failed('bob', '10.0.0.1'), true)
  assert.equal(await guard.lockedFor('bob', '10.0.0.9'), 15 * 60_000)
  assert.equal(await guard.lockedFor('BOB', '10.0.0.9'), 15 * 60_000, 'names are compared without case')
  assert.equal(await guard.lockedFor('alice', '10.0.0.9'), 0)
  now += 15 * 60_000 + 1
  assert.equal(await guard.lockedFor('bob', '10.0.0.1'), 0)
})

test('twenty failures from one address lock the address, whatever the names', async () => {
  const guard = new LoginGuard(new MemoryStore())
  let locked = false
  for (let i = 0; i < 20; i++) locked = await guard.failed(`user${i}`, '10.0.0.2')
  assert.equal(locked, true)
  assert.ok((await guard.lockedFor('someone-else', '10.0.0.2')) > 0)
})

test('failures older than the window do not count; a success clears the name', async () => {
  let now = 0
  const guard = new LoginGuard(new MemoryStore({ now: () => now }), { now: () => now })
  for (let i = 0; i < 4; i++) await guard.failed('carol', 'a')
  now += 16 * 60_000
  assert.equal(await guard.failed('carol', 'a'), false)
  for (let i = 0; i < 3; i++) await guard.failed('carol', 'a')
  await guard.succeeded('carol')
  assert.equal(await guard.failed('carol', 'a'), false)
})
