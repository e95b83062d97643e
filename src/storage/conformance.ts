/**
 * The one behaviour suite every KeyValueStore backend passes. A backend's test file calls
 * `runStoreConformance` once; a custom backend can run the same suite.
 *
 * @example
 * runStoreConformance('sqlite', async () => new SqliteStore(file), {
 *   survivesRestart: true,
 *   crossProcess: { url: `sqlite:${file}` },
 * })
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createInterface } from 'node:readline'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { CreateStoreOptions } from './create-store.js'
import { prefixed } from './prefixed.js'
import type { KeyValueStore } from './types.js'

export interface StoreConformanceOptions {
  /** The backend keeps values when closed and reopened (a file or a server). */
  survivesRestart: boolean
  /**
   * How a child process opens the same store (a `createStore` URL, JSON-only options and the
   * key prefix `makeStore` applies). Given for backends shared between processes.
   */
  crossProcess?: { url: string; options?: CreateStoreOptions; prefix?: string }
  /** Skip the whole suite, with this reason (a service that is not reachable). */
  skip?: string | false
}

/** Small TTLs and a wait well past them: a behaviour check, not a timing assertion. */
const SHORT_TTL = 100
const PAST_SHORT_TTL = 350
const CHILDREN = 3
const RACE_KEYS = 100

/**
 * Registers the suite under `describe(name)`. `makeStore` must open the SAME backing storage
 * on every call (same file, table, database or key prefix), so a reopened store sees what an
 * earlier one wrote.
 */
