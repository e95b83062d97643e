import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resultsSection, translatedSection } from '../bench/readme-sync.js'

const root = new URL('..', import.meta.url)

test('README.zh-CN.md shows the benchmark tables with Chinese headers and labels', () => {
  const zh = readFileSync(new URL('README.zh-CN.md', root), 'utf8')
  const expected = translatedSection(resultsSection(readFileSync(new URL('bench/RESULTS.md', root), 'utf8')))
  assert.ok(zh.includes(expected), 'run npm run bench:readme')
  assert.match(zh, /\| 服务器 \| 模式 \| 请求\/秒 \|/)
  assert.match(zh, /^测试于 .+，机器：/m)
})

test('README.zh-CN.md has the session from scratch, like the English README', () => {
  const zh = readFileSync(new URL('README.zh-CN.md', root), 'utf8')
  assert.match(zh, /\$ npm ci && npm start[\s\S]*Webhook URL[\s\S]*npx wxmp simulate/)
})
