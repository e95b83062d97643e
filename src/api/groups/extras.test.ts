import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../../errors.js'
import type { FakeWechat } from '../../testing/fake-wechat/index.js'
import { useFakeWechat } from '../../../test/support/use-fake-wechat.js'
import type { WechatApi } from '../client.js'
import { WechatApiError } from '../errors.js'
import { datacubeDate } from './datacube.js'

let fake: FakeWechat
let api: WechatApi
const clock = { now: Date.UTC(2026, 2, 15, 4) } // 12:00 in Beijing on 2026-03-15
const errcode = (code: number) => (err: unknown) => err instanceof WechatApiError && err.errcode === code
const input = (pattern: RegExp) => (err: unknown) => isWxmpError(err, 'WX_ERR_API_INPUT') && pattern.test((err as Error).message)

describe('api.blacklist, api.shortKey, api.datacube, api.ocr', () => {
  useFakeWechat((f, a) => ((fake = f), (api = a)), { now: () => clock.now })

  test('blacklist: block, list, unblock; 20 per call', async () => {
    await api.blacklist.block(['oBlocked00000001', 'oBlocked00000002'])
    assert.deepEqual((await api.blacklist.list()).openids, ['oBlocked00000001', 'oBlocked00000002'])
    await api.blacklist.unblock(['oBlocked00000001'])
    const page = await api.blacklist.list()
    assert.deepEqual([page.total, page.openids], [1, ['oBlocked00000002']])
    await assert.rejects(api.blacklist.block(Array.from({ length: 21 }, (_, i) => `oBlocked${String(i).padStart(8, '0')}`)), input(/1–20/))
    await assert.rejects(api.call('/cgi-bin/tags/members/batchblacklist', { openid_list: [] }), errcode(40032))
  })

  test('short keys: generate, fetch with the time left, expire', async () => {
    const key = await api.shortKey.generate('campaign=autumn&ref=poster-12', 3600)
    clock.now += 600_000
    const got = await api.shortKey.fetch(key)
    assert.deepEqual([got.long_data, got.expire_seconds], ['campaign=autumn&ref=poster-12', 3000])
    clock.now += 3_000_000
    await assert.rejects(api.shortKey.fetch(key), errcode(47003))
    await assert.rejects(api.shortKey.generate('x'.repeat(4097)), input(/4096/))
    await assert.rejects(api.shortKey.generate('x', 2_592_001), input(/expireSeconds/))
  })

  test('datacube: ranges per endpoint, ending yesterday in Beijing time', async () => {
    const users = await api.datacube.userSummary('2026-03-08', '2026-03-14')
    assert.equal(users.list.length, 7)
    assert.equal(users.list[0]?.ref_date, '2026-03-08')
    assert.equal((await api.datacube.interfaceSummary(new Date(Date.UTC(2026, 1, 14)), '2026-03-14')).list.length, 29)
    const biz = await api.datacube.bizSummary('2026-01-01', '2026-03-14')
    assert.equal(biz.is_delay, false)
    assert.ok(typeof biz.list[0]?.detail.read_user === 'number')
    await assert.rejects(api.datacube.userSummary('2026-03-07', '2026-03-14'), input(/at most 7 days, got 8/))
    await assert.rejects(api.datacube.articleSummary('2026-03-15', '2026-03-15'), input(/yesterday \(2026-03-14/))
    await assert.rejects(api.datacube.userSummary('2026-3-1', '2026-03-02'), input(/61500/))
    await assert.rejects(api.datacube.userSummary('2026-03-05', '2026-03-01'), input(/before/))
    await assert.rejects(api.call('/datacube/getusersummary', { begin_date: '2026-03-01', end_date: '2026-03-12' }), errcode(61501))
    await assert.rejects(api.call('/datacube/getusersummary', { begin_date: 'March', end_date: '2026-03-12' }), errcode(61500))
    assert.equal(datacubeDate(new Date(Date.UTC(2026, 2, 14, 17))), '2026-03-15')
  })

  test('ocr: by URL or by upload; the image is checked first', async () => {
    const card = await api.ocr.idCard({ url: 'https://example.com/id.jpg' })
    assert.equal(card.type, 'Front')
    assert.equal(fake.calls.at(-1)?.query.img_url, 'https://example.com/id.jpg')
    assert.equal(fake.calls.at(-1)?.query.type, 'photo')
    const text = await api.ocr.text({ data: Buffer.from([0x89, 0x50, 0x4e, 0x47]), filename: 'scan.png' })
    assert.equal(text.items[0]?.text, '示例文字')
    assert.ok((await api.ocr.superResolution({ url: 'https://example.com/a.png' })).media_id)
    assert.equal((await api.ocr.plateNumber({ url: 'https://example.com/p.jpg' })).number, '粤A12345')
    await assert.rejects(api.ocr.bankCard({ data: Buffer.alloc(2 * 1024 * 1024 + 1), filename: 'a.jpg' }), input(/2 MB/))
    await assert.rejects(api.ocr.bankCard({ data: Buffer.from('x'), filename: 'a.gif' }), input(/jpg, png or bmp/))
    await assert.rejects(api.ocr.bankCard({ url: 'file:///etc/passwd' }), input(/http/))
  })
})
