import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { splitFrontMatter } from './front-matter.js'

const at = (line: number, pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_POST_INVALID') && (err as unknown as { line: number }).line === line && pattern.test((err as Error).message)

test('front matter: fields, comments, the body and its line offset', () => {
  const post = splitFrontMatter('---\ntitle: 标题\nauthor: 作者\ndigest: 摘要\ncover: ./c.jpg\nsource_url: https://example.com/a\ncomments: fans\n---\n\nHello\n', 'p.md')
  assert.deepEqual(
    { ...post.meta, lines: undefined },
    { title: '标题', author: '作者', digest: '摘要', cover: './c.jpg', sourceUrl: 'https://example.com/a', comments: 'fans', linkReferences: true, lines: undefined },
  )
  assert.equal(post.meta.lines.cover, 5)
  assert.equal(post.body, '\nHello\n')
  assert.equal(post.bodyLineOffset, 8)
  assert.equal(splitFrontMatter('---\ncomments: true\n---\nx', 'p.md').meta.comments, 'on')
  assert.equal(splitFrontMatter('---\ncomments: false\nlink_references: false\n---\nx', 'p.md').meta.linkReferences, false)
})

test('no front matter: the whole file is the body; CRLF and a BOM are fine', () => {
  const post = splitFrontMatter('\uFEFF# Title\r\n\r\nText\r\n', 'p.md')
  assert.equal(post.body, '# Title\n\nText\n')
  assert.equal(post.bodyLineOffset, 0)
  assert.equal(splitFrontMatter('---\ntitle: x\n---\r\n', 'p.md').meta.title, 'x')
})

test('mistakes are named with their line', () => {
  assert.throws(() => splitFrontMatter('---\ntitle: x\n', 'p.md'), at(1, /no closing ---/))
  assert.throws(() => splitFrontMatter('---\ntitle: x\nauthr: y\n---\n', 'p.md'), at(3, /unknown front matter key "authr"/))
  assert.throws(() => splitFrontMatter('---\ntitle: x\nsource_url: ftp://x\n---\n', 'p.md'), at(3, /http\(s\) URL/))
  assert.throws(() => splitFrontMatter('---\ncomments: maybe\n---\n', 'p.md'), at(2, /true, false or fans/))
  assert.throws(() => splitFrontMatter('---\ntitle: [a, b]\n---\n', 'p.md'), at(2, /title must be text/))
  assert.throws(() => splitFrontMatter('---\ntitle: "unclosed\n---\n', 'p.md'), (err: unknown) => isWxmpError(err, 'WX_ERR_POST_INVALID') && /not valid YAML/.test((err as Error).message))
  assert.throws(() => splitFrontMatter('---\n- a\n- b\n---\n', 'p.md'), at(2, /key: value/))
})
