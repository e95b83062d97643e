/**
 * The smaller groups: the blacklist (20 OpenIDs per call, 40032), short keys (4 KB of data,
 * 30 days at most), statistics (date format 61500, range 61501; each day's figures are
 * derived from the date so answers are stable) and image intelligence (canned results).
 */
import { createHash, randomBytes } from 'node:crypto'
import { post, type Route } from '../route.js'
import type { FakeState } from '../state.js'
import type { FakeRequest, FakeResponse } from '../types.js'
import { isNonEmptyString, OPENID, ok, readJson, utf8Bytes } from './body.js'
import { wxError } from './errmsgs.js'
import { readUpload } from './form.js'

const blacklist = (state: FakeState) => state.area('blacklist', () => new Set<string>())

export function getBlacklist(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const all = [...blacklist(state)]
  const begin = parsed.body.begin_openid
  const start = isNonEmptyString(begin) ? all.indexOf(begin) + 1 : 0
  const page = all.slice(start, start + state.userPageSize)
  const more = start + page.length < all.length
  return { json: { total: all.length, count: page.length, ...(page.length === 0 ? {} : { data: { openid: page } }), next_openid: more ? page[page.length - 1] : '' } }
}

const batchBlacklist = (block: boolean) => (req: FakeRequest, state: FakeState): FakeResponse => {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const list = parsed.body.openid_list
  if (!Array.isArray(list) || list.length === 0 || list.length > 20) return state.error(40032)
  if (!list.every((o) => typeof o === 'string' && OPENID.test(o))) return state.error(40003)
  for (const openid of list as string[]) {
    if (block) blacklist(state).add(openid)
    else blacklist(state).delete(openid)
  }
  return ok()
}

const shortKeys = (state: FakeState) => state.area('short-keys', () => new Map<string, { long_data: string; createdAt: number; expireSeconds: number }>())

export function shortenGen(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { long_data, expire_seconds } = parsed.body
  if (!isNonEmptyString(long_data) || utf8Bytes(long_data) > 4096) return state.error(47001, 'data format error hint: [long_data must be 1 to 4096 bytes]')
  const expire = expire_seconds === undefined ? 2_592_000 : expire_seconds
  if (typeof expire !== 'number' || !Number.isInteger(expire) || expire < 1 || expire > 2_592_000) return state.error(47001, 'data format error hint: [expire_seconds must be 1 to 2592000]')
  const key = randomBytes(12).toString('base64url').slice(0, 16)
  shortKeys(state).set(key, { long_data, createdAt: state.now(), expireSeconds: expire })
  return ok({ short_key: key })
}

export function shortenFetch(req: FakeRequest, state: FakeState): FakeResponse {
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const entry = isNonEmptyString(parsed.body.short_key) ? shortKeys(state).get(parsed.body.short_key) : undefined
  const left = entry === undefined ? 0 : entry.expireSeconds - Math.floor((state.now() - entry.createdAt) / 1000)
  if (entry === undefined || left <= 0) return state.error(47003, 'argument invalid! short_key not found or expired')
  return ok({ long_data: entry.long_data, create_time: Math.floor(entry.createdAt / 1000), expire_seconds: left })
}

/** Maximum span per datacube endpoint (null: not documented, not checked). */
const SPANS: Record<string, number | null> = {
  getusersummary: 7, getusercumulate: 7, getarticlesummary: 1, getarticletotal: 1, getuserread: 3, getuserreadhour: 1, getusershare: 7, getusersharehour: 1,
  getupstreammsg: 7, getupstreammsghour: 1, getupstreammsgweek: 30, getupstreammsgmonth: 30, getupstreammsgdist: 15, getupstreammsgdistweek: 30, getupstreammsgdistmonth: 30,
  getinterfacesummary: 30, getinterfacesummaryhour: 1, getbizsummary: null, getarticletotaldetail: null,
}

/** A stable small number for (endpoint, date, salt). */
const figure = (...parts: string[]) => createHash('sha1').update(parts.join('|')).digest().readUInt16BE(0) % 500

function dayRow(endpoint: string, date: string): Record<string, unknown> {
  const n = (salt: string) => figure(endpoint, date, salt)
  switch (endpoint) {
    case 'getusersummary':
      return { ref_date: date, user_source: 0, new_user: n('new'), cancel_user: n('cancel') % 50 }
    case 'getusercumulate':
      return { ref_date: date, cumulate_user: 10_000 + n('total') }
    case 'getinterfacesummary':
      return { ref_date: date, callback_count: n('calls'), fail_count: n('fail') % 5, total_time_cost: n('calls') * 120, max_time_cost: 900 }
    case 'getupstreammsg':
      return { ref_date: date, msg_type: 1, msg_user: n('users'), msg_count: n('users') * 2 }
    case 'getbizsummary':
      return { ref_date: date, detail: { read_user: n('read'), share_user: n('share'), zaikan_user: n('zaikan'), like_user: n('like'), comment_count: n('comment') % 40 } }
    default:
      return { ref_date: date, count: n('count') }
  }
}

