/**
 * End to end, as a user runs it: `wxmp fake-wechat` in one process, `wxmp publish
 * examples/post.md` in another, talking over HTTP. The post's images are uploaded, the draft
 * saved, the job submitted and followed, and the article URL printed; `wxmp draft` and
 * `wxmp material` then show what was made.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const CLI = fileURLToPath(new URL('./support/wxmp-cli.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'wxmp-publish-cli-'))
let fake: ChildProcess
let env: Record<string, string> = {}
let base = ''

function wxmp(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = { ...process.env }
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'WECHAT_APPID', 'WECHAT_APPSECRET', 'WECHAT_API_BASE', 'WECHAT_TOKEN']) delete inherited[name]
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: root, env: { ...inherited, WXMP_LOG_LEVEL: 'silent', ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

before(async () => {
  fake = spawn(process.execPath, ['--import', 'tsx', CLI, 'fake-wechat', '--port', '0', '--publish-delay', '1500'], { cwd: root, env: { ...process.env, WXMP_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    fake.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const line = /WECHAT_API_BASE=(\S+) WECHAT_APPID=(\S+) WECHAT_APPSECRET=(\S+)/.exec(out)
      if (line !== null) {
        base = line[1]!
        env = { WECHAT_API_BASE: line[1]!, WECHAT_APPID: line[2]!, WECHAT_APPSECRET: line[3]!, DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}` }
        resolve()
      }
    })
    fake.on('exit', (code) => reject(new Error(`fake-wechat exited with ${code}: ${out}`)))
  })
})

after(() => {
  fake.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
})

const calls = async () => ((await (await fetch(`${base}/__fake/calls`)).json()) as { calls: Array<{ path: string; errcode?: number }> }).calls

test('wxmp publish examples/post.md against wxmp fake-wechat: upload, draft, submit, status, URL printed', async () => {
  const run = await wxmp(['publish', 'examples/post.md'])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout.trim(), /^https:\/\/mp\.weixin\.qq\.com\/s\/[\w-]+$/)
  assert.match(run.stderr, /examples\/post\.md: "用 wxmp 发布公众号文章", 1 image to upload, cover \.\/images\/cover\.jpg/)
  assert.match(run.stderr, /uploading images 1\/1 \(flow\.png\)/)
  assert.match(run.stderr, /cover uploaded as permanent material/)
  assert.match(run.stderr, /draft saved: /)
  assert.match(run.stderr, /submitted: publish_id \d+/)
  assert.match(run.stderr, /publishing… \d+ s \(publish_status 1\)/)
  assert.match(run.stderr, /published: https:\/\/mp\.weixin\.qq\.com\/s\//)
  const paths = (await calls()).map((c) => c.path).filter((p) => !p.includes('token'))
  const order = ['/cgi-bin/media/uploadimg', '/cgi-bin/material/add_material', '/cgi-bin/draft/add', '/cgi-bin/freepublish/submit', '/cgi-bin/freepublish/get']
  assert.deepEqual(order.map((p) => paths.indexOf(p)).map((i, k, all) => i >= 0 && (k === 0 || i > all[k - 1]!)), [true, true, true, true, true], paths.join(' '))
  assert.equal(paths.at(-1), '/cgi-bin/freepublish/get')

  const again = await wxmp(['publish', 'examples/post.md'])
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout, run.stdout)
  assert.match(again.stderr, /already published, nothing changed/)
})

test('wxmp material list shows the cover; wxmp draft list is empty after publishing; --help never acts', async () => {
  const materials = await wxmp(['material', 'list'])
  assert.equal(materials.code, 0, materials.stderr)
  assert.match(materials.stdout, /^images 1 · voice 0 · video 0 · news 0$/m)
  assert.match(materials.stdout, /\.jpg {2}http:\/\/mmbiz\.qpic\.cn\//)
  const drafts = await wxmp(['draft', 'list'])
  assert.equal(drafts.stdout.trim(), '0 drafts')
  const before = (await calls()).length
  for (const command of [['publish', '--help'], ['draft', 'delete', 'x', '--help'], ['material', 'upload', 'examples/images/cover.jpg', '-h'], ['fake-wechat', '--help']]) {
    const help = await wxmp(command)
    assert.equal(help.code, 0, command.join(' '))
    assert.match(help.stdout, /^wxmp /, command.join(' '))
  }
  assert.equal((await calls()).length, before, '--help sent nothing')
})

test('a publish WeChat refuses prints the reason from the status and exits 1', async () => {
  await fetch(`${base}/__fake/publish-outcome`, { method: 'POST', body: JSON.stringify({ status: 4, failIdx: [1] }) })
  const run = await wxmp(['publish', 'examples/post.md', '--republish'])
  assert.equal(run.code, 1)
  assert.match(run.stderr, /WX_ERR_PUBLISH_FAILED: publish \d+: refused by the platform audit \(平台审核不通过\) \(articles 1\)/)
})

test('a post with problems exits 1 naming file and lines, and sends nothing', async () => {
  const before = (await calls()).length
  const run = await wxmp(['publish', 'test/fixtures/publish/broken.md'])
  assert.equal(run.code, 1)
  assert.match(run.stderr, /WX_ERR_POST_INVALID: test\/fixtures\/publish\/broken\.md:1: the post has no title/)
  assert.match(run.stderr, /broken\.md:3: image \.\/nowhere\.png not found/)
  assert.match(run.stderr, /broken\.md:5: <style> elements are removed by WeChat/)
  assert.equal((await calls()).length, before)
})
