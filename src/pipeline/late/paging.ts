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
  const units = segmentUnits(text, options.locale ?? 'zh')
  const pages: string[] = []
  let start = 0
  let truncated = false
  while (start < units.length) {
    if (pages.length === maxPages) {
      truncated = true
      break
    }
    const end = pageEnd(units, start, budget)
    pages.push(units.slice(start, end).map((u) => u.text).join(''))
    start = end
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

/** The text as grapheme clusters (a cluster too long for a page is cut at code points), each with the boundary after it. */
function segmentUnits(text: string, locale: string): Unit[] {
  const sentenceEnds = boundaries(text, new Intl.Segmenter(locale, { granularity: 'sentence' }))
  const wordEnds = boundaries(text, new Intl.Segmenter(locale, { granularity: 'word' }))
  const units: Unit[] = []
  let offset = 0
  for (const { segment } of new Intl.Segmenter(locale, { granularity: 'grapheme' }).segment(text)) {
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

function boundaries(text: string, segmenter: Intl.Segmenter): Set<number> {
  const ends = new Set<number>()
  for (const { index, segment } of segmenter.segment(text)) ends.add(index + segment.length)
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
