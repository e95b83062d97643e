import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isWxmpError, WxmpError } from '../errors.js'
import { SAMPLE_KINDS, sampleXml } from '../testing/samples.js'
import { scanXml } from './fast-path.js'
import { parseXml, parseXmlStrict } from './parse.js'

// --- comparing the two paths -------------------------------------------------------------

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown }

function outcome(run: () => unknown): Outcome {
  try {
    return { kind: 'value', value: run() }
  } catch (error) {
    return { kind: 'error', error }
  }
}

/**
 * A value with everything that could differ made explicit: array or object, prototypes, own
 * keys in order (symbols included) and how each is defined. deepEqual on two of these is the
 * "same result" the fast path promises, `__proto__` and `constructor` fields included.
 */
function canonical(value: unknown): unknown {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return { array: Object.getPrototypeOf(value) === Array.prototype, items: value.map(canonical) }
  if (typeof value === 'object' && value !== null) {
    return {
      plainObject: Object.getPrototypeOf(value) === Object.prototype,
      fields: Reflect.ownKeys(value).map((key) => {
        const { value: field, get, set, ...flags } = Object.getOwnPropertyDescriptor(value, key)!
        return [key, flags, get === undefined && set === undefined, canonical(field)]
      }),
    }
  }
  return { unexpected: typeof value, value }
}

function describeError(error: unknown): unknown {
  return error instanceof WxmpError ? { code: error.code, message: error.message, status: error.status } : { notWxmpError: String(error) }
}

function assertSameOutcome(actual: Outcome, expected: Outcome, xml: string): void {
  assert.equal(actual.kind, expected.kind, `one parsed and the other threw: ${JSON.stringify(xml)}`)
  if (actual.kind === 'value' && expected.kind === 'value') assert.deepEqual(canonical(actual.value), canonical(expected.value), JSON.stringify(xml))
  if (actual.kind === 'error' && expected.kind === 'error') assert.deepEqual(describeError(actual.error), describeError(expected.error), JSON.stringify(xml))
}

interface Tally {
  accepted: number
  declined: number
  tooDeep: number
  strictErrors: number
  /** Accepted documents that had each feature: proof the hard cases are exercised, not declined. */
  acceptedWith: Record<string, number>
}

const newTally = (): Tally => ({ accepted: 0, declined: 0, tooDeep: 0, strictErrors: 0, acceptedWith: {} })

