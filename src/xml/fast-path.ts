/**
 * The fast path of parseXml: a scanner for the narrow grammar WeChat documents use, several
 * times faster than saxes. It accepts only what it fully understands and answers `undefined`
 * ("declined") for everything else, so saxes then produces the result or the error. The
 * contract, checked against saxes by fast-path.test.ts: for any input, the scanner declines,
 * or returns exactly what the saxes path returns, or throws the same WX_ERR_XML_TOO_DEEP.
 *
 * Accepted: leading and trailing whitespace (space, tab, LF, CR); one root; tags `<name>`,
 * `</name>` and `<name/>` with names of [A-Za-z_][A-Za-z0-9_.-]* and nothing else inside;
 * text; CDATA sections; the five predefined entities and numeric character references that
 * name an XML character. Declined: XML declarations, PIs, comments, DOCTYPE, attributes,
 * whitespace inside tags, other names, "]]>" in text, characters XML 1.0 forbids (C0 controls
 * other than tab/LF/CR, lone surrogates, U+FFFE, U+FFFF), a byte order mark, anything but
 * whitespace outside the root, mismatched or missing close tags.
 *
 * Line ends are normalised as saxes does (XML 1.0 §2.11): CRLF and a lone CR in text and in
 * CDATA read as LF; a CR written as `&#13;` stays a CR.
 */
import { addChild, tooDeep, type XmlObject, type XmlValue } from './tree.js'

const TAB = 0x09
const LF = 0x0a
const CR = 0x0d
const BANG = 0x21
const AMP = 0x26
const SLASH = 0x2f
const SEMI = 0x3b
const LT = 0x3c
const GT = 0x3e
const CLOSE_BRACKET = 0x5d

/** Bit 1: may start a name; bit 2: may continue one. ASCII only: any other character declines. */
const NAME_CHARS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z_]/.test(ch)) NAME_CHARS[c] = 3
  else if (/[0-9.-]/.test(ch)) NAME_CHARS[c] = 2
}

const isSpace = (c: number) => c === 0x20 || c === LF || c === TAB || c === CR

/** One open element. */
interface Frame {
  name: string
  /** Where the name sits in the document: the close tag is compared with it there. */
  nameAt: number
  parent: Frame | undefined
  children: XmlObject | undefined
  text: string
}

/**
 * The root element's children, or `undefined` when the document is outside the fast path's
 * grammar (the caller then runs saxes). Throws WX_ERR_XML_TOO_DEEP where saxes would: at the
 * first complete opening tag that finds maxDepth elements open. Everything before that tag
 * was accepted here, so saxes reaches the same tag without an error and throws the same.
 */
export function scanXml(xml: string, maxDepth: number): XmlObject | undefined {
  const end = xml.length
  let i = 0
  while (i < end && isSpace(xml.charCodeAt(i))) i++
  if (xml.charCodeAt(i) !== LT) return undefined

  let top: Frame | undefined
  let depth = 0
  let rootChildren: XmlObject
  // at a '<' that starts markup, the root's opening tag first
  for (;;) {
    const next = xml.charCodeAt(i + 1)
    if (next === SLASH) {
      const frame = top
      if (frame === undefined) return undefined
      const { name, nameAt } = frame
      const at = i + 2
      const nameEnd = at + name.length
      if (xml.charCodeAt(nameEnd) !== GT) return undefined
      for (let k = 0; k < name.length; k++) if (xml.charCodeAt(at + k) !== xml.charCodeAt(nameAt + k)) return undefined
      i = nameEnd + 1
      top = frame.parent
      depth--
      if (top === undefined) {
        rootChildren = frame.children ?? {}
        break
      }
      addChild((top.children ??= {}), name, frame.children ?? frame.text)
    } else if (next === BANG) {
      // CDATA is the only "<!" accepted, and only inside the root
      if (top === undefined || !isCdataStart(xml, i)) return undefined
      const from = i + 9
      let j = from
      let cr = false
      for (;;) {
        const c = xml.charCodeAt(j)
        if (c === CLOSE_BRACKET) {
          if (xml.charCodeAt(j + 1) === CLOSE_BRACKET && xml.charCodeAt(j + 2) === GT) break
        } else if (c < 0x20) {
          if (c === CR) cr = true
          else if (c !== TAB && c !== LF) return undefined
        } else if (c >= 0xd800) {
          if (c <= 0xdbff) {
            const low = xml.charCodeAt(j + 1)
            if (!(low >= 0xdc00 && low <= 0xdfff)) return undefined
            j++
          } else if (c <= 0xdfff || c >= 0xfffe) return undefined
        } else if (c !== c) return undefined // NaN: the document ended inside the section
        j++
      }
      const content = xml.slice(from, j)
      top.text += cr ? normaliseLineEnds(content) : content
      i = j + 3
    } else {
      if (!(next < 128 && (NAME_CHARS[next]! & 1) !== 0)) return undefined
      const start = i + 1
      let j = start + 1
      let hash = next
      let c = xml.charCodeAt(j)
      while (c < 128 && (NAME_CHARS[c]! & 2) !== 0) {
        hash = (hash * 31 + c) | 0
        c = xml.charCodeAt(++j)
      }
      let selfClosing = false
      if (c === GT) i = j + 1
      else if (c === SLASH && xml.charCodeAt(j + 1) === GT) {
        selfClosing = true
        i = j + 2
      } else return undefined
      if (depth >= maxDepth) throw tooDeep(maxDepth)
      const name = elementName(xml, start, j, hash)
      if (!selfClosing) {
        top = { name, nameAt: start, parent: top, children: undefined, text: '' }
        depth++
      } else if (top !== undefined) addChild((top.children ??= {}), name, '')
      else {
        rootChildren = {}
        break
      }
    }

    // text up to the next '<', added to the innermost open element
    const frame = top
    let segment = i
    let cr = false
    for (;;) {
      if (i >= end) return undefined // an element is still open
      const c = xml.charCodeAt(i)
      if (c === LT) break
      if (c < 0x20) {
        if (c === CR) cr = true
        else if (c !== TAB && c !== LF) return undefined
      } else if (c === AMP) {
        const semi = referenceEnd(xml, i + 1)
        if (semi < 0) return undefined
        const decoded = decodeReference(xml.slice(i + 1, semi))
        if (decoded === undefined) return undefined
        // line ends are normalised in the text around a reference, never in what it decodes to
        frame.text += textSegment(xml, segment, i, cr) + decoded
        cr = false
        i = semi + 1
        segment = i
        continue
      } else if (c === CLOSE_BRACKET) {
        if (xml.charCodeAt(i + 1) === CLOSE_BRACKET && xml.charCodeAt(i + 2) === GT) return undefined
      } else if (c >= 0xd800) {
        if (c <= 0xdbff) {
          const low = xml.charCodeAt(i + 1)
          if (!(low >= 0xdc00 && low <= 0xdfff)) return undefined
          i++
        } else if (c <= 0xdfff || c >= 0xfffe) return undefined
      }
      i++
    }
    if (i > segment) frame.text += textSegment(xml, segment, i, cr)
  }

  // after the root: whitespace only
  while (i < end && isSpace(xml.charCodeAt(i))) i++
  return i === end ? rootChildren : undefined
}