export function runStoreConformance(
  name: string,
  makeStore: () => Promise<KeyValueStore>,
  options: StoreConformanceOptions,
): void {
  describe(`${name} store conformance`, { skip: options.skip === false ? undefined : options.skip }, () => {
    const run = randomUUID().slice(0, 8)
    const key = (label: string) => `conf:${run}:${label}`
    let store: KeyValueStore

    before(async () => {
      store = await makeStore()
    })
    after(async () => {
      await store?.close()
    })

    test('JSON values round-trip unchanged', async () => {
      const values: Record<string, unknown> = {
        nested: { a: [1, { b: [true, false, null] }], c: { d: { e: 'deep' } }, emptyObject: {}, emptyArray: [] },
        unicode: '你好，世界 👋 café ñ \u{1F600} \u2028\u2029 ؏',
        loneSurrogate: 'bad \ud800 half',
        nulInValue: 'before\u0000after',
        markup: `]]><xml a="1">'quoted' "double" \\ back</xml> ; DROP TABLE x; --`,
        big: 'x'.repeat(1_000_000),
        numbers: [0, -0.5, 1e300, Number.MAX_SAFE_INTEGER, -42],
        longIdAsString: '23456789012345678901',
        emptyString: '',
        zero: 0,
        falseValue: false,
        nullValue: null,
        array: ['a', 1, null, { x: 'y' }],
      }
      for (const [label, value] of Object.entries(values)) await store.set(key(`rt:${label}`), value)
      for (const [label, value] of Object.entries(values)) {
        assert.deepEqual(await store.get(key(`rt:${label}`)), value, `value "${label}" changed on the way`)
      }
    })

    test('a missing key reads as undefined', async () => {
      assert.equal(await store.get(key('never-written')), undefined)
    })

    test('keys are opaque: odd characters neither collide nor break queries', async () => {
      const odd = ['a b', "o'quote", 'd"quote', 'semi;colon--', '%_like', '*?[glob]', 'new\nline', '键🔑', 'x'.repeat(500)]
      for (const [i, label] of odd.entries()) await store.set(key(label), i)
      for (const [i, label] of odd.entries()) assert.equal(await store.get(key(label)), i, `key ${JSON.stringify(label)}`)
      assert.equal(await store.get(key('%')), undefined)
      assert.equal(await store.get(key('*')), undefined)
    })

    test('set overwrites the value and its TTL', async () => {
      const k = key('overwrite')
      await store.set(k, 'first', SHORT_TTL)
      await store.set(k, { second: true })
      assert.deepEqual(await store.get(k), { second: true })
      await sleep(PAST_SHORT_TTL)
      assert.deepEqual(await store.get(k), { second: true }, 'the later set without TTL must keep the value')
      await store.set(k, 'third', SHORT_TTL)
      await sleep(PAST_SHORT_TTL)
      assert.equal(await store.get(k), undefined, 'the later set with a TTL must make the value expire')
    })

    test('delete removes a key, and deleting a missing key is not an error', async () => {
      const k = key('delete')
      await store.set(k, 1)
      await store.delete(k)
      assert.equal(await store.get(k), undefined)
      await store.delete(key('delete-missing'))
    })

    test('a value expires after its TTL, and one without TTL stays', async () => {
      await store.set(key('ttl:short'), 'gone soon', SHORT_TTL)
      await store.set(key('ttl:long'), 'stays', 60_000)
      await store.set(key('ttl:none'), 'stays too')
      assert.equal(await store.get(key('ttl:short')), 'gone soon')
      await sleep(PAST_SHORT_TTL)
      assert.equal(await store.get(key('ttl:short')), undefined)
      assert.equal(await store.get(key('ttl:long')), 'stays')
      assert.equal(await store.get(key('ttl:none')), 'stays too')
    })

    test('add creates a missing key once and keeps the first value', async () => {
      const k = key('add')
      assert.equal(await store.add(k, 'first', 60_000), true)
      assert.equal(await store.add(k, 'second', 60_000), false)
      assert.equal(await store.add(k, 'third'), false)
      assert.equal(await store.get(k), 'first')
    })

    test('add refuses a key that set wrote', async () => {
      const k = key('add-after-set')
      await store.set(k, 'from set')
      assert.equal(await store.add(k, 'from add'), false)
      assert.equal(await store.get(k), 'from set')
    })

    test('add succeeds again once the earlier value expired', async () => {
      const k = key('add-expired')
      assert.equal(await store.add(k, 'old', SHORT_TTL), true)
      await sleep(PAST_SHORT_TTL)
      assert.equal(await store.add(k, 'new', 60_000), true)
      assert.equal(await store.get(k), 'new')
      assert.equal(await store.add(k, 'newer', 60_000), false)
    })

    test('add returns true for exactly one of 50 concurrent callers', async () => {
      const k = key('add-race')
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.add(k, `caller-${i}`, 60_000)))
      const winners = results.flatMap((won, i) => (won ? [i] : []))
      assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`)
      assert.equal(await store.get(k), `caller-${winners[0]}`)
    })

    test('deleteIf deletes only when the stored value is JSON-equal to the expected one', async () => {
      const k = key('delete-if')
      await store.set(k, { owner: 'worker-a', n: 1 })
      assert.equal(await store.deleteIf(k, { owner: 'worker-b', n: 1 }), false)
      assert.equal(await store.deleteIf(k, 'worker-a'), false)
      assert.deepEqual(await store.get(k), { owner: 'worker-a', n: 1 })
      assert.equal(await store.deleteIf(k, { owner: 'worker-a', n: 1 }), true, 'a fresh but equal object must match')
      assert.equal(await store.get(k), undefined)
      assert.equal(await store.deleteIf(k, { owner: 'worker-a', n: 1 }), false, 'nothing left to delete')
      assert.equal(await store.deleteIf(key('delete-if-missing'), null), false)
    })

    test('deleteIf ignores an expired value', async () => {
      const k = key('delete-if-expired')
      await store.set(k, 'token', SHORT_TTL)
      await sleep(PAST_SHORT_TTL)
      assert.equal(await store.deleteIf(k, 'token'), false)
    })

    test('prefixed views of one store do not see each other', async () => {
      const app1 = prefixed(store, key('wx111:'))
      const app2 = prefixed(store, key('wx222:'))
      await app1.set('token', 'one')
      await app2.set('token', 'two')
      assert.equal(await app1.get('token'), 'one')
      assert.equal(await app2.get('token'), 'two')
      assert.equal(await store.get(key('wx111:token')), 'one', 'the prefix is part of the stored key')
      assert.equal(await app1.add('lock', 1), true)
      assert.equal(await app2.add('lock', 2), true)
      await app1.delete('token')
      assert.equal(await app1.get('token'), undefined)
      assert.equal(await app2.get('token'), 'two')
      assert.equal(await app2.deleteIf('lock', 1), false, "app1's value must not match in app2")
      assert.equal(app1.kind, store.kind)
    })

    test('malformed keys, TTLs and values are refused the same way and write nothing', async () => {
      const k = key('refused')
      await assert.rejects(store.set('', 1), TypeError)
      await assert.rejects(store.get('nul\u0000key'), TypeError)
      await assert.rejects(store.set('x'.repeat(5000), 1), TypeError)
      for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(store.set(k, 1, ttl), RangeError, `ttl ${ttl}`)
        await assert.rejects(store.add(k, 1, ttl), RangeError, `ttl ${ttl}`)
      }
      const circular: Record<string, unknown> = {}
      circular.self = circular
      for (const value of [undefined, () => 1, Symbol('s'), 10n, circular]) {
        await assert.rejects(store.set(k, value), TypeError)
        await assert.rejects(store.add(k, value), TypeError)
      }
      assert.equal(await store.get(k), undefined)
    })

    test('ping resolves while the backend is up', async () => {
      await store.ping()
    })

    test('closing a store twice is harmless', async () => {
      const extra = await makeStore()
      await extra.ping()
      await extra.close()
      await extra.close()
    })

    test(
      'values survive closing and reopening the store; expired ones do not come back',
      { skip: options.survivesRestart ? undefined : 'this backend keeps nothing across restarts' },
      async () => {
        const first = await makeStore()
        await first.set(key('restart:kept'), { kept: true })
        await first.set(key('restart:ttl'), 'still valid', 60_000)
        await first.set(key('restart:expiring'), 'gone', SHORT_TTL)
        assert.equal(await first.add(key('restart:lock'), 'holder', 60_000), true)
        await first.close()
        await sleep(PAST_SHORT_TTL)
        const second = await makeStore()
        try {
          assert.deepEqual(await second.get(key('restart:kept')), { kept: true })
          assert.equal(await second.get(key('restart:ttl')), 'still valid')
          assert.equal(await second.get(key('restart:expiring')), undefined)
          assert.equal(await second.add(key('restart:lock'), 'other', 60_000), false, 'the lock must survive')
        } finally {
          await second.close()
        }
      },
    )

    test(
      `add gives each key to exactly one of ${CHILDREN} processes racing for it`,
      { skip: options.crossProcess === undefined ? 'an in-process backend' : undefined, timeout: 90_000 },
      async () => {
        const keys = Array.from({ length: RACE_KEYS }, (_, i) => key(`xproc:${i}`))
        const contenders = Array.from({ length: CHILDREN }, (_, i) => `process-${i}`)
        const won = await raceInChildren(options.crossProcess!, contenders, keys)
        for (const k of keys) {
          const owners = contenders.filter((c) => won.get(c)?.includes(k))
          assert.equal(owners.length, 1, `${k} was won by ${owners.length} processes: ${owners.join(', ')}`)
          assert.equal(await store.get(k), owners[0], `${k} must hold the winner's value`)
        }
      },
    )
  })
}

