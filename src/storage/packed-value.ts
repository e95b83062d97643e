/**
 * A compact binary form of JSON values, written straight into the arena: the dedup record (a
 * claim, or an answer with its XML body) costs one pass and one UTF-8 copy of the body, where
 * JSON.stringify and a UTF-8 write of its result cost three times as long. Decoding gives what
 * JSON.parse(JSON.stringify(value)) would. A value this form does not cover as JSON would (a
 * toJSON method, a class instance, a lone surrogate, deep nesting) is reported as not packable
 * and stored as JSON text instead.
 *
 *   0x00 null   0x01 false   0x02 true   0x03 f64   0x05 u32 length + UTF-8
 *   0x06 u32 count + items   0x07 u32 count + (key, value) pairs
 *   0x08 u8: a string of COMMON.  A key: 0x08 u8 (one of COMMON), or 0x05 u32 length + UTF-8
 */

const NULL = 0x00
const FALSE = 0x01
const TRUE = 0x02
const NUMBER = 0x03
const STRING = 0x05
const ARRAY = 0x06
const OBJECT = 0x07
const COMMON_STRING = 0x08

/**
 * Strings every dedup record repeats (its field names, states, the answer's headers), one byte
 * each. Part of the stored format: append only, never reorder.
 */
const COMMON = [
  'state', 'pending', 'done', 'since', 'owner', 'response', 'status', 'headers', 'body', 'content-type',
  'application/xml; charset=utf-8', 'text/plain; charset=utf-8', 'text/xml; charset=utf-8', 'success', 'deliveries', 'at',
] as const
const COMMON_INDEX = new Map<string, number>(COMMON.map((text, i) => [text, i]))
const MAX_DEPTH = 32

type Utf8Buffer = Buffer & { utf8Write(text: string, offset: number, maxBytes: number): number; utf8Slice(start: number, end: number): string }

const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

/** JSON leaves these out of objects (and writes null for them in arrays). */
const skipped = (value: unknown): boolean => value === undefined || typeof value === 'function' || typeof value === 'symbol'

/**
 * Most bytes `value` can take packed, or -1 when it is not packable (store it as JSON). Also
 * the check: whatever passes here, `writePacked` writes exactly as JSON would see it.
 */
export function packedBound(value: unknown, depth = 0): number {
  if (value === null) return 1
  switch (typeof value) {
    case 'boolean':
      return 1
    case 'number':
      return 9
    case 'string':
      return wellFormed(value) ? 5 + value.length * 3 : -1
    case 'object': {
      if (depth >= MAX_DEPTH) return -1
      if (Array.isArray(value)) {
        let total = 5
        for (let i = 0; i < value.length; i++) {
          const item = value[i] as unknown
          const size = skipped(item) ? 1 : packedBound(item, depth + 1)
          if (size < 0) return -1
          total += size
        }
        return total
      }
      const proto = Object.getPrototypeOf(value) as unknown
      if ((proto !== Object.prototype && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return -1
      let total = 5
      for (const key in value) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) continue
        const item = (value as Record<string, unknown>)[key]
        if (skipped(item)) continue
        if (!wellFormed(key)) return -1
        const size = packedBound(item, depth + 1)
        if (size < 0) return -1
        total += 5 + key.length * 3 + size
      }
      return total
    }
    default:
      return -1 // undefined, bigint, function, symbol: JSON decides (and refuses) them
  }
}