/** Whether "<![CDATA[" starts at i, given that "<!" does. */
function isCdataStart(xml: string, i: number): boolean {
  return (
    xml.charCodeAt(i + 2) === 0x5b && // [
    xml.charCodeAt(i + 3) === 0x43 && // C
    xml.charCodeAt(i + 4) === 0x44 && // D
    xml.charCodeAt(i + 5) === 0x41 && // A
    xml.charCodeAt(i + 6) === 0x54 && // T
    xml.charCodeAt(i + 7) === 0x41 && // A
    xml.charCodeAt(i + 8) === 0x5b //    [
  )
}

function textSegment(xml: string, from: number, to: number, cr: boolean): string {
  const text = xml.slice(from, to)
  return cr ? normaliseLineEnds(text) : text
}

const normaliseLineEnds = (text: string) => text.replace(/\r\n?/g, '\n')

/*
 * Element names, interned once: slicing a name out of every document and using it as a
 * property key costs a string-table lookup per element, about a fifth of the whole parse.
 * A slot holds a name and its characters; a document's name is checked against them in
 * full, so a collision (or a flood of made-up names) only costs a miss.
 */
const NAME_SLOTS = 256
const MAX_CACHED_NAME = 64
const slotNames: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(undefined)
const slotCodes: Uint16Array[] = new Array<Uint16Array>(NAME_SLOTS).fill(new Uint16Array(0))

function elementName(xml: string, start: number, end: number, hash: number): string {
  const slot = (hash ^ (hash >>> 8)) & (NAME_SLOTS - 1)
  const codes = slotCodes[slot]!
  const length = end - start
  if (codes.length === length) {
    let k = 0
    while (k < length && xml.charCodeAt(start + k) === codes[k]) k++
    if (k === length) return slotNames[slot]!
  }
  // the key an object hands back is the interned string, which later keyed access finds fast
  const name = Object.keys({ [xml.slice(start, end)]: 0 })[0]!
  if (length <= MAX_CACHED_NAME) {
    const fresh = new Uint16Array(length)
    for (let k = 0; k < length; k++) fresh[k] = xml.charCodeAt(start + k)
    slotNames[slot] = name
    slotCodes[slot] = fresh
  }
  return name
}

/** Longest reference accepted between '&' and ';' ("#x10FFFF" with a few leading zeros). */
const MAX_REFERENCE = 12

/** Index of the ';' ending the reference whose name starts at `from`, or -1. */
function referenceEnd(xml: string, from: number): number {
  const limit = Math.min(xml.length, from + MAX_REFERENCE + 1)
  for (let i = from; i < limit; i++) if (xml.charCodeAt(i) === SEMI) return i
  return -1
}

/**
 * What a reference decodes to, as saxes decodes it, or undefined where saxes fails (or does
 * something odd: its entity table inherits from Object.prototype, so it reads `&constructor;`).
 */
function decodeReference(name: string): string | undefined {
  switch (name) {
    case 'amp':
      return '&'
    case 'lt':
      return '<'
    case 'gt':
      return '>'
    case 'quot':
      return '"'
    case 'apos':
      return "'"
  }
  let code = NaN
  if (/^#x[0-9a-fA-F]+$/.test(name)) code = parseInt(name.slice(2), 16)
  else if (/^#[0-9]+$/.test(name)) code = parseInt(name.slice(1), 10)
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined
}

/** XML 1.0's Char production. */
function isXmlChar(c: number): boolean {
  return c === TAB || c === LF || c === CR || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)
}
