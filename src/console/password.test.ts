import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashPassword, parseHash, parseOperators, verifyPassword } from './password.js'

const cheap = { log2N: 10, r: 8, p: 1 }

test('a hash verifies its password and no other, and has no "$" (safe in .env and shells)', async () => {
  const hash = await hashPassword('correct horse battery', cheap)
  assert.doesNotMatch(hash, /\$/)
  assert.match(hash, /^scrypt:10:8:1:/)
  const parsed = parseHash(hash)!
  assert.equal(await verifyPassword('correct horse battery', parsed), true)
  assert.equal(await verifyPassword('correct horse batterY', parsed), false)
  assert.notEqual(await hashPassword('correct horse battery', cheap), hash, 'a fresh salt each time')
})

test('a short password is refused; absurd costs are not parsed', async () => {
  await assert.rejects(hashPassword('short', cheap), /at least 8/)
  assert.equal(parseHash('scrypt:40:8:1:AAAAAAAAAAAAAAAAAAAAAA:' + 'A'.repeat(43)), undefined)
  assert.equal(parseHash('bcrypt$2b$…'), undefined)
})

test('WXMP_CONSOLE_USERS: several operators; a bad entry is named by position, never echoed', async () => {
  const hash = await hashPassword('password one', cheap)
  assert.deepEqual(parseOperators(`alice:${hash}, bob:${hash},`).map((o) => o.name), ['alice', 'bob'])
  assert.throws(() => parseOperators(`alice:${hash},bob:scrypt:broken`), (err: Error) => /entry 2 \(bob\)/.test(err.message) && !err.message.includes('broken'))
  assert.throws(() => parseOperators(`alice:${hash},alice:${hash}`), /twice/)
  assert.throws(() => parseOperators(`a b:${hash}`), /entry 1/)
})
