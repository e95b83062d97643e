import { SaxesParser } from 'saxes'
import { WxmpError } from '../errors.js'
import { scanXml } from './fast-path.js'
import { addChild, tooDeep, type XmlObject } from './tree.js'

export type { XmlObject, XmlValue } from './tree.js'

export interface ParseXmlOptions {
  /** Deepest element nesting accepted; WeChat documents go four levels deep. Default 16. */
  maxDepth?: number
}

interface Frame {
  name: string
  children: XmlObject | undefined
  text: string
}

/**
 * Parses a WeChat callback document with a strict, well-formedness-checking parser (saxes).
 * Text and CDATA are kept verbatim (no trimming: real Labels start with a space); entity
 * references are limited to XML's predefined and numeric ones; any DOCTYPE is refused, so
 * neither XXE nor entity expansion ("billion laughs") can happen. Attributes are ignored:
 * WeChat documents have none. Returns the root element's children.
 *
 * Documents in the narrow shape WeChat sends go through a hand-written scanner first
 * (fast-path.ts); it declines anything it does not fully understand, and saxes then decides.
 * Either way the result or the error is the one parseXmlStrict gives.
 *
 * @example parseXml('<xml><MsgType><![CDATA[text]]></MsgType></xml>') // { MsgType: 'text' }
 */
export function parseXml(xml: string, options: ParseXmlOptions = {}): XmlObject {
  return scanXml(xml, options.maxDepth ?? 16) ?? parseXmlStrict(xml, options)
}

/** parseXml through saxes alone: the reference the fast path is tested against. */
export function parseXmlStrict(xml: string, options: ParseXmlOptions = {}): XmlObject {
  // A parser is reused after a clean parse (saxes resets itself on close): building one costs
  // about as much as parsing a whole callback. One that threw is dropped, never reused.
  const current = spare ?? newParser()
  spare = undefined
  const { parser, state } = current
  state.maxDepth = options.maxDepth ?? 16
  state.stack = []
  state.root = undefined
  try {
    parser.write(xml).close()
  } catch (err) {
    if (err instanceof WxmpError) throw err
    throw new WxmpError('WX_ERR_XML_MALFORMED', `body is not well-formed XML: ${(err as Error).message}`, { cause: err })
  }
  const root = state.root as Frame | undefined
  state.stack = []
  state.root = undefined
  spare = current
  if (root === undefined) throw new WxmpError('WX_ERR_XML_MALFORMED', 'body is not well-formed XML: no root element')
  return root.children ?? {}
}

interface ParseState {
  maxDepth: number
  stack: Frame[]
  root: Frame | undefined
}

interface ReusableParser {
  parser: SaxesParser
  state: ParseState
}

let spare: ReusableParser | undefined

function newParser(): ReusableParser {
  const state: ParseState = { maxDepth: 16, stack: [], root: undefined }
  const parser = new SaxesParser()
  parser.on('doctype', () => {
    throw new WxmpError('WX_ERR_XML_DOCTYPE', 'XML with a DOCTYPE is refused (no DTDs or entity declarations are accepted in callbacks)')
  })
  parser.on('opentag', (tag) => {
    if (state.stack.length >= state.maxDepth) throw tooDeep(state.maxDepth)
    state.stack.push({ name: tag.name, children: undefined, text: '' })
  })
  const onText = (text: string) => {
    const top = state.stack[state.stack.length - 1]
    if (top !== undefined) top.text += text
  }
  parser.on('text', onText)
  parser.on('cdata', onText)
  parser.on('closetag', () => {
    const { stack } = state
    const frame = stack.pop()
    if (frame === undefined) return
    const parent = stack[stack.length - 1]
    if (parent === undefined) {
      state.root = frame
      return
    }
    addChild((parent.children ??= {}), frame.name, frame.children ?? frame.text)
  })
  return { parser, state }
}

/** The text of a child element, or undefined when absent or not a leaf. */
export function textOf(node: XmlObject, name: string): string | undefined {
  const value = node[name]
  return typeof value === 'string' ? value : undefined
}
