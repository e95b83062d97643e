import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../../errors.js'
import { main } from '../main.js'
import { RULES_SUBCOMMANDS, runRulesCommand } from './rules.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-rules-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let counter = 0

function cli() {
  const config = { databaseUrl: `sqlite:${join(dir, `rules${++counter}.db`)}`, appId: 'wxCliRules' }
  const run = async (...argv: string[]) => {
    const lines: string[] = []
    const code = await runRulesCommand(argv, { config, print: (l) => lines.push(l) })
    return { code, out: lines.join('\n') }
  }
  return { run, config }
}

describe('wxmp rules', () => {
  test('add, list, test, disable, enable, remove', async () => {
    const { run } = cli()
    assert.match((await run('add', '--id', 'hours', '--exact', '营业时间', '--contains', '几点开门', '--text', '每天 9:00–21:00')).out, /^added: .*hours {2}text is "营业时间" or contains "几点开门" → text "每天 9:00–21:00"/)
    await run('add', '--id', 'hi', '--follow', '--scene', 'promo', '--text', '欢迎，{scene}')
    await run('add', '--id', 'work', '--contains', '客服', '--text', '在线', '--hours', '09:00-18:00', '--days', 'mon-fri', '--priority', '5')
    await run('add', '--id', 'fallback', '--default', '--text', '收到', '--cooldown', '3600')
    const listed = (await run('list')).out.split('\n')
    assert.deepEqual(listed.map((l) => l.trim().split(/\s+/)[1]), ['fallback', 'hi', 'hours', 'work'])
    assert.match(listed[3]!, /\(only 09:00–18:00 mon,tue,wed,thu,fri\)/)
    assert.match((await run('test', '今天几点开门')).out, /^rule hours \(priority \d+, matched "几点开门"\) answers:\n {2}text "每天 9:00–21:00"$/)
    assert.match((await run('test', '--follow', '--scene', 'promo')).out, /text "欢迎，promo"/)
    assert.match((await run('test', '客服', '--at', '2026-03-07T10:00+08:00')).out, /skipped work: outside its time window\ndefault rule .*fallback/)
    assert.match((await run('test', '客服', '--at', '2026-03-06T10:00+08:00')).out, /^rule work/)
    assert.match((await run('test', '--click', 'NOPE')).out, /no rule answers/)
    assert.match((await run('disable', 'hours')).out, /^disabled: .*hours \[off\]/)
    assert.match((await run('test', '营业时间')).out, /default rule/)
    assert.match((await run('enable', 'hours')).out, /^enabled/)
    assert.equal((await run('remove', 'hours')).out, 'removed hours')
    await assert.rejects(run('remove', 'hours'), (err: unknown) => isWxmpError(err, 'WX_ERR_RULE_INVALID') && /no rule with id "hours"/.test((err as Error).message))
  })

  test('bad input is refused naming the rule and the field; usage errors name the flag', async () => {
    const { run } = cli()
    await assert.rejects(run('add', '--exact', '  ', '--text', 'x'), /trigger\.exact\[0\]: must not be empty/)
    await assert.rejects(run('add', '--regex', '(a+)+$', '--text', 'x'), /trigger\.pattern: can backtrack catastrophically/)
    await assert.rejects(run('add', '--exact', 'a', '--text', '你好 {nickname}'), /unknown placeholder \{nickname\}/)
    await assert.rejects(run('add', '--exact', 'a'), /say what the rule answers/)
    await assert.rejects(run('add', '--exact', 'a', '--click', 'K', '--text', 'x'), /give one trigger/)
    await assert.rejects(run('add', '--exact', 'a', '--text', 'x', '--hours', '9-18'), /--hours "9-18": use HH:MM-HH:MM/)
    await run('add', '--id', 'one', '--exact', 'a', '--text', 'x', '--priority', '7')
    await assert.rejects(run('add', '--id', 'two', '--exact', 'b', '--text', 'y', '--priority', '7'), /priority: 7 is the priority of stored rule "one"/)
    await assert.rejects(run('frobnicate'), /unknown rules command "frobnicate"/)
  })

  test('export then import (JSON and YAML); a bad file stores nothing and lists every problem', async () => {
    const a = cli()
    await a.run('add', '--id', 'x', '--exact', 'x', '--random', '1', '--random', '2')
    await a.run('add', '--id', 'y', '--type', 'image', '--type', 'voice', '--text', '收到图片或语音')
    for (const ext of ['json', 'yaml']) {
      const file = join(dir, `rules-${counter}.${ext}`)
      assert.match((await a.run('export', file)).out, /^wrote 2 rules/)
      const b = cli()
      assert.match((await b.run('import', file, '--dry-run')).out, /2 would be created.*\n.*\n.*\n\(dry run: nothing stored\)/)
      assert.match((await b.run('list')).out, /^no rules yet/)
      assert.match((await b.run('import', file)).out, /^rules: 2 created/)
      assert.equal((await b.run('export')).out, (await a.run('export')).out)
    }
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'rules:\n  - id: ok\n    trigger: {type: keyword, exact: [hi]}\n    reply: {type: text, content: hello}\n  - trigger: {type: keywrd}\n    reply: {type: text, content: ""}\n')
    const c = cli()
    await assert.rejects(c.run('import', bad), (err: unknown) => {
      assert.ok(isWxmpError(err, 'WX_ERR_RULE_INVALID'))
      assert.match((err as Error).message, /rule #2 trigger\.type: unknown trigger type "keywrd"/)
      return true
    })
    assert.match((await c.run('list')).out, /^no rules yet/, 'all or nothing: the valid first rule was not stored either')
    writeFileSync(bad, 'rules: [\n')
    await assert.rejects(c.run('import', bad), /bad\.yaml:\d+: not valid YAML/)
  })

  test('every subcommand answers --help without touching the database', async () => {
    const config = { databaseUrl: `sqlite:${join(dir, 'never', 'created.db')}`, appId: 'wx' }
    for (const sub of Object.keys(RULES_SUBCOMMANDS)) {
      const lines: string[] = []
      const code = await runRulesCommand([sub, 'some-id', '--help'], { config, print: (l) => lines.push(l) })
      assert.equal(code, 0, sub)
      assert.match(lines.join('\n'), new RegExp(`^wxmp rules ${sub}`), sub)
    }
    assert.equal(existsSync(join(dir, 'never')), false)
    const lines: string[] = []
    assert.equal(await main(['rules', '--help'], (l) => lines.push(l)), 0)
    for (const sub of Object.keys(RULES_SUBCOMMANDS)) assert.match(lines.join('\n'), new RegExp(`wxmp rules ${sub}`))
  })

  test('the top-level help lists the rules commands', async () => {
    const lines: string[] = []
    await main(['--help'], (l) => lines.push(l))
    assert.match(lines.join('\n'), /^ {2}rules +replies without code/m)
    const rules: string[] = []
    await main(['help', 'rules'], (l) => rules.push(l))
    assert.match(rules.join('\n'), /rules list \| add \| remove \| enable \| disable \| test \| export \| import/)
    const add: string[] = []
    await main(['rules', 'add', '--help'], (l) => add.push(l))
    assert.match(add.join('\n'), /^wxmp rules add/)
    assert.ok(readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').includes('wxmp rules'), 'the README documents the rules commands')
  })
})
