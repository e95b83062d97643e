/** The docs stay true: every variable (the console's included) is in both READMEs, and so are the console's screenshots and command. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { CONFIG_VARIABLES } from '../../src/server/config.js'

const readmes = ['README.md', 'README.zh-CN.md'].map((name) => ({ name, text: readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8') }))

test('both READMEs document every environment variable', () => {
  for (const { name, text } of readmes) for (const variable of CONFIG_VARIABLES) assert.ok(text.includes(`\`${variable}\``), `${variable} is missing from ${name}`)
})

test('both READMEs link the console screenshots (which exist) and the add-user command', () => {
  for (const { name, text } of readmes) {
    assert.ok(text.includes('wxmp console add-user'), `${name} lacks wxmp console add-user`)
    const shots = [...text.matchAll(/\((docs\/console\/[\w-]+\.png)\)/g)].map((m) => m[1]!)
    assert.ok(shots.length >= 4, `${name} links the screenshots`)
    for (const shot of shots) assert.ok(existsSync(new URL(`../../${shot}`, import.meta.url)), `${shot} exists`)
  }
})
