import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { REDIS_URL, deleteRedisKeys, serviceAvailable } from '../../test/support/services.js'
import { isWxmpError } from '../errors.js'
import { runStoreConformance } from './conformance.js'
import { prefixed } from './prefixed.js'
import { RedisStore } from './redis.js'

const available = await serviceAvailable('redis')
const prefix = `wxmp-test:${randomUUID()}:`

runStoreConformance('redis', async () => prefixed(new RedisStore(REDIS_URL), prefix), {
  survivesRestart: true,
  crossProcess: { url: REDIS_URL, prefix },
  skip: !available && 'Redis is not reachable',
})

after(async () => {
  if (available) await deleteRedisKeys(REDIS_URL, `${prefix}*`)
})

test('redis store writes JSON text with a millisecond expiry', { skip: !available && 'Redis is not reachable' }, async () => {
  const store = new RedisStore(REDIS_URL)
  const raw = new Redis(REDIS_URL)
  try {
    await store.set(`${prefix}raw`, { a: '你好' }, 5000)
    assert.equal(await raw.get(`${prefix}raw`), '{"a":"你好"}')
    const ttl = await raw.pttl(`${prefix}raw`)
    assert.ok(ttl > 0 && ttl <= 5000, `PTTL ${ttl}`)
  } finally {
    await store.close()
    await raw.quit()
  }
})

test('redis store: a value that is not JSON fails that get alone; bad input is a rejected promise, not a throw', { skip: !available && 'Redis is not reachable' }, async () => {
  const store = new RedisStore(REDIS_URL)
  const raw = new Redis(REDIS_URL)
  try {
    await raw.set(`${prefix}not-json`, '{broken')
    await store.set(`${prefix}fine`, [1, '二'], 5000)
    const [broken, fine, missing] = await Promise.allSettled([store.get(`${prefix}not-json`), store.get(`${prefix}fine`), store.get(`${prefix}missing`)])
    assert.equal(broken.status, 'rejected')
    assert.ok((broken as PromiseRejectedResult).reason instanceof SyntaxError)
    assert.deepEqual(fine, { status: 'fulfilled', value: [1, '二'] }, 'the same turn\'s other operations are answered')
    assert.deepEqual(missing, { status: 'fulfilled', value: undefined })
    for (const call of [() => store.set(`${prefix}u`, undefined), () => store.add('', 1), () => store.set(`${prefix}t`, 1, -5), () => store.deleteIf(`${prefix}f`, () => 1)]) {
      const result = call()
      assert.ok(result instanceof Promise)
      await assert.rejects(result, (err: unknown) => err instanceof TypeError || err instanceof RangeError)
    }
    assert.equal(await store.add(`${prefix}fine`, 'again', 5000), false)
    assert.equal(await store.deleteIf(`${prefix}fine`, [1, '二']), true)
  } finally {
    await store.close()
    await raw.quit()
  }
})

test('a Redis that is down fails fast with WX_ERR_STORAGE naming the address and the reason', async () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const errors: Error[] = []
  const store = new RedisStore('redis://127.0.0.1:1/0', { onError: (err) => errors.push(err) })
  try {
    for (const attempt of ['first call connects', 'later calls do not queue']) {
      await assert.rejects(
        store.add('k', 1, 1000),
        (err: unknown) =>
          isWxmpError(err, 'WX_ERR_STORAGE') &&
          err.message.includes('127.0.0.1:1') &&
          err.message.includes('ECONNREFUSED') &&
          err.message.includes('add'),
        attempt,
      )
    }
    assert.ok(errors.length > 0, 'background connection errors reach onError')
  } finally {
    await store.close()
  }
})

test('a Redis password in the URL never appears in error messages', async () => {
  const store = new RedisStore('redis://:s3cret-pass@127.0.0.1:1/0')
  try {
    await assert.rejects(store.get('k'), (err: unknown) => isWxmpError(err) && !err.message.includes('s3cret-pass'))
  } finally {
    await store.close()
  }
})