/** Writes a value `packedBound` accepted at `at`; returns the offset after it. */
export function writePacked(buf: Buffer, at: number, value: unknown): number {
  if (value === null) {
    buf[at] = NULL
    return at + 1
  }
  switch (typeof value) {
    case 'boolean':
      buf[at] = value ? TRUE : FALSE
      return at + 1
    case 'number':
      if (!Number.isFinite(value)) {
        buf[at] = NULL // as JSON writes NaN and Infinity
        return at + 1
      }
      buf[at] = NUMBER
      buf.writeDoubleLE(value === 0 ? 0 : value, at + 1) // -0 reads back as 0, as through JSON
      return at + 9
    case 'string': {
      const common = value.length <= 32 ? COMMON_INDEX.get(value) : undefined
      if (common !== undefined) {
        buf[at] = COMMON_STRING
        buf[at + 1] = common
        return at + 2
      }
      buf[at] = STRING
      return writeText(buf, at + 1, value)
    }
    default: {
      if (Array.isArray(value)) {
        buf[at] = ARRAY
        buf.writeUInt32LE(value.length, at + 1)
        let next = at + 5
        for (let i = 0; i < value.length; i++) next = writePacked(buf, next, skipped(value[i]) ? null : value[i])
        return next
      }
      buf[at] = OBJECT
      const countAt = at + 1
      let count = 0
      let next = at + 5
      for (const key in value as object) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) continue
        const item = (value as Record<string, unknown>)[key]
        if (skipped(item)) continue
        next = writePacked(buf, writeKey(buf, next, key), item)
        count++
      }
      buf.writeUInt32LE(count, countAt)
      return next
    }
  }
}

/** A key: one of COMMON in two bytes, any other as a string. */
function writeKey(buf: Buffer, at: number, key: string): number {
  const common = key.length <= 32 ? COMMON_INDEX.get(key) : undefined
  if (common !== undefined) {
    buf[at] = COMMON_STRING
    buf[at + 1] = common
    return at + 2
  }
  buf[at] = STRING
  return writeText(buf, at + 1, key)
}

function writeText(buf: Buffer, at: number, text: string): number {
  let length = 0
  // short ASCII (field names, states, ids) byte by byte: cheaper than a call into C++
  if (text.length <= 64) {
    for (; length < text.length; length++) {
      const c = text.charCodeAt(length)
      if (c >= 0x80) break
      buf[at + 4 + length] = c
    }
  }
  if (length < text.length) length = (buf as Utf8Buffer).utf8Write(text, at + 4, text.length * 3)
  buf.writeUInt32LE(length, at)
  return at + 4 + length
}

/** Reads the value packed in buf[start, end). */
export function readPacked(buf: Buffer, start: number, end: number): unknown {
  const reader = { at: start }
  const value = readValue(buf, reader)
  if (reader.at !== end) throw new Error('packed value has trailing bytes')
  return value
}

function readValue(buf: Buffer, reader: { at: number }): unknown {
  const tag = buf[reader.at++]
  switch (tag) {
    case NULL:
      return null
    case FALSE:
      return false
    case TRUE:
      return true
    case NUMBER: {
      const value = buf.readDoubleLE(reader.at)
      reader.at += 8
      return value
    }
    case STRING:
      return readText(buf, reader)
    case COMMON_STRING:
      return commonString(buf[reader.at++]!)
    case ARRAY: {
      const count = buf.readUInt32LE(reader.at)
      reader.at += 4
      const items: unknown[] = []
      for (let i = 0; i < count; i++) items.push(readValue(buf, reader))
      return items
    }
    case OBJECT: {
      const count = buf.readUInt32LE(reader.at)
      reader.at += 4
      const object: Record<string, unknown> = {}
      for (let i = 0; i < count; i++) {
        const key = readKey(buf, reader)
        // defineProperty: a "__proto__" key stays an own property, as JSON.parse makes it
        Object.defineProperty(object, key, { value: readValue(buf, reader), enumerable: true, writable: true, configurable: true })
      }
      return object
    }
    default:
      throw new Error(`packed value has an unknown tag ${String(tag)}`)
  }
}

function commonString(index: number): string {
  const text = COMMON[index]
  if (text === undefined) throw new Error(`packed value names an unknown common string ${index}`)
  return text
}

function readKey(buf: Buffer, reader: { at: number }): string {
  const tag = buf[reader.at++]
  if (tag === COMMON_STRING) return commonString(buf[reader.at++]!)
  if (tag !== STRING) throw new Error(`packed value has a key with an unknown tag ${String(tag)}`)
  return readText(buf, reader)
}

function readText(buf: Buffer, reader: { at: number }): string {
  const length = buf.readUInt32LE(reader.at)
  const start = reader.at + 4
  reader.at = start + length
  return (buf as Utf8Buffer).utf8Slice(start, start + length)
}