const FEATURES: Record<string, RegExp> = {
  cr: /\r/,
  crlf: /\r\n/,
  reference: /&/,
  charRef: /&#/,
  cdata: /<!\[CDATA\[/,
  bracketsInCdata: /<!\[CDATA\[[^<]*\]\][^>]/,
  splitCdata: /\]\]><!\[CDATA\[>/,
  surrogatePair: /[\uD800-\uDBFF][\uDC00-\uDFFF]/,
  repeated: /<(\w+)>.*<\/\1>.*<\1>/s,
  proto: /<__proto__>/,
  constructorName: /<constructor>/,
  selfClosing: /\/>/,
  leadingSpace: /^\s/,
}

/**
 * The fast path's contract for one input: it declines, or gives exactly saxes's result, or
 * throws exactly saxes's WX_ERR_XML_TOO_DEEP; and parseXml always answers as saxes alone does.
 */
function checkAgainstSaxes(xml: string, maxDepth: number | undefined, tally: Tally): void {
  const options = maxDepth === undefined ? {} : { maxDepth }
  const strict = outcome(() => parseXmlStrict(xml, options))
  const fast = outcome(() => scanXml(xml, maxDepth ?? 16))
  assertSameOutcome(outcome(() => parseXml(xml, options)), strict, xml)
  if (strict.kind === 'error') {
    tally.strictErrors++
    assert.ok(strict.error instanceof WxmpError, `saxes path threw a non-WxmpError: ${String(strict.error)}`)
  }
  if (fast.kind === 'value' && fast.value === undefined) {
    tally.declined++
    return
  }
  if (fast.kind === 'error') {
    assert.ok(isWxmpError(fast.error, 'WX_ERR_XML_TOO_DEEP'), `the fast path threw something other than TOO_DEEP: ${String(fast.error)}`)
    tally.tooDeep++
  } else {
    tally.accepted++
    for (const [feature, pattern] of Object.entries(FEATURES)) if (pattern.test(xml)) tally.acceptedWith[feature] = (tally.acceptedWith[feature] ?? 0) + 1
  }
  assertSameOutcome(fast, strict, xml)
}

// --- generating XML-ish documents --------------------------------------------------------

/** Names the fast path takes (prototype names among them) and names it must leave to saxes. */
const NAMES = ['xml', 'a', 'b', 'item', 'Content', 'MsgType', 'A1', '_x', 'a.b', 'a-b', 'x_y-z.9', '__proto__', 'constructor', 'toString', 'hasOwnProperty']
const ODD_NAMES = ['a:b', 'é', '中文', '1a', '-a', '.a', 'a b', 'a\u00B7b', '', 'a\tb', 'a=b']

/** Text in small pieces chosen to hit every rule: line ends, "]]>", references good and bad, forbidden characters. */
const TEXT_PIECES = [
  'a', 'Z', '0', '1764000000', ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\r', '\r\r',
  ']', ']]', ']]>', '>', '<', '&', '"', "'", '=', '/', '?', '!', '-', '--', ';', '#',
  '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#13;', '&#10;', '&#9;', '&#x41;', '&#X41;', '&#0065;', '&#x4e2d;', '&#x1F600;',
  '&#x10FFFF;', '&#x110000;', '&#0;', '&#x0;', '&#xD800;', '&#xFFFE;', '&#99999999999;', '&#00000000000000065;',
  '&foo;', '&constructor;', '&__proto__;', '&#;', '&#x;', '&amp', '& ', '&amp ;',
  '\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\u007F', '\u0085', '\u2028', '\uFEFF', '\uFFFD', '\uFFFE', '\uFFFF',
  '\uD83D\uDE00', '\uD83D', '\uDE00', '\uDBFF\uDFFF', '中', '你好', ' 广州 ',
]
const textPiece = fc.constantFrom(...TEXT_PIECES)
const plainPiece = fc.constantFrom('a', 'Z', '0', ' ', '\n', '\t', '中', '\uD83D\uDE00', ']', '>', '-')
/** Mostly clean text, sometimes tricky: clean documents should be accepted often enough to matter. */
const text = fc.oneof(
  { arbitrary: fc.array(plainPiece, { maxLength: 6 }), weight: 8 },
  { arbitrary: fc.array(textPiece, { minLength: 1, maxLength: 4 }), weight: 2 },
).map((pieces) => pieces.join(''))
const whitespace = fc.array(fc.constantFrom(' ', '\n', '\t', '\r', '\r\n'), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join(''))
/** Characters that look like whitespace but are not XML's S (some are not even XML characters). */
const notXmlSpace = fc.constantFrom('\f', '\v', '\u00A0', '\u0085', '\u2028', '\u3000', '\u0000')
/**
 * Lone surrogates where saxes misreads them: it pairs a high half with whatever follows, so a
 * lone one before "]]>", "<" or a CR swallows that character.
 */
const loneSurrogateEdge = fc.constantFrom('\uD83D]]>', '\uD83D<', '\uD83D\r', '\uD83D\r\n', '\uDE00]]>', '\uD83D\uD83D\uDE00', '\uD83D&amp;', '\uD83D]')
const cdata = fc
  .oneof(
    { arbitrary: fc.array(fc.oneof({ arbitrary: plainPiece, weight: 3 }, { arbitrary: textPiece, weight: 1 }), { maxLength: 6 }).map((pieces) => `<![CDATA[${pieces.join('')}]]>`), weight: 8 },
    // "]]>" split over two sections, as buildXml writes it
    { arbitrary: fc.tuple(text, text).map(([a, b]) => `<![CDATA[${a}]]]]><![CDATA[>${b}]]>`), weight: 2 },
    { arbitrary: fc.tuple(text, loneSurrogateEdge, text).map(([a, edge, b]) => `<![CDATA[${a}${edge}${b}]]>`), weight: 1 },
    { arbitrary: fc.constantFrom('<![CDATA[x]]', '<![CDATA[', '<![CDATA[x]>', '<![cdata[x]]>', '<![CDATA [x]]>', '<![CDAT[x]]>'), weight: 1 },
  )
const markup = fc.constantFrom('<!-- c -->', '<!---->', '<!-- a -- b -->', '<?pi x?>', '<?xml version="1.0"?>', '<!DOCTYPE x>', '<!ENTITY x "y">', '<!>', '<>', '</>', '< a>', '<a', '</a', '&')

interface Element {
  name: string
  closeName: string
  attribute: string
  spaceInOpen: string
  spaceInClose: string
  selfClosing: boolean
  children: Node[]
}
type Node = Element | string

const name = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES), weight: 30 },
  { arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,3}$/), weight: 10 },
  { arbitrary: fc.constantFrom(...ODD_NAMES), weight: 1 },
)
const rarely = <T>(usual: T, ...others: T[]) => fc.oneof({ arbitrary: fc.constant(usual), weight: 30 }, { arbitrary: fc.constantFrom(...others), weight: 1 })