export function datacube(req: FakeRequest, state: FakeState): FakeResponse {
  const endpoint = req.path.slice('/datacube/'.length)
  const parsed = readJson(req, state)
  if ('error' in parsed) return parsed.error
  const { begin_date, end_date } = parsed.body
  const valid = (d: unknown): d is string => typeof d === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d + 'T00:00:00Z'))
  if (!valid(begin_date) || !valid(end_date)) return wxError(state, 61500)
  const days = (Date.parse(end_date) - Date.parse(begin_date)) / 86_400_000 + 1
  const yesterday = new Date(state.now() + 8 * 3_600_000 - 86_400_000).toISOString().slice(0, 10)
  const span = SPANS[endpoint]
  if (days < 1 || end_date > yesterday || (span !== null && span !== undefined && days > span)) return wxError(state, 61501)
  const list = Array.from({ length: days }, (_, i) => dayRow(endpoint, new Date(Date.parse(begin_date) + i * 86_400_000).toISOString().slice(0, 10)))
  return { json: endpoint === 'getbizsummary' || endpoint === 'getarticletotaldetail' ? { list, is_delay: false } : { list } }
}

const OCR_RESULTS: Record<string, Record<string, unknown>> = {
  '/cv/ocr/idcard': { type: 'Front', name: '张三', id: '110101199001011234', addr: '北京市东城区', gender: '男', nationality: '汉' },
  '/cv/ocr/bankcard': { number: '6222000000000000000' },
  '/cv/ocr/driving': { plate_num: '粤A12345', vehicle_type: '小型普通客车', owner: '张三' },
  '/cv/ocr/drivinglicense': { id_num: '110101199001011234', name: '张三', car_class: 'C1' },
  '/cv/ocr/bizlicense': { reg_num: '91440101MA5XXXXXXX', enterprise_name: '示例科技有限公司' },
  '/cv/ocr/comm': { items: [{ text: '示例文字', pos: { left_top: { x: 10, y: 10 }, right_top: { x: 90, y: 10 }, right_bottom: { x: 90, y: 30 }, left_bottom: { x: 10, y: 30 } } }], img_size: { w: 100, h: 40 } },
  '/cv/ocr/platenum': { number: '粤A12345' },
  '/cv/img/qrcode': { code_results: [{ type_name: 'QR_CODE', data: 'https://example.com' }], img_size: { w: 100, h: 100 } },
  '/cv/img/aicrop': { results: [{ crop_left: 0, crop_top: 0, crop_right: 100, crop_bottom: 60 }], img_size: { w: 100, h: 100 } },
}

export async function imageIntelligence(req: FakeRequest, state: FakeState): Promise<FakeResponse> {
  const url = req.query.get('img_url')
  if (url === null) {
    const upload = await readUpload(req, state, 'img')
    if ('error' in upload) return upload.error
    if (!['jpg', 'jpeg', 'png', 'bmp'].includes(upload.file.ext)) return wxError(state, 40137)
    if (upload.file.data.length === 0 || upload.file.data.length > 2 * 1024 * 1024) return state.error(40006)
  } else if (!/^https?:\/\/\S+$/i.test(url)) return wxError(state, 40066)
  if (req.path === '/cv/img/superresolution') return ok({ media_id: randomBytes(24).toString('base64url') })
  return ok(OCR_RESULTS[req.path] ?? {})
}

export const EXTRA_ROUTES: Record<string, Route> = {
  '/cgi-bin/tags/members/getblacklist': post(getBlacklist),
  '/cgi-bin/tags/members/batchblacklist': post(batchBlacklist(true)),
  '/cgi-bin/tags/members/batchunblacklist': post(batchBlacklist(false)),
  '/cgi-bin/shorten/gen': post(shortenGen),
  '/cgi-bin/shorten/fetch': post(shortenFetch),
  ...Object.fromEntries(Object.keys(SPANS).map((name) => [`/datacube/${name}`, post(datacube)])),
  ...Object.fromEntries([...Object.keys(OCR_RESULTS), '/cv/img/superresolution'].map((path) => [path, post(imageIntelligence)])),
}