test("a turn's operations go to Redis as one script call, in the order they were issued, at most 256 to a call", { skip: !available && 'Redis is not reachable' }, async () => {
  const store = new RedisStore(REDIS_URL)
  const watcher = new Redis(REDIS_URL)
  const monitor = await watcher.monitor()
  const turn = `${prefix}turn:`
  const calls: string[][] = []
  let markerSeen: (() => void) | undefined
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // the script's own commands are reported with a "lua" source; only the calls count here
    if (source.includes('lua') || !args.some((arg) => arg.startsWith(turn))) return
    if (args.includes(`${turn}marker`)) markerSeen?.()
    else calls.push(args)
  })
  // Redis reports commands to a monitor in the order it ran them, on another connection: once a
  // later marker call is reported, every call before it has been
  const reported = async () => {
    const seen = new Promise<void>((resolve) => (markerSeen = resolve))
    await store.get(`${turn}marker`)
    await seen
  }
  try {
    await store.get(`${prefix}warm-up`) // connects and loads the script
    const answers = await Promise.all([
      store.add(`${turn}a`, 1, 60_000),
      store.add(`${turn}a`, 2, 60_000),
      store.set(`${turn}b`, { x: '你好' }),
      store.get(`${turn}b`),
      store.deleteIf(`${turn}a`, 2),
      store.deleteIf(`${turn}a`, 1),
      store.get(`${turn}a`),
      store.delete(`${turn}b`),
      store.get(`${turn}b`),
    ])
    assert.deepEqual(answers, [true, false, undefined, { x: '你好' }, false, true, undefined, undefined, undefined])
    await reported()
    assert.equal(calls.length, 1, `one call for the turn, got ${calls.map((c) => c[0]).join(', ')}`)
    assert.match(calls[0]![0]!, /^evalsha$/i)

    calls.length = 0
    const many = Array.from({ length: 300 }, (_, i) => store.set(`${turn}many:${i}`, i, 60_000))
    await Promise.all(many)
    await reported()
    assert.equal(calls.length, 2, '300 operations in two calls (256 + 44)')
    assert.deepEqual(
      calls.map((c) => Number(c[2])),
      [256, 44],
    )
    assert.equal(await store.get(`${turn}many:299`), 299)
  } finally {
    monitor.disconnect()
    watcher.disconnect()
    await store.close()
  }
})

test('an operation that Redis refuses fails alone: the others of its turn are done and answered', { skip: !available && 'Redis is not reachable' }, async () => {
  const store = new RedisStore(REDIS_URL)
  const raw = new Redis(REDIS_URL)
  try {
    await raw.lpush(`${prefix}a-list`, 'x') // GET on a list is a WRONGTYPE error
    const [listRead, written, added] = await Promise.allSettled([store.get(`${prefix}a-list`), store.set(`${prefix}beside`, 1, 60_000), store.add(`${prefix}beside-2`, 2, 60_000)])
    assert.equal(listRead.status, 'rejected')
    const err = (listRead as PromiseRejectedResult).reason as Error
    assert.ok(isWxmpError(err, 'WX_ERR_STORAGE') && err.message.includes('get') && /WRONGTYPE/.test(`${err.message} ${String((err.cause as Error | undefined)?.message)}`), err.message)
    assert.equal(written.status, 'fulfilled')
    assert.deepEqual(added, { status: 'fulfilled', value: true })
    assert.equal(await raw.get(`${prefix}beside`), '1')
    await assert.rejects(store.deleteIf(`${prefix}a-list`, 'x'), (e: unknown) => isWxmpError(e, 'WX_ERR_STORAGE'))
    assert.equal(await raw.llen(`${prefix}a-list`), 1, 'a refused deleteIf deletes nothing')
  } finally {
    await store.close()
    await raw.quit()
  }
})

test('the store keeps working after Redis forgets its scripts (SCRIPT FLUSH, a restart)', { skip: !available && 'Redis is not reachable' }, async () => {
  const store = new RedisStore(REDIS_URL)
  const raw = new Redis(REDIS_URL)
  try {
    await store.set(`${prefix}flush`, 1, 60_000)
    await raw.script('FLUSH')
    assert.equal(await store.add(`${prefix}flush`, 2, 60_000), false)
    assert.equal(await store.get(`${prefix}flush`), 1)
  } finally {
    await store.close()
    await raw.quit()
  }
})
