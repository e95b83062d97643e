import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { driverLoader, loadDriver } from './load-driver.js'

function notFound(id: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/dist/storage/load-driver.js`), { code: 'MODULE_NOT_FOUND' })
}

test('loadDriver gives the real drivers', () => {
  assert.equal(typeof loadDriver('ioredis').Redis, 'function')
  assert.equal(typeof loadDriver('pg').Pool, 'function')
  assert.equal(typeof loadDriver('better-sqlite3'), 'function')
})

test('a driver is required once, then reused', () => {
  const asked: string[] = []
  const load = driverLoader((id) => {
    asked.push(id)
    return { id }
  })
  assert.equal(load('pg'), load('pg'))
  load('ioredis')
  assert.deepEqual(asked, ['pg', 'ioredis'])
})

test('a missing driver package is WX_ERR_CONFIG naming the package and the URLs that need it', () => {
  const cases = [
    ['ioredis', 'redis://'],
    ['pg', 'postgres://'],
    ['better-sqlite3', 'sqlite:'],
  ] as const
  for (const [name, scheme] of cases) {
    const load = driverLoader((id) => {
      throw notFound(id)
    })
    assert.throws(
      () => load(name),
      (err: unknown) =>
        isWxmpError(err, 'WX_ERR_CONFIG') && err.message.includes(`npm install ${name}`) && err.message.includes(scheme) && err.details?.package === name,
    )
  }
})

test('a missing module inside an installed driver, or any other failure, is passed on unchanged', () => {
  const nested = notFound('denque')
  const other = new Error('bad ELF header')
  for (const failure of [nested, other]) {
    const load = driverLoader(() => {
      throw failure
    })
    assert.throws(() => load('ioredis'), (err: unknown) => err === failure)
  }
})

test('a failed load is retried on the next call', () => {
  let attempts = 0
  const load = driverLoader((id) => {
    attempts++
    if (attempts === 1) throw notFound(id)
    return { id }
  })
  assert.throws(() => load('pg'))
  assert.deepEqual(load('pg'), { id: 'pg' })
})
