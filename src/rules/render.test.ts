import { test } from 'node:test'
import assert from 'node:assert/strict'
import { escapeBraces, fillPlaceholders, placeholderProblems } from './render.js'

test('placeholders are filled from the message; missing values are empty; braces escape', () => {
  assert.equal(fillPlaceholders('你说 {text}，场景 {scene}，{{原样}}', { text: 'hi' }), '你说 hi，场景 ，{原样}')
  assert.equal(fillPlaceholders('no braces', {}), 'no braces')
  assert.equal(fillPlaceholders('{text}', { text: '{scene} ]]>' }), '{scene} ]]>', 'a follower\'s text is not expanded again')
})

test('escaped console text comes back as written', () => {
  const raw = '感谢关注{小店}！{{不是占位符}} }{'
  assert.deepEqual(placeholderProblems(escapeBraces(raw)), [])
  assert.equal(fillPlaceholders(escapeBraces(raw), { text: 'x' }), raw)
})

test('unknown placeholders and lone braces are problems', () => {
  assert.equal(placeholderProblems('{nickname}').length, 1)
  assert.equal(placeholderProblems('a { b').length, 1)
  assert.deepEqual(placeholderProblems('{text} {scene} {key} {openid} {match}'), [])
})
