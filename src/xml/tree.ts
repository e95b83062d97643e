/**
 * The tree both XML paths build (src/xml/parse.ts with saxes, src/xml/fast-path.ts by hand):
 * its types, how a child joins it, and the error for a document nested too deep.
 */
import { WxmpError } from '../errors.js'

/** A parsed element: its text, or its children by name (a repeated name becomes an array). */
export type XmlValue = string | XmlObject | XmlValue[]
export interface XmlObject {
  [name: string]: XmlValue
}

/** The error both paths throw when an opening tag would exceed maxDepth. */
export function tooDeep(maxDepth: number): WxmpError {
  return new WxmpError('WX_ERR_XML_TOO_DEEP', `XML nested deeper than ${maxDepth} levels`)
}

/**
 * Adds a child element's value under its name; a repeated name becomes an array. Both paths
 * build the tree with this, so their shapes cannot drift apart. Own properties only, defined
 * rather than assigned: an element named __proto__ or constructor is an ordinary field, never
 * a prototype.
 */
export function addChild(siblings: XmlObject, name: string, value: XmlValue): void {
  let existing: XmlValue | undefined = siblings[name]
  // an inherited name (constructor, toString, __proto__) is not a sibling
  if (existing !== undefined && !Object.hasOwn(siblings, name)) existing = undefined
  if (existing === undefined) defineField(siblings, name, value)
  // a child value is never an array itself, so an array here means "already repeated"
  else if (Array.isArray(existing)) existing.push(value)
  else defineField(siblings, name, [existing, value])
}

function defineField(target: XmlObject, name: string, value: XmlValue): void {
  if (name === '__proto__') Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true })
  else target[name] = value
}
