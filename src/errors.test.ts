import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { ERROR_TABLE, WxmpError, isWxmpError } from './errors.js'

test('docs/errors.md documents every WX_ERR_* code under its own heading', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
  const missing = Object.keys(ERROR_TABLE).filter((code) => !doc.includes(`### ${code}\n`))
  assert.deepEqual(missing, [])
})

test('a WxmpError carries its code, the table status and details', () => {
  const err = new WxmpError('WX_ERR_REPLAY', undefined, { details: { a: 1 } })
  assert.equal(err.status, 403)
  assert.equal(err.message, ERROR_TABLE.WX_ERR_REPLAY.title)
  assert.ok(isWxmpError(err, 'WX_ERR_REPLAY'))
  assert.ok(!isWxmpError(err, 'WX_ERR_CONFIG'))
  assert.ok(!isWxmpError(new Error('x')))
})