const { element } = fc.letrec<{ element: Element; node: Node }>((tie) => ({
  element: fc
    .record({
      name,
      closeName: fc.oneof({ arbitrary: fc.constant(undefined), weight: 40 }, { arbitrary: name, weight: 1 }),
      attribute: rarely('', ' a="1"', " b='&amp;'", ' a', ' a="<"', ' xmlns="urn:x"', ' a="1" a="2"'),
      spaceInOpen: rarely('', ' ', '\n', '\r\n'),
      spaceInClose: rarely('', ' ', '\t'),
      selfClosing: fc.boolean(),
      children: fc.array(tie('node'), { maxLength: 5 }),
    })
    .map(({ closeName, ...rest }) => ({ ...rest, closeName: closeName ?? rest.name })),
  node: fc.oneof(
    { maxDepth: 5, depthIdentifier: 'xml-tree' },
    { arbitrary: text, weight: 6 },
    { arbitrary: cdata, weight: 6 },
    { arbitrary: whitespace, weight: 4 },
    { arbitrary: fc.oneof(markup, notXmlSpace, loneSurrogateEdge), weight: 1 },
    { arbitrary: tie('element'), weight: 12 },
  ),
}))

function render(node: Node): string {
  if (typeof node === 'string') return node
  const open = `<${node.name}${node.attribute}${node.spaceInOpen}`
  if (node.selfClosing && node.children.length === 0) return `${open}/>`
  return `${open}>${node.children.map(render).join('')}</${node.closeName}${node.spaceInClose}>`
}

const prologJunk = fc.oneof(notXmlSpace, fc.constantFrom('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.1"?>\n', '\uFEFF', '<!DOCTYPE xml>', '<!-- c -->', 'x', '&amp;'))
const prolog = fc.oneof({ arbitrary: fc.constant(''), weight: 8 }, { arbitrary: whitespace, weight: 4 }, { arbitrary: prologJunk, weight: 1 })
const epilogJunk = fc.oneof(notXmlSpace, fc.constantFrom('x', '<x/>', '<xml></xml>', '<!-- c -->', '<?pi x?>', '&amp;', '<![CDATA[x]]>', '</xml>'))
const epilog = fc.oneof({ arbitrary: fc.constant(''), weight: 8 }, { arbitrary: whitespace, weight: 4 }, { arbitrary: epilogJunk, weight: 1 })
const document = fc.tuple(prolog, element, epilog).map(([before, root, after]) => before + render(root) + after)

