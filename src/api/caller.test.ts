import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { isWxmpError } from '../errors.js'
import type { FakeWechat } from '../testing/fake-wechat/index.js'
import { ROUTES } from '../testing/fake-wechat/routes.js'
import { useFakeWechat } from '../../test/support/use-fake-wechat.js'
import type { WechatApi } from './client.js'
import { WechatApiError } from './errors.js'

let fake: FakeWechat
let api: WechatApi
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])

describe('api.call with a form, api.raw', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)))

  test('api.call sends a multipart form to any upload endpoint (a file part and text fields)', async () => {
    const result = await api.call<{ media_id: string; url: string }>('/cgi-bin/material/add_material', undefined, {
      query: { type: 'image' },
      form: { media: { data: PNG, filename: 'logo.png' } },
    })
    assert.ok(result.media_id)
    const video = await api.call<{ media_id: string }>('/cgi-bin/material/add_material?type=video', undefined, {
      form: { media: new File([Buffer.from('mp4')], 'clip.mp4', { type: 'video/mp4' }), description: JSON.stringify({ title: 'T', introduction: 'I' }) },
    })
    const got = await api.material.get(video.media_id)
    assert.ok(got.kind === 'video' && got.title === 'T')
  })

  test('a form is rebuilt for the retry after a refused token', async () => {
    await api.token.get()
    fake.inject({ errcode: 40001, path: '/cgi-bin/media/uploadimg' })
    const { url } = await api.call<{ url: string }>('/cgi-bin/media/uploadimg', undefined, { form: { media: { data: PNG, filename: 'a.png' } } })
    assert.ok(url)
    assert.equal(fake.calls.filter((c) => c.path === '/cgi-bin/media/uploadimg').length, 2)
  })

  test('api.raw sends JSON text as given (64-bit numbers intact) and answers a file as bytes', async () => {
    const added = await api.material.add('image', PNG, 'p.png')
    const res = await api.raw('/cgi-bin/material/get_material', { body: `{"media_id":"${added.mediaId}"}` })
    assert.equal(res.kind, 'binary')
    assert.ok(res.kind === 'binary' && res.contentType === 'image/png' && (await res.buffer()).equals(PNG))
    // errcodes are still checked on raw calls
    await assert.rejects(api.raw('/cgi-bin/user/info/updateremark', { body: '{"openid":"oNobody000000001","remark":"x","n":12345678901234567890}' }), (err: unknown) => err instanceof WechatApiError && err.errcode === 40003)
    const json = await api.raw('/cgi-bin/get_api_domain_ip')
    assert.ok(json.kind === 'json' && Array.isArray(json.body.ip_list))
  })

  test('clearQuota resets a used-up quota (45009); getApiDomainIp lists the API hosts', async () => {
    fake.setQuota('/cgi-bin/menu/get', 0)
    await assert.rejects(api.call('/cgi-bin/menu/get'), (err: unknown) => err instanceof WechatApiError && err.errcode === 45009)
    await api.clearQuota()
    assert.deepEqual(fake.calls.at(-1)?.body, { appid: fake.appId })
    assert.ok((await api.getApiDomainIp()).length > 0)
  })

  test('bad combinations are refused before sending', async () => {
    const input = (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT')
    await assert.rejects(api.call('/x', { a: 1 }, { form: { a: 'b' } }), input)
    await assert.rejects(api.call('/x', undefined, { method: 'GET', form: { a: 'b' } }), input)
    await assert.rejects(api.raw('/x', { json: {}, body: '{}' }), input)
    await assert.rejects(api.call('/x', undefined, { form: { media: { data: 'text' as never, filename: 'a.png' } } }), input)
    await assert.rejects(api.call('/x', undefined, { form: { media: { data: PNG, filename: 'a"b.png' } } }), input)
    assert.equal(fake.calls.length, 0)
  })
})

test('the fake serves exactly the endpoints the client calls (no untested client path, no fake-only path)', () => {
  const dir = new URL('./', import.meta.url)
  const sources = [...readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => new URL(f, dir)), ...readdirSync(new URL('groups/', dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => new URL(`groups/${f}`, dir))]
  const client = new Set<string>()
  for (const file of sources) {
    for (const match of readFileSync(file, 'utf8').matchAll(/['`}](\/(?:cgi-bin|sns|wxaapi|customservice|datacube|cv|connect)\/[\w/]*\w)[?'`]/g)) client.add(match[1]!)
  }
  // datacube paths are built from the span table
  for (const name of Object.keys(ROUTES).filter((p) => p.startsWith('/datacube/'))) {
    if (readFileSync(new URL('groups/datacube.ts', dir), 'utf8').includes(`${name.slice('/datacube/'.length)}:`)) client.add(name)
  }
  const served = new Set(Object.keys(ROUTES))
  assert.deepEqual([...client].filter((p) => !served.has(p)).sort(), [], 'called by the client but not served by the fake')
  assert.deepEqual([...served].filter((p) => !client.has(p)).sort(), [], 'served by the fake but not called by the client')
})
