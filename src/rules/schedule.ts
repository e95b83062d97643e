/**
 * Time windows ("working hours") of a rule, in the rule's time zone. The local weekday and
 * time come from Intl (one cached formatter per zone), so daylight-saving zones work too.
 */
import { WEEKDAYS, type RuleSchedule, type Weekday } from './types.js'

export const DEFAULT_TIMEZONE = 'Asia/Shanghai'

const HHMM = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/

/** Minutes since midnight for `HH:MM` (00:00–23:59, and 24:00 for the end of the day), else undefined. */
export function parseHHMM(value: string): number | undefined {
  const m = HHMM.exec(value)
  if (m === null) return undefined
  return m[3] === undefined ? Number(m[1]) * 60 + Number(m[2]) : 1440
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** The formatter for a zone; throws RangeError for a zone Intl does not know. */
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    formatters.set(timezone, formatter)
  }
  return formatter
}

export function isKnownTimezone(timezone: string): boolean {
  try {
    formatterFor(timezone)
    return true
  } catch {
    return false
  }
}

/** Weekday index (0 = Sunday) and minutes since midnight at `now` in `timezone`. */
export function localTime(now: number, timezone: string): { day: number; minute: number } {
  let day = 0
  let hour = 0
  let minute = 0
  for (const part of formatterFor(timezone).formatToParts(now)) {
    if (part.type === 'weekday') day = WEEKDAYS.indexOf(part.value.slice(0, 3).toLowerCase() as Weekday)
    else if (part.type === 'hour') hour = Number(part.value)
    else if (part.type === 'minute') minute = Number(part.value)
  }
  return { day, minute: hour * 60 + minute }
}

interface Window {
  days: ReadonlySet<number>
  from: number
  to: number
}

/** A checked schedule, ready to answer "is the rule active now?". */
export class CompiledSchedule {
  private readonly timezone: string
  private readonly windows: Window[]

  constructor(schedule: RuleSchedule) {
    this.timezone = schedule.timezone ?? DEFAULT_TIMEZONE
    formatterFor(this.timezone)
    this.windows = schedule.windows.map((w) => ({
      days: new Set((w.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d))),
      from: parseHHMM(w.from) ?? 0,
      to: parseHHMM(w.to) ?? 0,
    }))
  }

  isOpen(now: number): boolean {
    const { day, minute } = localTime(now, this.timezone)
    const yesterday = (day + 6) % 7
    for (const w of this.windows) {
      if (w.from < w.to) {
        if (w.days.has(day) && minute >= w.from && minute < w.to) return true
      } else {
        // past midnight: the evening part belongs to its day, the morning part to the day before
        if (w.days.has(day) && minute >= w.from) return true
        if (w.days.has(yesterday) && minute < w.to) return true
      }
    }
    return false
  }
}
