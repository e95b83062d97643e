/**
 * JSON parsing that keeps WeChat's 64-bit ids exact (protocol.md §0): an integer literal
 * beyond Number.MAX_SAFE_INTEGER becomes a string holding its exact digits, and the id fields
 * listed in ID_KEYS are always strings, so a `msgid` has one type whatever its size.
 */

/** Response fields that carry ids: always strings after parsing. */
export const ID_KEYS: ReadonlySet<string> = new Set(['msgid', 'msg_id', 'msg_data_id', 'menuid', 'publish_id'])

/** Quotes integer literals too large for a double; everything else is copied as is. */
function quoteUnsafeIntegers(text: string): string {
  let out = ''
  let copiedUpTo = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 0x5c /* \ */) i += 2
        else if (d === 0x22) break
        else i++
      }
      i++
      continue
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i
      i++
      while (i < n && /[0-9.eE+-]/.test(text[i]!)) i++
      const literal = text.slice(start, i)
      if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += text.slice(copiedUpTo, start) + '"' + literal + '"'
        copiedUpTo = i
      }
      continue
    }
    i++
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo)
}

function stringifyIds(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = stringifyIds(value[i])
    return value
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const v = record[key]
      record[key] = ID_KEYS.has(key) && typeof v === 'number' ? String(v) : stringifyIds(v)
    }
  }
  return value
}

/**
 * Parses a WeChat JSON response. Throws SyntaxError on malformed JSON (like JSON.parse).
 *
 * @example
 * parseWechatJson('{"errcode":0,"msgid":3487542469355618313}') // { errcode: 0, msgid: '3487542469355618313' }
 */
export function parseWechatJson<T = unknown>(text: string): T {
  // Long digit runs are rare: skip the scan when there is none.
  const parsed: unknown = JSON.parse(/\d{16}/.test(text) ? quoteUnsafeIntegers(text) : text)
  return stringifyIds(parsed) as T
}
