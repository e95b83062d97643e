import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { splitFrontMatter } from './front-matter.js'
import { highlightCode, parsePost, renderPost } from './render.js'

const render = (md: string, options = {}) => renderPost(parsePost(md, 'p.md'), options)

test('every element carries an inline style; no class, id or <style> reaches WeChat', () => {
  const html = render('# T\n\n## H2\n\n### H3\n\nText **b** *i* ~~s~~ `c`\n\n- a\n- b\n\n1. one\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\n```js\nconst a = 1\n```\n\n    indented\n')
  assert.doesNotMatch(html, /\sclass=|<style|\sid=/)
  for (const tag of ['h2', 'h3', 'p', 'strong', 'em', 'del', 'code', 'ul', 'ol', 'li', 'blockquote', 'table', 'th', 'td', 'hr', 'section']) {
    assert.match(html, new RegExp(`<${tag} style="[^"]+"`), tag)
  }
  assert.doesNotMatch(html, /<h1/, 'the opening # Heading is the title, not repeated in the body')
})

test('code is highlighted with inline colours and its whitespace survives WeChat', () => {
  const code = highlightCode('if (x) {\n  return "a  b"\n}\n', 'js')
  assert.match(code, /<span style="color: #d73a49;">if<\/span>/)
  assert.match(code, /&nbsp;&nbsp;<span style="color: #d73a49;">return<\/span>/)
  assert.match(code, /a&nbsp;&nbsp;b/)
  assert.equal(code.split('<br>').length, 3)
  assert.doesNotMatch(code, /\n|class=/)
  assert.equal(highlightCode('<b> & "x"', 'no-such-language'), '&lt;b&gt;&nbsp;&amp;&nbsp;&quot;x&quot;')
})

test('external links become numbered references; WeChat links stay links', () => {
  const html = render('See [a](https://example.com/a), [b](https://example.com/b), [a again](https://example.com/a) and [post](https://mp.weixin.qq.com/s/abc).')
  assert.match(html, /a<\/span><sup[^>]*>\[1\]<\/sup>/)
  assert.match(html, /a again<\/span><sup[^>]*>\[1\]<\/sup>/)
  assert.match(html, /\[2\] https:\/\/example\.com\/b/)
  assert.match(html, /<a href="https:\/\/mp\.weixin\.qq\.com\/s\/abc" style=/)
  assert.doesNotMatch(html, /href="https:\/\/example/)
  assert.match(render('[x](https://example.com)', { linkReferences: false }), /<a href="https:\/\/example.com"/)
})

test('images: lines recorded, the URL substituted, a lone image gets its caption', () => {
  const parsed = parsePost('Intro\n\n![A cat](./cat.png)\n\nText with ![inline](./b.png) image\nand ![second line](./c.png)\n', 'p.md', 10)
  assert.deepEqual(parsed.images.map((i) => [i.src, i.line]), [['./cat.png', 13], ['./b.png', 15], ['./c.png', 16]])
  const html = renderPost(parsed, { imageUrl: (src) => `https://mmbiz.qpic.cn/${src.slice(2)}` })
  assert.match(html, /<img src="https:\/\/mmbiz\.qpic\.cn\/cat\.png" alt="A cat" style="[^"]+"><p style="[^"]+">A cat<\/p>/)
  assert.doesNotMatch(html, /\.\/b\.png/)
})

test('HTML WeChat strips is reported with its line; styled HTML passes', () => {
  const parsed = parsePost('ok\n\n<style>p{}</style>\n\ntext <span class="x">y</span>\n\n<div onclick="x()">z</div>\n\n<img src="https://example.com/x.png">\n\n<section style="color: red">fine</section>\n', 'p.md')
  assert.deepEqual(parsed.problems.map((p) => p.line), [3, 5, 7, 9])
  assert.match(parsed.problems[0]!.message, /^p\.md:3: <style> elements are removed/)
  assert.match(parsed.problems[3]!.message, /!\[alt\]\(https:\/\/example\.com\/x\.png\)/)
})

test('a line break between Chinese characters adds no space; between words it does', () => {
  assert.match(render('第一行\n第二行'), /第一行第二行/)
  assert.match(render('first\nsecond'), /first\nsecond/)
})

test('examples/post.md renders to the reviewed snapshot (UPDATE_SNAPSHOTS=1 rewrites it)', () => {
  const source = readFileSync(new URL('../../examples/post.md', import.meta.url), 'utf8')
  const { body, bodyLineOffset } = splitFrontMatter(source, 'post.md')
  const html = renderPost(parsePost(body, 'post.md', bodyLineOffset), { imageUrl: (src) => `https://mmbiz.qpic.cn/mmbiz_png/example/${src.split('/').pop()}` })
  const fixture = new URL('../../test/fixtures/publish/post.html', import.meta.url)
  if (process.env.UPDATE_SNAPSHOTS === '1') writeFileSync(fixture, html + '\n')
  assert.equal(html + '\n', readFileSync(fixture, 'utf8'))
})
