import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../errors.js'
import { PostErrors } from './post-error.js'
import { preparePost, previewPage } from './prepare-post.js'

const dir = mkdtempSync(join(tmpdir(), 'wxmp-prepare-'))
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 3)])
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 4)])
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBP'), Buffer.alloc(16)])
let server: Server
let base = ''
let closedPort = 0
before(async () => {
  writeFileSync(join(dir, 'a.png'), PNG)
  writeFileSync(join(dir, 'cover.jpg'), JPEG)
  writeFileSync(join(dir, 'pic.webp'), WEBP)
  writeFileSync(join(dir, 'fake.png'), 'not an image at all')
  server = createServer((req, res) => {
    if (req.url === '/remote.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG)
    else res.writeHead(404).end()
  })
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  closedPort = (probe.address() as AddressInfo).port
  await new Promise<void>((r) => probe.close(() => r()))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(() => {
  server.close()
  rmSync(dir, { recursive: true, force: true })
})

function post(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const problems = (err: unknown): string[] => (err instanceof PostErrors ? err.problems.map((p) => p.message) : [(err as Error).message])

test('a good post: title from the front matter, local and remote images loaded, cover given', async () => {
  const file = post('good.md', `---\ntitle: 好文章\ncover: ./cover.jpg\n---\n\nText ![a](./a.png) and ![r](${base}/remote.png) and ![cdn](https://mmbiz.qpic.cn/x/0?wx_fmt=png).\n`)
  const prepared = await preparePost(file)
  assert.equal(prepared.title, '好文章')
  assert.deepEqual([...prepared.images.keys()], ['./a.png', `${base}/remote.png`])
  assert.equal(prepared.cover.format, 'jpeg')
  assert.match(prepared.contentHash, /^[0-9a-f]{64}$/)
  const page = previewPage(prepared)
  assert.match(page, /<img src="data:image\/png;base64,/)
  assert.match(page, /https:\/\/mmbiz\.qpic\.cn\/x\/0\?wx_fmt=png/)
})

test('without a cover the first image is the cover; the title may come from the first # Heading', async () => {
  const prepared = await preparePost(post('h1.md', '# 标题在这里\n\n![a](./a.png)\n'))
  assert.equal(prepared.title, '标题在这里')
  assert.equal(prepared.cover.src, './a.png')
})

test('no title: named, with where to put one', async () => {
  await assert.rejects(preparePost(post('untitled.md', 'Just text\n\n![a](./a.png)\n')), (err: unknown) => isWxmpError(err, 'WX_ERR_POST_INVALID') && /untitled\.md:1: the post has no title/.test((err as Error).message))
})

test('every problem is reported at once with its line: missing, unreachable, wrong format, not an image, no cover', async () => {
  const file = post('bad.md', [
    '---', 'title: 有问题的文章', '---', '', '![gone](./missing.png)', '', `![404](${base}/nope.png)`, '', `![closed](http://127.0.0.1:${closedPort}/x.png)`, '', '![webp](./pic.webp)', '', '![text](./fake.png)', '',
  ].join('\n'))
  const err = await preparePost(file).catch((e: unknown) => e)
  const list = problems(err)
  assert.match(list[0]!, /bad\.md:5: image \.\/missing\.png not found \(looked at .*missing\.png\)/)
  assert.match(list[1]!, /bad\.md:7: could not download the image .*nope\.png: HTTP 404/)
  assert.match(list[2]!, /bad\.md:9: could not download the image http:\/\/127\.0\.0\.1:\d+\/x\.png: ECONNREFUSED/)
  assert.match(list[3]!, /bad\.md:11: image \.\/pic\.webp is WEBP: WeChat accepts JPEG, PNG, GIF and BMP/)
  assert.match(list[4]!, /bad\.md:13: image \.\/fake\.png is not an image WeChat knows/)
  assert.ok(list.some((m) => /no cover image|not found/.test(m)))
})

test('limits WeChat would refuse are named before anything is sent: title, author, digest length, a file over 10 MB', async () => {
  writeFileSync(join(dir, 'huge.png'), Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]))
  const file = post('long.md', `---\ntitle: ${'长'.repeat(33)}\nauthor: ${'a'.repeat(17)}\ndigest: ${'d'.repeat(129)}\n---\n\n![big](./huge.png)\n`)
  const list = problems(await preparePost(file).catch((e: unknown) => e))
  assert.match(list[0]!, /long\.md:2: the title is 33 characters: WeChat takes at most 32/)
  assert.match(list[1]!, /long\.md:3: author is 17 characters: WeChat takes at most 16/)
  assert.match(list[2]!, /long\.md:4: digest is 129 characters: WeChat takes at most 128/)
  assert.match(list[3]!, /long\.md:7: image \.\/huge\.png is \d+ bytes: WeChat takes images up to 10 MB/)
})

test('HTML WeChat strips stops the post, naming the line', async () => {
  const file = post('html.md', '---\ntitle: x\ncover: ./cover.jpg\n---\n\nText\n\n<div class="fancy">x</div>\n')
  await assert.rejects(preparePost(file), /html\.md:8: class attributes are removed by WeChat/)
})
