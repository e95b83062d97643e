import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pageText } from './paging.js'
import { pendingTexts } from './texts.js'

const footer = pendingTexts().footer
/** No lone surrogate (String.prototype.isWellFormed, Node 20; the type library predates it). */
const wellFormed = (s: string): boolean => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)
const bytes = (s: string) => Buffer.byteLength(s)

/** Offsets (UTF-16) where grapheme clusters begin and end: the only places a page may end. */
function graphemeBoundaries(text: string): Set<number> {
  const at = new Set<number>([0])
  for (const { index, segment } of new Intl.Segmenter('zh', { granularity: 'grapheme' }).segment(text)) at.add(index + segment.length)
  return at
}

function checkPages(text: string, maxBytes = 2048): string[] {
  const { pages, display, truncated } = pageText(text, { footer, maxBytes })
  assert.equal(truncated, false)
  assert.equal(pages.join(''), text, 'the pages joined are the text')
  const boundaries = graphemeBoundaries(text)
  let offset = 0
  for (const [i, page] of pages.entries()) {
    assert.ok(page.length > 0, 'no empty page')
    offset += page.length
    assert.ok(boundaries.has(offset), `page ${i + 1} ends inside a grapheme cluster`)
    assert.ok(bytes(display[i]!) <= maxBytes, `page ${i + 1} is ${bytes(display[i]!)} bytes with its footer`)
    assert.equal(wellFormed(page), true, 'no lone surrogate')
    if (i < pages.length - 1) assert.ok(display[i]!.endsWith(footer(pages.length - 1 - i)), 'every page but the last says how many follow')
    else assert.equal(display[i], page, 'the last page has no footer')
  }
  return pages
}

test('a text that fits is one page, untouched and without a footer', () => {
  const text = '你好'.repeat(300)
  assert.deepEqual(pageText(text, { footer }), { pages: [text], display: [text], truncated: false })
})

test('10 000 Chinese characters with emoji: pages of at most 2048 bytes with footers, joined back exactly', () => {
  const unit = '微信公众号的被动回复有五秒的限制，长回答需要分页。🙂👨‍👩‍👧‍👦🇨🇳'
  const paragraphs = Array.from({ length: 40 }, (_, i) => `第${i + 1}段：${unit.repeat(6)}`)
  const text = paragraphs.join('\n\n').slice(0, 10_000)
  const pages = checkPages(wellFormed(text) ? text : text.slice(0, -1))
  assert.ok(pages.length >= 14, `${pages.length} pages`)
})

test('pages end at a paragraph, else a line, else a sentence, before any other boundary', () => {
  const paragraph = (n: number) => `第${n}段。` + '字'.repeat(400) + '。'
  const text = [paragraph(1), paragraph(2), paragraph(3), paragraph(4)].join('\n\n')
  const pages = checkPages(text)
  assert.ok(pages[0]!.endsWith('。\n\n'), `page 1 ends at a blank line: ${JSON.stringify(pages[0]!.slice(-5))}`)
  const sentences = '这是一句话。'.repeat(500)
  for (const page of checkPages(sentences).slice(0, -1)) assert.ok(page.endsWith('。'), 'ends at a sentence')
  const english = 'The quick brown fox jumps over the lazy dog. '.repeat(120)
  for (const page of checkPages(english).slice(0, -1)) assert.match(page, /\. $/, 'ends after a sentence')
})

test('text without any break is cut between grapheme clusters: flags, ZWJ families, skin tones, combining marks', () => {
  const clusters = ['🇨🇳', '👨‍👩‍👧‍👦', '👍🏽', 'é', 'ก์', '한', '𠀀']
  checkPages(clusters.join('').repeat(300))
})

test('a pathological cluster longer than a page is cut at code points, never inside one', () => {
  const zalgo = 'a' + '\u0301'.repeat(3000)
  const { pages } = pageText(zalgo, { footer })
  assert.equal(pages.join(''), zalgo)
  for (const page of pages) assert.equal(wellFormed(page), true)
})

test('more pages than allowed are cut, and said to be', () => {
  const { pages, truncated } = pageText('字'.repeat(50_000), { footer, maxPages: 3 })
  assert.equal(pages.length, 3)
  assert.equal(truncated, true)
})

test('a footer that leaves no room is a clear error, not an endless loop', () => {
  assert.throws(() => pageText('x'.repeat(5000), { footer: () => 'y'.repeat(2040) }), /footer too long/)
})

test('property: for random text (CJK, emoji, ZWJ sequences, combining marks, newlines), the pages re-join to the original, fit, and cut only between clusters', () => {
  const pieces = fc.constantFrom('你', '好', '。', '，', '！', '？', ' ', '\n', '\n\n', 'a', 'b', '.', '😀', '👨‍👩‍👧', '🇯🇵', '👍🏿', 'é', '\u0301', '𠀀', 'ﷺ', '\r\n')
  fc.assert(
    fc.property(fc.array(pieces, { minLength: 0, maxLength: 3000 }), fc.integer({ min: 64, max: 2048 }), (parts, maxBytes) => {
      const text = parts.join('')
      const { pages, display } = pageText(text, { footer: (n) => `(${n} more)`, maxBytes })
      if (pages.join('') !== text) return false
      const boundaries = graphemeBoundaries(text)
      let offset = 0
      for (const [i, page] of pages.entries()) {
        offset += page.length
        if (!boundaries.has(offset) || !wellFormed(page) || bytes(display[i]!) > maxBytes || (page.length === 0 && text !== '')) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})