/** Real WeChat documents, and small damage done to any document. */
const samples = fc.constantFrom(...SAMPLE_KINDS).map((kind) => sampleXml(kind))
const mutation = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), piece: fc.oneof(textPiece, markup, cdata) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
)
function mutate(xml: string, m: { op: string; at: number; piece?: string; length?: number }): string {
  const at = m.at % (xml.length + 1)
  switch (m.op) {
    case 'truncate':
      return xml.slice(0, at)
    case 'insert':
      return xml.slice(0, at) + m.piece! + xml.slice(at)
    case 'delete':
      return xml.slice(0, at) + xml.slice(at + m.length!)
    default:
      return xml.slice(0, at) + xml.slice(at, at + m.length!) + xml.slice(at)
  }
}
const anyDocument = fc.oneof(
  { arbitrary: document, weight: 6 },
  { arbitrary: samples, weight: 1 },
  { arbitrary: fc.tuple(fc.oneof(document, samples), mutation).map(([xml, m]) => mutate(xml, m)), weight: 4 },
  { arbitrary: fc.string({ unit: fc.constantFrom('<', '>', '/', 'a', 'x', 'm', 'l', ' ', '!', '[', ']', '&', ';', '\r'), maxLength: 30 }), weight: 1 },
)
const maxDepth = fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.constantFrom(0, 1, 2, 3, 4, 5, 16), weight: 2 })

// --- the tests ----------------------------------------------------------------------------