/** Spawns one child per contender, starts them together, returns the keys each one won. */
async function raceInChildren(
  target: NonNullable<StoreConformanceOptions['crossProcess']>,
  contenders: string[],
  keys: string[],
): Promise<Map<string, string[]>> {
  const self = fileURLToPath(import.meta.url)
  const script = self.slice(0, -extname(self).length) + '-child' + extname(self)
  const loader = extname(self) === '.ts' ? ['--import', 'tsx'] : []
  const children: ChildProcess[] = []
  try {
    const outputs = contenders.map((contender) => {
      const task = JSON.stringify({ ...target, contender, keys })
      const child = spawn(process.execPath, [...loader, script, task], { stdio: ['pipe', 'pipe', 'pipe'] })
      children.push(child)
      let stderr = ''
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
      const next = async (what: string) => {
        const line = await Promise.race([
          lines.next(),
          new Promise<never>((_, reject) =>
            child.once('close', (code) => reject(new Error(`${contender} exited (${code}) before ${what}: ${stderr}`))),
          ),
        ])
        if (line.done) throw new Error(`${contender} closed stdout before ${what}: ${stderr}`)
        return line.value
      }
      return { contender, child, next }
    })
    for (const { next } of outputs) assert.equal(await next('ready'), 'ready')
    for (const { child } of outputs) child.stdin!.write('go\n')
    const won = new Map<string, string[]>()
    for (const { contender, next } of outputs) {
      won.set(contender, (JSON.parse(await next('its result')) as { won: string[] }).won)
    }
    return won
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill()
  }
}
