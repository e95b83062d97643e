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
