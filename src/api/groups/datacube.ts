/**
 * Statistics (数据统计): followers, articles, messages and API calls per day or hour. Each
 * endpoint takes a date range (YYYY-MM-DD, Beijing dates, ending yesterday at the latest)
 * no longer than its own maximum span; wxmp checks both before asking.
 */
import type { ApiCaller } from '../caller.js'
import { invalidInput } from './input.js'

/** Endpoint name → the longest range it accepts, in days (null: not documented, not checked). */
export const DATACUBE_SPANS = {
  getusersummary: 7,
  getusercumulate: 7,
  getarticlesummary: 1,
  getarticletotal: 1,
  getuserread: 3,
  getuserreadhour: 1,
  getusershare: 7,
  getusersharehour: 1,
  getupstreammsg: 7,
  getupstreammsghour: 1,
  getupstreammsgweek: 30,
  getupstreammsgmonth: 30,
  getupstreammsgdist: 15,
  getupstreammsgdistweek: 30,
  getupstreammsgdistmonth: 30,
  getinterfacesummary: 30,
  getinterfacesummaryhour: 1,
  // the newer endpoints document no maximum span: none is checked
  getbizsummary: null,
  getarticletotaldetail: null,
} as const satisfies Record<string, number | null>

export type DatacubeEndpoint = keyof typeof DATACUBE_SPANS
export type DateInput = string | Date

const DAY_MS = 86_400_000
const BEIJING_OFFSET_MS = 8 * 3_600_000

/** A Date or YYYY-MM-DD as the YYYY-MM-DD WeChat wants (a Date is read in Beijing time). */
export function datacubeDate(value: DateInput, name = 'date'): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) invalidInput(`${name} is an invalid Date`)
    return new Date(value.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10)
  }
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value + 'T00:00:00Z')) || new Date(value + 'T00:00:00Z').toISOString().slice(0, 10) !== value) {
    invalidInput(`${name} must be a date like 2026-01-31 (WeChat answers 61500), got ${JSON.stringify(value)}`)
  }
  return value
}

export interface DatacubeResult<T = Record<string, unknown>> {
  list: T[]
  /** getbizsummary: the data of the last days may still change. */
  is_delay?: boolean
}

/**
 * @example
 * const { list } = await api.datacube.userSummary('2026-01-01', '2026-01-07')
 * const { list: calls } = await api.datacube.query('getinterfacesummary', '2026-01-01', '2026-01-30')
 */
export class DatacubeApi {
  constructor(private readonly api: ApiCaller) {}

  /** Any datacube endpoint by name, with its range checked. */
  async query<T = Record<string, unknown>>(endpoint: DatacubeEndpoint, begin: DateInput, end: DateInput): Promise<DatacubeResult<T>> {
    const span = DATACUBE_SPANS[endpoint]
    if (!Object.prototype.hasOwnProperty.call(DATACUBE_SPANS, endpoint)) invalidInput(`unknown datacube endpoint ${JSON.stringify(endpoint)}: one of ${Object.keys(DATACUBE_SPANS).join(', ')}`)
    const beginDate = datacubeDate(begin, 'begin date')
    const endDate = datacubeDate(end, 'end date')
    const days = (Date.parse(endDate) - Date.parse(beginDate)) / DAY_MS + 1
    if (days < 1) invalidInput(`the end date ${endDate} is before the begin date ${beginDate} (WeChat answers 61501)`)
    if (span !== null && days > span) invalidInput(`${endpoint} takes at most ${span} day${span === 1 ? '' : 's'}, got ${days} (${beginDate} … ${endDate}; WeChat answers 61501)`)
    const yesterday = new Date(this.api.now() + BEIJING_OFFSET_MS - DAY_MS).toISOString().slice(0, 10)
    if (endDate > yesterday) invalidInput(`the end date ${endDate} must be yesterday (${yesterday}, Beijing time) or earlier: today's data is not ready`)
    const result = await this.api.call<Partial<DatacubeResult<T>>>(`/datacube/${endpoint}`, { begin_date: beginDate, end_date: endDate }, { idempotent: true })
    return { list: result.list ?? [], ...(result.is_delay === undefined ? {} : { is_delay: result.is_delay }) }
  }

  /** New and lost followers per day and source (≤ 7 days). */
  userSummary(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; user_source: number; new_user: number; cancel_user: number }>('getusersummary', begin, end)
  }

  /** Total followers per day (≤ 7 days). */
  userCumulate(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; cumulate_user: number }>('getusercumulate', begin, end)
  }

  /** Reads and shares of each article sent that day (1 day). */
  articleSummary(begin: DateInput, end: DateInput) {
    return this.query('getarticlesummary', begin, end)
  }

  /** Totals of each article over its first 7 days (1 day). */
  articleTotal(begin: DateInput, end: DateInput) {
    return this.query('getarticletotal', begin, end)
  }

  userRead(begin: DateInput, end: DateInput) {
    return this.query('getuserread', begin, end)
  }

  userReadHour(begin: DateInput, end: DateInput) {
    return this.query('getuserreadhour', begin, end)
  }

  userShare(begin: DateInput, end: DateInput) {
    return this.query('getusershare', begin, end)
  }

  userShareHour(begin: DateInput, end: DateInput) {
    return this.query('getusersharehour', begin, end)
  }

  /** Messages users sent, per day (≤ 7 days); `…Hour`, `…Week`, `…Month`, `…Dist…` below. */
  upstreamMsg(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; msg_type: number; msg_user: number; msg_count: number }>('getupstreammsg', begin, end)
  }

  upstreamMsgHour(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsghour', begin, end)
  }

  upstreamMsgWeek(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsgweek', begin, end)
  }

  upstreamMsgMonth(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsgmonth', begin, end)
  }

  upstreamMsgDist(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsgdist', begin, end)
  }

  upstreamMsgDistWeek(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsgdistweek', begin, end)
  }

  upstreamMsgDistMonth(begin: DateInput, end: DateInput) {
    return this.query('getupstreammsgdistmonth', begin, end)
  }

  /** Calls to your webhook: count, failures, time spent (≤ 30 days). */
  interfaceSummary(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; callback_count: number; fail_count: number; total_time_cost: number; max_time_cost: number }>('getinterfacesummary', begin, end)
  }

  interfaceSummaryHour(begin: DateInput, end: DateInput) {
    return this.query('getinterfacesummaryhour', begin, end)
  }

  /** The newer summary of everything published: reads, shares, likes, comments per day. */
  bizSummary(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; detail: Record<string, unknown> }>('getbizsummary', begin, end)
  }

  /** The newer per-article data: each article published in the range, with its daily totals (msgid = msg_data_id_index). */
  articleTotalDetail(begin: DateInput, end: DateInput) {
    return this.query<{ ref_date: string; msgid: string; publish_type: number; detail_list: Array<Record<string, unknown>> }>('getarticletotaldetail', begin, end)
  }
}
