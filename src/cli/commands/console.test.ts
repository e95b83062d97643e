import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseOperators } from '../../console/password.js'
import { runConsoleCommand } from './console.js'

function io(password = 'a long password') {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { print: (l: string) => out.push(l), printErr: (l: string) => err.push(l), readPassword: async () => password } }
}

test('add-user prints a WXMP_CONSOLE_USERS line the server accepts', async () => {
  const { out, io: x } = io()
  assert.equal(await runConsoleCommand(['add-user', 'alice'], x), 0)
  const line = out[0]!
  assert.match(line, /^WXMP_CONSOLE_USERS=alice:scrypt:15:8:1:/)
  assert.deepEqual(parseOperators(line.slice('WXMP_CONSOLE_USERS='.length)).map((o) => o.name), ['alice'])
})

test('--save adds to .env and replaces the same name; --generate prints the password once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmp-console-cli-'))
  try {
    const envFile = join(dir, '.env')
    writeFileSync(envFile, 'WECHAT_TOKEN=abc\n')
    assert.equal(await runConsoleCommand(['add-user', 'alice', '--save'], { ...io().io, envFile }), 0)
    const gen = io()
    assert.equal(await runConsoleCommand(['add-user', 'bob', '--save', '--generate'], { ...gen.io, envFile }), 0)
    assert.match(gen.err.join('\n'), /password for bob: \S{20}/)
    const again = io()
    assert.equal(await runConsoleCommand(['add-user', 'alice', '--save'], { ...again.io, envFile }), 0)
    assert.match(again.out[0]!, /^replaced alice/)
    const text = readFileSync(envFile, 'utf8')
    assert.match(text, /^WECHAT_TOKEN=abc$/m)
    const users = /^WXMP_CONSOLE_USERS=(.*)$/m.exec(text)![1]!
    assert.deepEqual(parseOperators(users).map((o) => o.name), ['bob', 'alice'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad use is refused with the usage; a short password and a bad name are named', async () => {
  const x = io()
  assert.equal(await runConsoleCommand(['remove-user', 'alice'], x.io), 2)
  assert.match(x.err[0]!, /usage: wxmp console add-user NAME/)
  await assert.rejects(runConsoleCommand(['add-user', 'alice'], io('short').io), /at least 8/)
  await assert.rejects(runConsoleCommand(['add-user', 'a:b'], io().io), /operator name/)
  assert.equal(await runConsoleCommand(['--help'], x.io), 0)
})
