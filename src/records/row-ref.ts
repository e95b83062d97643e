/**
 * A message-log row's reference, known before the row is written: its retry key (the AppID, the
 * CreateTime and the dedup key) in one string, `log@<AppID length>:<AppID><CreateTime>:<dedup key>`.
 * The appended log on SQLite (src/records/logged-recorder.ts) and the batched log on PostgreSQL
 * (src/records/pg-batch.ts) hand it out, so that a message's outcome can go in the same write as
 * the message. A pending answer may keep one in the shared store, so the form from before
 * migration 6 (`log:`, without the CreateTime) is still read.
 */

const REF = 'log@'
const KEY_REF = 'log:'

export interface RetryKey {
  appId: string
  /** Undefined in a reference from before migration 6. */
  createTime: number | undefined
  msgKey: string
}

export function rowRefOf(entry: { appId: string; createTime: number; msgKey: string }): string {
  return `${REF}${entry.appId.length}:${entry.appId}${entry.createTime}:${entry.msgKey}`
}

/** Whether `id` has a reference's form (a row id is a number, or digits). */
export function isRowRef(id: string | number): id is string {
  return typeof id === 'string' && (id.startsWith(REF) || id.startsWith(KEY_REF))
}

/** The retry key a reference names (no CreateTime in one from before migration 6); undefined when it is no reference. */
export function retryKeyOf(id: string): RetryKey | undefined {
  const timed = id.startsWith(REF)
  if (!timed && !id.startsWith(KEY_REF)) return undefined
  const colon = id.indexOf(':', REF.length)
  const length = wholeNumber(id.slice(REF.length, colon))
  if (colon === -1 || length === undefined || colon + 1 + length > id.length) return undefined
  const appId = id.slice(colon + 1, colon + 1 + length)
  if (!timed) return { appId, createTime: undefined, msgKey: id.slice(colon + 1 + length) }
  const timeEnd = id.indexOf(':', colon + 1 + length)
  const createTime = timeEnd === -1 ? undefined : wholeNumber(id.slice(colon + 1 + length, timeEnd))
  return createTime === undefined ? undefined : { appId, createTime, msgKey: id.slice(timeEnd + 1) }
}

/** A count written in decimal digits (hot path: no regular expression). */
function wholeNumber(text: string): number | undefined {
  if (text === '' || text.length > 15) return undefined
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  return Number(text)
}

