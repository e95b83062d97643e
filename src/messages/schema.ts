/**
 * A tiny schema language for WeChat XML documents. One schema value gives both the runtime
 * normaliser (numbers parsed, 64-bit ids kept as strings, single-or-many made arrays) and the
 * TypeScript type (via `Infer`), so the parser and the typed filters can never disagree.
 */
import { WxmpError } from '../errors.js'
import type { XmlObject, XmlValue } from '../xml/parse.js'

type LeafKind = 'string' | 'number' | 'id'
export interface LeafSpec<K extends LeafKind = LeafKind, O extends boolean = boolean> {
  readonly kind: K
  readonly optional: O
}
export interface ObjectSpec<F extends FieldMap = FieldMap, O extends boolean = boolean> {
  readonly kind: 'object'
  readonly fields: F
  readonly optional: O
}
export interface ListSpec<I extends Spec = Spec, O extends boolean = boolean> {
  readonly kind: 'list'
  readonly item: I
  /** Child element name that wraps each entry (`<PicList><item>…</item></PicList>`), if any. */
  readonly wrapper: string | undefined
  readonly optional: O
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Spec = LeafSpec | ObjectSpec<any> | ListSpec<any>
export type FieldMap = { readonly [name: string]: Spec }

export type Infer<S> = S extends LeafSpec<infer K>
  ? K extends 'number'
    ? number
    : string
  : S extends ObjectSpec<infer F>
    ? InferFields<F>
    : S extends ListSpec<infer I>
      ? Infer<I>[]
      : never
type Flatten<T> = { [K in keyof T]: T[K] } & {}
export type InferFields<F extends FieldMap> = Flatten<
  { -readonly [K in keyof F as F[K]['optional'] extends true ? never : K]: Infer<F[K]> } & {
    -readonly [K in keyof F as F[K]['optional'] extends true ? K : never]?: Infer<F[K]>
  }
>

export const string: LeafSpec<'string', false> = { kind: 'string', optional: false }
export const number: LeafSpec<'number', false> = { kind: 'number', optional: false }
/** A 64-bit id (MsgId, MsgID, publish_id): always a string, never a lossy JS number. */
export const id: LeafSpec<'id', false> = { kind: 'id', optional: false }
export function object<F extends FieldMap>(fields: F): ObjectSpec<F, false> {
  return { kind: 'object', fields, optional: false }
}
export function list<I extends Spec>(item: I, wrapper?: string): ListSpec<I, false> {
  return { kind: 'list', item, wrapper, optional: false }
}
export function optional<S extends Spec>(spec: S): Omit<S, 'optional'> & { readonly optional: true } {
  return { ...spec, optional: true }
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/

/**
 * WeChat spells the 64-bit id `MsgId` on ordinary messages and `MsgID` on job and sent events,
 * and has been seen to swap the two: a field missing under one spelling is read from the other.
 */
const OTHER_SPELLING: ReadonlyMap<string, string> = new Map([
  ['MsgId', 'MsgID'],
  ['MsgID', 'MsgId'],
])

/**
 * Normalises the parsed XML of one document against `fields`. Fields the schema does not
 * name are kept as they came (strings or nested objects), so nothing WeChat adds is lost.
 */
export function normalise(node: XmlObject, fields: FieldMap, path = ''): Record<string, unknown> {
  const out: Record<string, unknown> = { ...node }
  // for…in over the schema's own literal: no entries array per message
  for (const name in fields) {
    const spec = fields[name]!
    let value = node[name]
    if (value === undefined) {
      const other = OTHER_SPELLING.get(name)
      if (other !== undefined) value = node[other]
    }
    const where = path + name
    if (value === undefined || (value === '' && spec.optional && spec.kind !== 'string')) {
      if (!spec.optional) throw new WxmpError('WX_ERR_MESSAGE_INVALID', `required field <${where}> is missing`, { details: { field: where } })
      delete out[name]
      continue
    }
    out[name] = convert(value, spec, where)
  }
  return out
}

function convert(value: XmlValue, spec: Spec, where: string): unknown {
  switch (spec.kind) {
    case 'string':
    case 'id':
      return leafText(value, where)
    case 'number': {
      const text = leafText(value, where)
      if (!NUMBER.test(text)) throw new WxmpError('WX_ERR_MESSAGE_INVALID', `<${where}> must be a number, got ${JSON.stringify(text.slice(0, 40))}`, { details: { field: where } })
      return Number(text)
    }
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) {
        if (value === '') return normalise({}, spec.fields, where + '.')
        throw new WxmpError('WX_ERR_MESSAGE_INVALID', `<${where}> must contain elements`, { details: { field: where } })
      }
      return normalise(value, spec.fields, where + '.')
    case 'list': {
      let entries: XmlValue | undefined = value
      if (spec.wrapper !== undefined) {
        if (value === '') return []
        if (typeof value !== 'object' || Array.isArray(value)) throw new WxmpError('WX_ERR_MESSAGE_INVALID', `<${where}> must contain <${spec.wrapper}> elements`, { details: { field: where } })
        entries = value[spec.wrapper]
        if (entries === undefined) return []
      }
      const many = Array.isArray(entries) ? entries : [entries]
      return many.map((entry, i) => convert(entry, spec.item, `${where}[${i}]`))
    }
  }
}

function leafText(value: XmlValue, where: string): string {
  if (typeof value === 'string') return value
  throw new WxmpError('WX_ERR_MESSAGE_INVALID', `<${where}> must be text, not ${Array.isArray(value) ? 'repeated' : 'nested'} elements`, { details: { field: where } })
}
