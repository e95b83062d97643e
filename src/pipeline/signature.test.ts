import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { checkSignature, safeEqualHex, sha1Sorted } from './signature.js'

test('official worked example: Token AAAAA', () => {
  assert.equal(sha1Sorted(['AAAAA', '1714037059', '486452656']), '899cf89e464efb63f54ddac96b0a0a235f53aa78')
})

test('real captured GET verification (token GreedIsGood)', () => {
  assert.ok(checkSignature('GreedIsGood', '1668869433', '977789310', '37cc4891f809493628677ae2b592e63c938c0b03'))
})

test('sorting is by string, not by number', () => {
  // numeric order would put 977789310 before 1668869433
  assert.equal(sha1Sorted(['977789310', '1668869433', 'GreedIsGood']), sha1Sorted(['GreedIsGood', '1668869433', '977789310']))
})

test('a forged, truncated, missing or non-hex signature is rejected', () => {
  const good = sha1Sorted(['t', '1', '2'])
  assert.ok(checkSignature('t', '1', '2', good))
  assert.ok(!checkSignature('t', '1', '2', good.slice(0, 39)))
  assert.ok(!checkSignature('t', '1', '2', undefined))
  assert.ok(!checkSignature('t', '1', '2', good.replace(/.$/, (c) => (c === '0' ? '1' : '0'))))
  assert.ok(!safeEqualHex(good, 'é'.repeat(40)))
})

test('only the lowercase form WeChat sends matches: an upper-cased letter, or any other stand-in for a hex digit, does not', () => {
  const good = sha1Sorted(['AAAAA', '1714037059', '486452656'])
  assert.ok(safeEqualHex(good, good))
  assert.ok(!safeEqualHex(good, good.toUpperCase()))
  const firstLetter = good.search(/[a-f]/)
  assert.ok(!safeEqualHex(good, good.slice(0, firstLetter) + good[firstLetter]!.toUpperCase() + good.slice(firstLetter + 1)))
  for (let i = 0; i < good.length; i++) {
    const code = good.charCodeAt(i)
    // the same low byte in another code point (what a latin1 copy would have confused)
    for (const stand of [code + 0x100, code ^ 0x01]) {
      const forged = good.slice(0, i) + String.fromCharCode(stand) + good.slice(i + 1)
      assert.equal(safeEqualHex(good, forged), false, `position ${i}`)
    }
  }
})

/** The general path (insertion sort, join), kept here to pin the four-part shortcut to it. */
function sortedJoinSha1(parts: readonly unknown[]): string {
  const sorted = parts.slice()
  for (let i = 1; i < sorted.length; i++) {
    const part = sorted[i]
    let j = i - 1
    while (j >= 0 && (sorted[j] as string) > (part as string)) {
      sorted[j + 1] = sorted[j]
      j--
    }
    sorted[j + 1] = part
  }
  return createHash('sha1').update(sorted.join('')).digest('hex')
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items]
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]))
}

test('four parts (msg_signature) in every order give the digest of the sorted, joined parts', () => {
  const sets = [
    ['wxmpBenchToken2026', '1764000000', '1234567890', 'hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJl+/=='],
    ['a', 'a', 'ab', ''], // ties, a prefix and an empty part
    ['\uFF21', '\uD83D\uDE00', 'Z', 'z'], // UTF-16 order: a surrogate pair sorts before U+FF21
    ['1', '10', '9', '09'], // by string, not by number
  ]
  for (const set of sets) {
    const expected = sortedJoinSha1(set)
    for (const order of permutations(set)) assert.equal(sha1Sorted(order), expected, JSON.stringify(order))
  }
  assert.equal(sha1Sorted(['AAAAA', '1714037059', '486452656', 'x']), sortedJoinSha1(['AAAAA', '1714037059', '486452656', 'x']))
})

test('four parts that are not all strings are sorted and joined as before', () => {
  const odd = [
    [undefined, 'b', 'a', 'c'],
    ['b', null, 'a', 1],
    [2, 10, '1', 'x'],
  ] as unknown as string[][]
  for (const parts of odd) assert.equal(sha1Sorted(parts), sortedJoinSha1(parts), JSON.stringify(parts))
})
