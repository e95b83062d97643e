/**
 * Long text replies in pages. A passive text reply may be at most 2048 bytes of UTF-8; a longer
 * answer (an LLM's, typically) is cut into pages that each fit with their footer ("（回复"继续"
 * 查看剩余 N 页）"). Cuts fall only between grapheme clusters (Intl.Segmenter), so no UTF-8
 * sequence, surrogate pair, emoji or combining sequence is ever split, and the pages joined
 * give back the text exactly. Among the places a page could end, the best is taken: a blank
 * line, then a line break, a sentence end, a word boundary, and only then any grapheme.
 *
 * Intl.Segmenter (in Node's ICU, no dependency) is the standard for this: it knows grapheme
 * clusters (ZWJ emoji sequences, flags, skin tones, Hangul jamo), sentence ends in Chinese and
 * English, and Chinese word boundaries from ICU's dictionary.
 */

/** A boundary's quality: where a page would best end. */
const enum Break {
  Grapheme = 0,
  Word = 1,
  Sentence = 2,
  Line = 3,
  Paragraph = 4,
}

export interface PagingOptions {
  /** Largest page in UTF-8 bytes, footer included. Default 2048 (WeChat's passive text limit). */
  maxBytes?: number
  /** The footer of a page that has `remaining` pages after it; '' for none. */
  footer?: (remaining: number) => string
  /** At most this many pages; text beyond them is cut (and `truncated` says so). Default 100. */
  maxPages?: number
  /** Locale for sentence and word boundaries. Default 'zh'. */
  locale?: string
}

export interface Paged {
  /** The text of each page, without footers: joined, they are the text (unless truncated). */
  pages: string[]
  /** Each page as the user sees it: the page and, when more follow, "\n" and its footer. */
  display: string[]
  truncated: boolean
}

export const PASSIVE_TEXT_LIMIT_BYTES = 2048

/** A page should be at least this full before it ends on a weaker boundary than the best possible. */
const MIN_FILL = 0.5

/**
 * Splits `text` into pages that fit `maxBytes` with their footers.
 *
 * @example
 * const { display } = pageText(answer, { footer: (n) => `（回复"继续"查看剩余 ${n} 页）` })
 * display[0] // the first ≤ 2048 bytes, ending at a paragraph or sentence, then the footer
 */
export function pageText(text: string, options: PagingOptions = {}): Paged {
  const maxBytes = options.maxBytes ?? PASSIVE_TEXT_LIMIT_BYTES
  const footer = options.footer ?? (() => '')
  const maxPages = options.maxPages ?? 100
  if (Buffer.byteLength(text) <= maxBytes) return { pages: [text], display: [text], truncated: false }
  // room for "\n" + the longest footer a page can get (the count's digits vary)
  const reserve = Buffer.byteLength('\n' + footer(10 ** String(maxPages).length - 1))
  const budget = maxBytes - reserve
  if (budget < 16) throw new RangeError(`page footer too long: it leaves ${budget} bytes of a ${maxBytes}-byte page`)
  const segmenters = segmentersFor(options.locale ?? 'zh')
  const pages: string[] = []
  let start = 0
  let truncated = false
  while (start < text.length) {
    if (pages.length === maxPages) {
      truncated = true
      break
    }
    // Only a window a little longer than the longest possible page is segmented: Intl.Segmenter
    // is superlinear on long strings (80 000 characters took 28 s with the event loop blocked).
    const units = segmentUnits(text, start, Math.min(text.length, fitting(text, start, budget) + WINDOW_MARGIN), segmenters)
    const end = pageEnd(units, 0, budget)
    const page = units.slice(0, end).map((u) => u.text).join('')
    pages.push(page)
    start += page.length
  }
  const display = pages.map((page, i) => {
    const remaining = pages.length - 1 - i
    const note = remaining > 0 ? footer(remaining) : ''
    // always one "\n" before the footer, so a page can be read back exactly
    return note === '' ? page : `${page}\n${note}`
  })
  return { pages, display, truncated }
}

