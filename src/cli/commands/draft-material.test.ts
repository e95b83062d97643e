/** `wxmp draft` and `wxmp material` against the fake WeChat server, through the CLI's config path. */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isWxmpError } from '../../errors.js'
import { loadConfig, type WxmpConfig } from '../../server/config.js'
import { startFakeWechat, type FakeWechat } from '../../testing/fake-wechat/index.js'
import { runDraftCommand } from './draft.js'
import { runMaterialCommand } from './material.js'
import { runPublishCommand } from './publish.js'

let fake: FakeWechat
let dir: string
let config: WxmpConfig
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)])

type Command = (argv: string[], ctx: { config: WxmpConfig; print: (l: string) => void; printErr?: (l: string) => void }) => Promise<number>
async function run(command: Command, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await command(argv, { config, print: (l) => out.push(l), printErr: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('wxmp draft and wxmp material', () => {
  before(async () => {
    fake = await startFakeWechat()
    dir = mkdtempSync(join(tmpdir(), 'wxmp-cli-draft-'))
    writeFileSync(join(dir, 'cover.jpg'), JPEG)
    writeFileSync(join(dir, 'song.mp3'), Buffer.from('ID3 fake'))
    writeFileSync(join(dir, 'clip.mp4'), Buffer.from('mp4'))
    writeFileSync(join(dir, 'notes.txt'), 'x')
    writeFileSync(join(dir, 'post.md'), '---\ntitle: CLI 草稿\ncover: ./cover.jpg\n---\n\n正文\n')
    config = loadConfig(
      { WECHAT_TOKEN: 'clitoken', WECHAT_APPID: fake.appId, WECHAT_APPSECRET: fake.appSecret, WECHAT_API_BASE: fake.url, DATABASE_URL: `sqlite:${join(dir, 'wxmp.db')}` },
      { dotenv: false, cwd: dir },
    )
  })
  after(async () => {
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('material upload (type from the extension), list with counts, delete', async () => {
    const image = await run(runMaterialCommand, ['upload', join(dir, 'cover.jpg')])
    assert.equal(image.code, 0)
    const [mediaId, url] = image.out.split(/\s+/)
    assert.match(url ?? '', /^http:\/\/mmbiz\.qpic\.cn\//)
    assert.equal((await run(runMaterialCommand, ['upload', join(dir, 'song.mp3')])).code, 0)
    assert.equal((await run(runMaterialCommand, ['upload', join(dir, 'clip.mp4'), '--title', '演示', '--introduction', '一段'])).code, 0)
    const list = await run(runMaterialCommand, ['list'])
    assert.match(list.out, /^images 1 · voice 1 · video 1 · news 0$/m)
    assert.match(list.out, new RegExp(`^${mediaId}  .*cover\\.jpg  http`, 'm'))
    assert.match((await run(runMaterialCommand, ['list', 'voice', '--json'])).out, /"voice_count": 1/)
    assert.deepEqual(await run(runMaterialCommand, ['delete', mediaId!]), { code: 0, out: `deleted material ${mediaId}`, err: '' })
    assert.match((await run(runMaterialCommand, ['list'])).out, /^images 0/m)
  })

  test('an id that begins with "-" (base64url: one in 64) is an id, for material and draft alike', async () => {
    // WeChat answers for an id it does not know; the command line must not refuse it as an option first
    for (const [command, argv] of [[runMaterialCommand, ['delete', '-4AbUnknownId']], [runDraftCommand, ['delete', '-4AbUnknownId']], [runDraftCommand, ['show', '-4AbUnknownId']]] as const) {
      await assert.rejects(run(command, [...argv]), (err: unknown) => isWxmpError(err) && !/Unknown option/.test((err as Error).message))
    }
  })

  test('material upload refuses before sending: unknown type, a video without --title, a missing file', async () => {
    const before = fake.calls.length
    await assert.rejects(run(runMaterialCommand, ['upload', join(dir, 'notes.txt')]), (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && /--type/.test((err as Error).message))
    await assert.rejects(run(runMaterialCommand, ['upload', join(dir, 'clip.mp4')]), /--title/)
    await assert.rejects(run(runMaterialCommand, ['upload', join(dir, 'none.jpg')]), /no such file/)
    assert.equal(fake.calls.length, before)
    assert.equal((await run(runMaterialCommand, ['frobnicate'])).code, 2)
  })

  test('draft list, show, delete; a deleted draft is recreated by the next wxmp publish --draft', async () => {
    const first = await run(runPublishCommand as Command, [join(dir, 'post.md'), '--draft'])
    assert.equal(first.code, 0)
    const mediaId = first.out.trim()
    const list = await run(runDraftCommand, ['list'])
    assert.match(list.out, new RegExp(`^1 draft\\n${mediaId}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d  CLI 草稿$`))
    const show = await run(runDraftCommand, ['show', mediaId, '--html'])
    assert.match(show.out, /^\[0\] CLI 草稿/)
    assert.match(show.out, /comments: off/)
    assert.match(show.out, /<p style="[^"]+">正文<\/p>/)
    assert.equal((await run(runDraftCommand, ['delete', mediaId])).out, `deleted draft ${mediaId}`)
    assert.match((await run(runDraftCommand, ['list'])).out, /^0 drafts$/)
    const second = await run(runPublishCommand as Command, [join(dir, 'post.md'), '--draft'])
    assert.notEqual(second.out.trim(), mediaId)
    assert.equal(fake.calls.filter((c) => c.path === '/cgi-bin/draft/update').length, 0, 'the forgotten draft is not updated')
    assert.equal((await run(runDraftCommand, ['show'])).code, 2)
  })

  test('--preview writes a page and sends nothing', async () => {
    const before = fake.calls.length
    const out = join(dir, 'preview.html')
    const result = await run(runPublishCommand as Command, [join(dir, 'post.md'), '--preview', out])
    assert.equal(result.code, 0)
    assert.match(result.out, /nothing was sent/)
    assert.equal(fake.calls.length, before)
  })
})
