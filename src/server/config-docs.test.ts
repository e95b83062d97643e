import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { CONFIG_VARIABLES } from './config.js'

test('every configuration variable is documented in both READMEs', () => {
  for (const readme of ['README.md', 'README.zh-CN.md']) {
    const text = readFileSync(new URL(`../../${readme}`, import.meta.url), 'utf8')
    assert.deepEqual(CONFIG_VARIABLES.filter((name) => !text.includes(`\`${name}\``)), [], `${readme} misses these variables`)
  }
})