interface Unit {
  text: string
  bytes: number
  /** The quality of the boundary after this unit. */
  after: Break
}

/**
 * Characters segmented past the longest possible page: the context that decides the boundaries
 * near the page's end (the character after a cluster, what follows a full stop).
 */
const WINDOW_MARGIN = 256

/** The offset where the text from `start` passes `budget` UTF-8 bytes (or its end). */
function fitting(text: string, start: number, budget: number): number {
  let bytes = 0
  let i = start
  while (i < text.length && bytes <= budget) {
    const c = text.charCodeAt(i)
    // a surrogate counts 2 (a pair is 4 bytes; a lone one, 3, is counted low: the window only grows)
    bytes += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3
    i++
  }
  return i
}

interface Segmenters {
  grapheme: Intl.Segmenter
  word: Intl.Segmenter
  sentence: Intl.Segmenter
}

function segmentersFor(locale: string): Segmenters {
  return {
    grapheme: new Intl.Segmenter(locale, { granularity: 'grapheme' }),
    word: new Intl.Segmenter(locale, { granularity: 'word' }),
    sentence: new Intl.Segmenter(locale, { granularity: 'sentence' }),
  }
}

/**
 * text[from, to) as grapheme clusters (a cluster too long for a page is cut at code points),
 * each with the boundary after it. `from` is always a page end, so a boundary there.
 */
function segmentUnits(text: string, from: number, to: number, segmenters: Segmenters): Unit[] {
  const window = text.slice(from, to)
  const sentenceEnds = boundaries(window, from, segmenters.sentence)
  const wordEnds = boundaries(window, from, segmenters.word)
  const units: Unit[] = []
  let offset = from
  for (const { segment } of segmenters.grapheme.segment(window)) {
    offset += segment.length
    const after = segment === '\n' || segment === '\r\n' ? (text.startsWith('\n', offset) || text.startsWith('\r\n', offset) ? Break.Line : lineBreakKind(text, offset)) : sentenceEnds.has(offset) ? Break.Sentence : wordEnds.has(offset) ? Break.Word : Break.Grapheme
    const bytes = Buffer.byteLength(segment)
    if (bytes <= 512) {
      units.push({ text: segment, bytes, after })
      continue
    }
    // a pathological cluster (thousands of combining marks): whole code points, never halves
    const points = [...segment]
    points.forEach((point, i) => units.push({ text: point, bytes: Buffer.byteLength(point), after: i === points.length - 1 ? after : Break.Grapheme }))
  }
  return units
}

/** After a line break: a paragraph when the line before it was blank, else a line. */
function lineBreakKind(text: string, offset: number): Break {
  const before = text.slice(Math.max(0, offset - 4), offset)
  return /\n\s*\n$/.test(before) || /\r\n\r\n$/.test(before) ? Break.Paragraph : Break.Line
}

/** Where the segments of `window` (which starts at `from` in the text) end, as offsets in the text. */
function boundaries(window: string, from: number, segmenter: Intl.Segmenter): Set<number> {
  const ends = new Set<number>()
  for (const { index, segment } of segmenter.segment(window)) ends.add(from + index + segment.length)
  return ends
}

/** Where the page starting at unit `start` ends: the best boundary that keeps it within `budget` bytes. */
function pageEnd(units: readonly Unit[], start: number, budget: number): number {
  let bytes = 0
  let end = start
  // the best boundary seen so far for each quality, and the page size there
  const best: Array<{ at: number; bytes: number } | undefined> = []
  while (end < units.length && bytes + units[end]!.bytes <= budget) {
    bytes += units[end]!.bytes
    const unit = units[end]!
    end++
    for (let q = unit.after; q >= Break.Grapheme; q--) best[q] = { at: end, bytes }
  }
  if (end === units.length) return end
  if (end === start) return start + 1 // cannot happen with a sane budget; progress over perfection
  for (let q = Break.Paragraph; q > Break.Grapheme; q--) {
    const at = best[q]
    if (at !== undefined && at.bytes >= budget * MIN_FILL) return at.at
  }
  return end
}
