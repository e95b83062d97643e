import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseArgs } from 'node:util'
import { parseArgsWithIds } from './id-arguments.js'

const options = { json: { type: 'boolean', default: false }, title: { type: 'string' } } as const
const parse = (args: string[]) => parseArgsWithIds({ args, options, allowPositionals: true })

test('an id that begins with "-" is a positional, not an unknown option', () => {
  // what parseArgs alone does with it (the control)
  assert.throws(() => parseArgs({ args: ['-4Ab_x'], options: {}, allowPositionals: true }), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })
  assert.deepEqual(parse(['-4Ab_x']).positionals, ['-4Ab_x'])
  const both = parse(['-4Ab_x', '--json'])
  assert.deepEqual(both.positionals, ['-4Ab_x'])
  assert.equal(both.values.json, true)
})

test('positionals keep their order, option values come back too, "--" works as before', () => {
  assert.deepEqual(parse(['a', '-b', 'c']).positionals, ['a', '-b', 'c'])
  assert.equal(parse(['--title', '-dash title', 'x']).values.title, '-dash title')
  assert.deepEqual(parse(['-b', '--', '--dash-id', '-c']).positionals, ['-b', '--dash-id', '-c'])
  assert.deepEqual(parse(['plain', '--json']).positionals, ['plain'])
  assert.deepEqual(parse(['-']).positionals, ['-'])
})

test('a misspelt long option is still refused by name', () => {
  assert.throws(() => parse(['--jsn']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })
})
