/**
 * Building WeChat XML. Strings go in CDATA, with "]]>" split across two sections so user or
 * LLM text can never end the section early; characters XML 1.0 forbids (most C0 controls,
 * lone surrogates, U+FFFE/U+FFFF) are removed, because one of them makes the whole reply
 * unparseable and WeChat then shows "该公众号暂时无法提供服务".
 */

// eslint-disable-next-line no-control-regex
const ILLEGAL_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** The same pattern without the g flag: `test` on it keeps no lastIndex state. */
const HAS_ILLEGAL_XML_CHAR = new RegExp(ILLEGAL_XML_CHARS.source)

export function stripIllegalXmlChars(text: string): string {
  // almost every text is clean: a scan that allocates nothing, and the copy only when needed
  return HAS_ILLEGAL_XML_CHAR.test(text) ? text.replace(ILLEGAL_XML_CHARS, '') : text
}

/** `<![CDATA[text]]>`, safe for any input. */
export function cdata(text: string): string {
  const clean = stripIllegalXmlChars(text)
  return '<![CDATA[' + (clean.includes(']]>') ? clean.replaceAll(']]>', ']]]]><![CDATA[>') : clean) + ']]>'
}

/**
 * A document element value: text (CDATA), a number or bigint (bare, as WeChat writes
 * CreateTime and 64-bit MsgIds), nested elements, or repeated items.
 */
export type XmlNode = string | number | bigint | XmlElements | XmlNode[]
export interface XmlElements {
  [name: string]: XmlNode | undefined
}

/** Serialises elements in key order; `undefined` values are skipped; arrays repeat the element. */
export function buildElements(elements: XmlElements): string {
  let out = ''
  for (const name of Object.keys(elements)) {
    const value = elements[name]
    if (value === undefined) continue
    checkElementName(name)
    if (Array.isArray(value)) for (const one of value) out += `<${name}>${nodeContent(one)}</${name}>`
    else out += `<${name}>${nodeContent(value)}</${name}>`
  }
  return out
}

const ELEMENT_NAME = /^[A-Za-z_][\w.-]*$/
/** Names already checked: replies use a few dozen, so the set stays small (and is capped). */
const checkedNames = new Set<string>()

function checkElementName(name: string): void {
  if (checkedNames.has(name)) return
  if (!ELEMENT_NAME.test(name)) throw new TypeError(`invalid XML element name: ${JSON.stringify(name)}`)
  if (checkedNames.size < 1000) checkedNames.add(name)
}

function nodeContent(value: XmlNode): string {
  if (typeof value === 'string') return cdata(value)
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : cdata(String(value))
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(nodeContent).join('')
  return buildElements(value)
}

/** A whole `<xml>…</xml>` document. */
export function buildXml(elements: XmlElements): string {
  return '<xml>' + buildElements(elements) + '</xml>'
}
