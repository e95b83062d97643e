import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Deduper, dedupKey } from './dedupe.js'
import { xmlResponse, type OutboundResponse } from './request.js'
import { MemoryStore } from '../storage/memory.js'
import { prefixed } from '../storage/prefixed.js'
import type { KeyValueStore } from '../storage/types.js'
import { asSharedStore } from '../../test/support/shared-view.js'

const STORES: Array<[string, () => KeyValueStore]> = [
  ['process-local store', () => new MemoryStore()],
  ['prefixed process-local store', () => prefixed(new MemoryStore(), 'wxmp:wx1:')],
  ['shared store', () => asSharedStore(new MemoryStore())],
]

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

for (const [name, makeStore] of STORES) {
  test(`a message runs once; a concurrent retry gets the first delivery's answer (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    const gate = deferred<OutboundResponse>()
    let runs = 0
    const work = () => ((runs += 1), gate.promise)
    const first = deduper.run('m:1', 1000, work)
    const retry = deduper.run('m:1', 1000, work)
    gate.resolve(xmlResponse('<xml>a</xml>'))
    assert.deepEqual(await first, { kind: 'first', response: xmlResponse('<xml>a</xml>') })
    assert.deepEqual(await retry, { kind: 'retry', response: xmlResponse('<xml>a</xml>') })
    assert.equal(runs, 1)
  })

  test(`a retry after the answer went out gets the stored answer, a new message runs (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    let runs = 0
    const work = async () => xmlResponse(`<xml>${++runs}</xml>`)
    assert.equal((await deduper.run('m:1', 1000, work)).kind, 'first')
    assert.deepEqual(await deduper.run('m:1', 1000, work), { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
    assert.deepEqual(await deduper.run('m:2', 1000, work), { kind: 'first', response: xmlResponse('<xml>2</xml>') })
  })

  test(`a failed first delivery releases its claim so WeChat's retry runs the handlers again (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    await assert.rejects(async () => deduper.run('m:1', 1000, async () => Promise.reject(new Error('boom'))), /boom/)
    await assert.rejects(async () =>
      deduper.run('m:1', 1000, () => {
        throw new Error('sync boom')
      }),
    /sync boom/)
    assert.deepEqual(await deduper.run('m:1', 1000, async () => xmlResponse('<xml>ok</xml>')), { kind: 'first', response: xmlResponse('<xml>ok</xml>') })
  })

  test(`the stored answer expires with the TTL (${name})`, async () => {
    let now = 1_000_000
    const store = makeStore() instanceof MemoryStore ? new MemoryStore({ now: () => now }) : asSharedStore(new MemoryStore({ now: () => now }))
    const deduper = new Deduper(store, { ttlMs: 60_000, now: () => now })
    await deduper.run('m:1', 1000, async () => xmlResponse('<xml>1</xml>'))
    now += 60_001
    assert.equal((await deduper.run('m:1', 1000, async () => xmlResponse('<xml>2</xml>'))).kind, 'first')
  })
}

test('on a process-local store a first delivery answered synchronously is settled synchronously', async () => {
  const deduper = new Deduper(new MemoryStore())
  const first = deduper.run('m:1', 1000, () => xmlResponse('<xml>1</xml>'))
  assert.deepEqual(first, { kind: 'first', response: xmlResponse('<xml>1</xml>') })
  const retry = deduper.run('m:1', 1000, () => xmlResponse('<xml>2</xml>'))
  assert.ok(retry instanceof Promise) // a retry takes the general path
  assert.deepEqual(await retry, { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
  const shared = new Deduper(asSharedStore(new MemoryStore())).run('m:1', 1000, () => xmlResponse('<xml>1</xml>'))
  assert.ok(shared instanceof Promise)
  assert.deepEqual(await shared, { kind: 'first', response: xmlResponse('<xml>1</xml>') })
})

test('a retry elsewhere reads the answer through the ordinary API as a copy, never the stored object', async () => {
  const memory = new MemoryStore()
  const deduper = new Deduper(memory)
  await deduper.run('m:1', 1000, async () => xmlResponse('<xml>1</xml>'))
  const record = await memory.get<{ state: string; response: OutboundResponse }>('dedup:m:1')
  assert.equal(record?.state, 'done')
  record!.response.body = 'changed'
  assert.deepEqual(await new Deduper(asSharedStore(memory)).run('m:1', 1000, async () => xmlResponse('x')), { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
})

test('dedup keys: MsgId, else MsgID + Event, else sender + time + type (+ event and key)', () => {
  const base = { ToUserName: 'gh_1', FromUserName: 'o1', CreateTime: 1 }
  assert.equal(dedupKey({ ...base, MsgType: 'text', Content: 'x', MsgId: '42' } as never), 'm:42')
  assert.equal(dedupKey({ ...base, MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '7' } as never), 'j:7:TEMPLATESENDJOBFINISH')
  assert.equal(dedupKey({ ...base, MsgType: 'event', Event: 'CLICK', EventKey: 'k' } as never), 'e:o1:1:event:CLICK:k')
})