describe('XML fast path', () => {
  test('on any XML-ish input it declines, or gives exactly the saxes result or TOO_DEEP error, and parseXml always answers as saxes does', (t) => {
    const tally = newTally()
    fc.assert(
      fc.property(anyDocument, maxDepth, (xml, depth) => checkAgainstSaxes(xml, depth, tally)),
      { numRuns: 20_000 },
    )
    t.diagnostic(`fast path accepted ${tally.accepted}, declined ${tally.declined}, TOO_DEEP ${tally.tooDeep}; saxes refused ${tally.strictErrors}`)
    // the property says nothing if the fast path declined everything, or saxes never objected
    const runs = tally.accepted + tally.declined + tally.tooDeep
    assert.ok(tally.accepted > runs * 0.15, `accepted only ${tally.accepted} of ${runs}`)
    assert.ok(tally.declined > runs * 0.15, `declined only ${tally.declined} of ${runs}`)
    assert.ok(tally.tooDeep > 20, `TOO_DEEP from the fast path only ${tally.tooDeep} times`)
    assert.ok(tally.strictErrors > runs * 0.15, `saxes refused only ${tally.strictErrors} of ${runs}`)
    for (const feature of Object.keys(FEATURES)) assert.ok((tally.acceptedWith[feature] ?? 0) > 5, `accepted documents with ${feature}: ${tally.acceptedWith[feature] ?? 0}`)
  })

  test('every WeChat sample is taken by the fast path and gives the saxes result', () => {
    for (const kind of SAMPLE_KINDS) {
      const xml = sampleXml(kind)
      const fast = scanXml(xml, 16)
      assert.notEqual(fast, undefined, `declined the ${kind} sample`)
      assert.deepEqual(canonical(fast), canonical(parseXmlStrict(xml)), kind)
    }
  })

  test('user text with line ends, emoji, markup characters and "]]>" is taken and read as saxes reads it', () => {
    for (const Content of ['第一行\r\n第二行\r第三行\n', '😀👍🏻 <b>&amp;</b>', 'a]]>b]]]]>c', ' ', '']) {
      const xml = sampleXml('text', { Content })
      const fast = scanXml(xml, 16)
      assert.notEqual(fast, undefined, JSON.stringify(Content))
      assert.deepEqual(canonical(fast), canonical(parseXmlStrict(xml)))
      assert.equal(fast!.Content, Content.replace(/\r\n?/g, '\n'))
    }
  })

  test('the callback of the task brief, nested and repeated elements, whitespace between them', () => {
    const xml =
      '<xml>\n  <ToUserName><![CDATA[gh_x]]></ToUserName>\n  <CreateTime>1764000000</CreateTime>\n' +
      '  <SendPicsInfo><Count>2</Count>\n    <PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item>\n' +
      '      <item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo>\n' +
      '  <Label>  广州 </Label><Empty/><Blank>  \n </Blank>\n</xml>\n'
    const fast = scanXml(xml, 16)
    assert.deepEqual(fast, {
      ToUserName: 'gh_x',
      CreateTime: '1764000000',
      SendPicsInfo: { Count: '2', PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] } },
      Label: '  广州 ',
      Empty: '',
      Blank: '  \n ',
    })
    assert.deepEqual(canonical(fast), canonical(parseXmlStrict(xml)))
  })

  test('element names are read exactly, whatever names came before (a name cache must not confuse them)', () => {
    // every name of one to three letters, each followed by its own prefixes: a cache slot
    // shared by a name and its prefix would show up as a wrong key
    const letters = 'abcdefghijklmnopqrstuvwxyz_'
    for (const a of letters) {
      for (const b of letters) {
        for (const c of letters) {
          for (const name of [a + b + c, a + b, a, a + b + c]) {
            const doc = scanXml(`<xml><${name}>1</${name}></xml>`, 16)
            assert.deepEqual(Object.keys(doc!), [name])
          }
        }
      }
    }
  })

  test('a DOCTYPE, comment, attribute, declaration, namespace or undefined entity is declined, and saxes answers', () => {
    const cases: Array<[string, string | Record<string, string>]> = [
      ['<!DOCTYPE xml><xml><a>1</a></xml>', 'WX_ERR_XML_DOCTYPE'],
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><xml><a>&e;</a></xml>', 'WX_ERR_XML_DOCTYPE'],
      ['<xml><!-- note --><a>1</a></xml>', { a: '1' }],
      ['<xml><a id="1">1</a></xml>', { a: '1' }],
      ['<?xml version="1.0" encoding="UTF-8"?><xml><a>1</a></xml>', { a: '1' }],
      ['\uFEFF<xml><a>1</a></xml>', { a: '1' }],
      ['<xml><a >1</a ></xml>', { a: '1' }],
      ['<xml><w:a>1</w:a></xml>', { 'w:a': '1' }],
      ['<xml><a>&foo;</a></xml>', 'WX_ERR_XML_MALFORMED'],
      ['<xml><a>x]]>y</a></xml>', 'WX_ERR_XML_MALFORMED'],
      ['<xml><a>\u0001</a></xml>', 'WX_ERR_XML_MALFORMED'],
      ['<xml><a>1</b></xml>', 'WX_ERR_XML_MALFORMED'],
      ['<xml><a>1</a></xml><xml/>', 'WX_ERR_XML_MALFORMED'],
      ['<xml><a>1</a>', 'WX_ERR_XML_MALFORMED'],
    ]
    for (const [xml, expected] of cases) {
      assert.equal(scanXml(xml, 16), undefined, xml)
      if (typeof expected === 'string') assert.throws(() => parseXml(xml), (err) => isWxmpError(err, expected as 'WX_ERR_XML_MALFORMED'), xml)
      else assert.deepEqual(parseXml(xml), expected, xml)
    }
  })

  test('nesting beyond maxDepth throws from the fast path with the saxes path\'s code and message', () => {
    const deep = '<xml>' + '<a>'.repeat(20) + '</a>'.repeat(20) + '</xml>'
    const fromStrict = outcome(() => parseXmlStrict(deep))
    assert.equal(fromStrict.kind, 'error')
    assert.throws(
      () => scanXml(deep, 16),
      (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP') && err.message === (fromStrict as { error: Error }).error.message && err.message === 'XML nested deeper than 16 levels',
    )
    // exactly at the limit is fine; zero refuses the root itself
    const sixteen = '<xml>' + '<a>'.repeat(15) + 'x' + '</a>'.repeat(15) + '</xml>'
    assert.notEqual(scanXml(sixteen, 16), undefined)
    assert.throws(() => scanXml('<xml/>', 0), (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP'))
    // saxes meets the too-deep tag before it notices the document never ends: same error
    assert.throws(() => scanXml('<xml>' + '<a>'.repeat(20), 16), (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP'))
    assert.throws(() => parseXmlStrict('<xml>' + '<a>'.repeat(20), {}), (err) => isWxmpError(err, 'WX_ERR_XML_TOO_DEEP'))
    // ...but an unfinished tag at the limit is not an opening tag yet: saxes calls it malformed
    const unfinished = '<xml>' + '<a>'.repeat(15) + '<a'
    assert.equal(scanXml(unfinished, 16), undefined)
    assert.throws(() => parseXml(unfinished), (err) => isWxmpError(err, 'WX_ERR_XML_MALFORMED'))
  })
})
