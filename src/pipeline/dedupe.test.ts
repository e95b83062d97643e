import { test } from 'node:test'
import { setImmediate as nextTurn } from 'node:timers/promises'
import assert from 'node:assert/strict'
import { Deduper, dedupKey, type DedupOutcome, type FirstAnswer } from './dedupe.js'
import { successResponse, xmlResponse, type OutboundResponse } from './request.js'
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

/** An outcome once its answer may leave (after the gate a first delivery's answer waits for, as Bot.handle does). */
async function leaves(outcome: DedupOutcome | Promise<DedupOutcome>): Promise<DedupOutcome> {
  const settled = await outcome
  if (settled.kind === 'first' && settled.until !== undefined) await settled.until
  return settled
}

/** The parts of an outcome a test compares (the delivery's timing is checked apart). */
function summary(outcome: DedupOutcome): { kind: string; response?: OutboundResponse } {
  return 'response' in outcome ? { kind: outcome.kind, response: outcome.response } : { kind: outcome.kind }
}

for (const [name, makeStore] of STORES) {
  test(`a message runs once; a concurrent retry gets the first delivery's answer (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    const gate = deferred<FirstAnswer>()
    let runs = 0
    const work = () => ((runs += 1), gate.promise)
    const first = deduper.run('m:1', 1000, work)
    const retry = deduper.run('m:1', 1000, work)
    gate.resolve(xmlResponse('<xml>a</xml>'))
    assert.deepEqual(summary(await first), { kind: 'first', response: xmlResponse('<xml>a</xml>') })
    assert.deepEqual(summary(await retry), { kind: 'retry', response: xmlResponse('<xml>a</xml>') })
    assert.equal(runs, 1)
  })

  test(`a retry after the answer went out gets the stored answer, a new message runs (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    let runs = 0
    const work = async () => xmlResponse(`<xml>${++runs}</xml>`)
    assert.equal((await deduper.run('m:1', 1000, work)).kind, 'first')
    assert.deepEqual(summary(await deduper.run('m:1', 1000, work)), { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
    assert.deepEqual(summary(await deduper.run('m:2', 1000, work)), { kind: 'first', response: xmlResponse('<xml>2</xml>') })
  })

  test(`a failed first delivery releases its claim so WeChat's retry runs the handlers again (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    await assert.rejects(async () => deduper.run('m:1', 1000, async () => Promise.reject(new Error('boom'))), /boom/)
    await assert.rejects(async () =>
      deduper.run('m:1', 1000, () => {
        throw new Error('sync boom')
      }),
    /sync boom/)
    assert.deepEqual(summary(await deduper.run('m:1', 1000, async () => xmlResponse('<xml>ok</xml>'))), { kind: 'first', response: xmlResponse('<xml>ok</xml>') })
  })

  test(`the stored answer expires with the TTL (${name})`, async () => {
    let now = 1_000_000
    const store = makeStore() instanceof MemoryStore ? new MemoryStore({ now: () => now }) : asSharedStore(new MemoryStore({ now: () => now }))
    const deduper = new Deduper(store, { ttlMs: 60_000, now: () => now })
    await deduper.run('m:1', 1000, async () => xmlResponse('<xml>1</xml>'))
    now += 60_001
    assert.equal((await deduper.run('m:1', 1000, async () => xmlResponse('<xml>2</xml>'))).kind, 'first')
  })

  test(`the retry window: a lapsed first delivery keeps the claim; a retry waits, and gets the answer published later (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    const first = await deduper.run('m:1', 1000, async () => ({ lapse: true as const, notice: '回复任意文字获取结果' }))
    assert.equal(first.kind, 'lapse')
    assert.equal(deduper.isRunning('m:1'), true)
    const retry = deduper.run('m:1', 2000, async () => assert.fail('the handlers must not run again'))
    await new Promise((resolve) => setTimeout(resolve, 30))
    assert.deepEqual(await deduper.publish('m:1', xmlResponse('<xml>late</xml>')), { won: true, response: xmlResponse('<xml>late</xml>') })
    assert.deepEqual(summary(await retry), { kind: 'retry', response: xmlResponse('<xml>late</xml>') })
    assert.equal(deduper.isRunning('m:1'), false)
  })

  test(`the retry window: a retry whose budget ends first learns the message is in its window, with its notice (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    await deduper.run('m:1', 1000, async () => ({ lapse: true as const, notice: 'come back' }))
    const retry = await deduper.run('m:1', 60, async () => assert.fail('no second run'))
    assert.equal(retry.kind, 'retry-timeout')
    assert.equal(retry.kind === 'retry-timeout' && retry.window, true)
    assert.equal(retry.kind === 'retry-timeout' && retry.notice, 'come back')
  })

  test(`publish is first-wins: the notice of the last delivery and a late reply never both become the answer (${name})`, async () => {
    const deduper = new Deduper(makeStore())
    await deduper.run('m:1', 1000, async () => ({ lapse: true as const, notice: undefined }))
    const [a, b] = await Promise.all([deduper.publish('m:1', xmlResponse('<xml>notice</xml>')), deduper.publish('m:1', xmlResponse('<xml>reply</xml>'))])
    assert.equal([a, b].filter((p) => p.won).length, 1)
    assert.deepEqual(a.response, b.response)
    const retry = await deduper.run('m:1', 100, async () => successResponse())
    assert.deepEqual(summary(retry), { kind: 'retry', response: a.response })
  })
  test(`a gated answer leaves only once its gate opens; a retry meanwhile waits for it, and the handlers run once (${name})`, async () => {
    const store = makeStore()
    const deduper = new Deduper(store)
    const written = deferred<unknown>()
    const answer = xmlResponse('<xml>gated</xml>')
    let runs = 0
    let settled = 0
    // the answer leaves as the bot lets it: once the outcome is there and its `until` settled
    const first = leaves(deduper.run('m:g', 1000, () => ((runs += 1), { response: answer, until: written.promise })))
    void first.then(() => (settled += 1))
    const retry = leaves(deduper.run('m:g', 1000, () => ((runs += 1), xmlResponse('<xml>again</xml>'))))
    void retry.then(() => (settled += 1))
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(settled, 0, 'nothing leaves before the gate opens')
    if (store.local !== undefined) assert.equal((store.local.getLocal<{ state: string }>('dedup:m:g'))?.state, 'done', 'stored at once, in the same turn as the gated write')
    written.resolve(undefined)
    assert.deepEqual(summary(await first), { kind: 'first', response: answer })
    assert.deepEqual(summary(await retry), { kind: 'retry', response: answer })
    assert.equal(runs, 1)
  })
}

test('on a process-local store a gated answer is handed back at once with its gate; one that a journaled store must also write waits for both', async () => {
  const turn = deferred<unknown>()
  const plain = new Deduper(new MemoryStore()).run('m:t', 1000, () => ({ response: xmlResponse('<xml>t</xml>'), until: turn.promise }))
  assert.ok(!(plain instanceof Promise))
  assert.equal(plain.kind === 'first' ? plain.until : undefined, turn.promise, 'the gate as given: no promise of its own')
  // the journal's write is the same turn's: still the one gate
  const memory = new MemoryStore()
  const sameTurn = new Deduper({ ...memory, kind: memory.kind, local: { ...bindLocal(memory), whenDurable: () => turn.promise } } as KeyValueStore).run('m:t', 1000, () => ({ response: xmlResponse('<xml>t</xml>'), until: turn.promise }))
  assert.equal(!(sameTurn instanceof Promise) && sameTurn.kind === 'first' ? sameTurn.until : undefined, turn.promise)
  // the journal's write is another one: the answer waits for both
  const journal = deferred<void>()
  const other = new MemoryStore()
  const both = new Deduper({ ...other, kind: other.kind, local: { ...bindLocal(other), whenDurable: () => journal.promise } } as KeyValueStore).run('m:t', 1000, () => ({ response: xmlResponse('<xml>t</xml>'), until: turn.promise }))
  const until = !(both instanceof Promise) && both.kind === 'first' ? both.until : undefined
  assert.ok(until !== undefined)
  let open = false
  void until.then(() => (open = true))
  turn.resolve(undefined)
  await new Promise((resolve) => setTimeout(resolve, 5))
  assert.equal(open, false, 'the journal is not written yet')
  journal.resolve()
  await until
})

/** A MemoryStore's synchronous API as plain functions (to build a store view with a whenDurable of its own). */
function bindLocal(store: MemoryStore) {
  const local = store.local!
  return {
    addLocal: local.addLocal.bind(local),
    getLocal: local.getLocal.bind(local),
    setLocal: local.setLocal.bind(local),
    deleteLocalIf: local.deleteLocalIf.bind(local),
  }
}

test('on a process-local store an answer given at once is the only record written; work that goes on claims the message first', async () => {
  const memory = new MemoryStore()
  const writes: string[] = []
  const local = bindLocal(memory)
  const spied = {
    kind: memory.kind,
    local: {
      ...local,
      addLocal: (key: string, value: unknown, ttlMs: number) => (writes.push(`add ${(value as { state: string }).state}`), local.addLocal(key, value, ttlMs)),
      setLocal: (key: string, value: unknown, ttlMs: number) => (writes.push(`set ${(value as { state: string }).state}`), local.setLocal(key, value, ttlMs)),
    },
  } as unknown as KeyValueStore
  const deduper = new Deduper(spied)
  deduper.run('m:now', 1000, () => xmlResponse('<xml>now</xml>'))
  assert.deepEqual(writes, ['set done'])
  writes.length = 0
  const later = deferred<FirstAnswer>()
  const first = deduper.run('m:later', 1000, () => later.promise)
  assert.deepEqual(writes, ['add pending'], 'claimed before anything else can run')
  assert.equal(memory.local!.getLocal<{ state: string }>('dedup:m:later')?.state, 'pending')
  later.resolve(xmlResponse('<xml>later</xml>'))
  await first
  assert.deepEqual(writes, ['add pending', 'set done'])
})

test('the same message delivered from inside its own handlers, before they return, waits like a retry: the handlers run once', async () => {
  const deduper = new Deduper(new MemoryStore())
  let runs = 0
  let inner: DedupOutcome | Promise<DedupOutcome> | undefined
  const work = (): FirstAnswer => {
    runs += 1
    inner ??= deduper.run('m:nested', 1000, work)
    return xmlResponse('<xml>once</xml>')
  }
  const first = deduper.run('m:nested', 1000, work)
  assert.deepEqual(summary(first as DedupOutcome), { kind: 'first', response: xmlResponse('<xml>once</xml>') })
  assert.deepEqual(summary(await inner!), { kind: 'retry', response: xmlResponse('<xml>once</xml>') })
  assert.equal(runs, 1)
  // and a throw after such a delivery leaves no claim behind: the next delivery runs it
  let thrown = 0
  const failing = (): FirstAnswer => {
    thrown += 1
    if (thrown === 1) {
      void Promise.resolve(deduper.run('m:thrown', 100, failing)).catch(() => undefined)
      throw new Error('boom')
    }
    return xmlResponse('<xml>second</xml>')
  }
  assert.throws(() => deduper.run('m:thrown', 1000, failing), /boom/)
  assert.deepEqual(summary(await deduper.run('m:thrown', 1000, failing)), { kind: 'first', response: xmlResponse('<xml>second</xml>') })
})

test('on a process-local store a first delivery answered synchronously is settled synchronously', async () => {
  const deduper = new Deduper(new MemoryStore())
  const first = deduper.run('m:1', 1000, () => xmlResponse('<xml>1</xml>'))
  assert.ok(!(first instanceof Promise))
  assert.deepEqual(summary(first as DedupOutcome), { kind: 'first', response: xmlResponse('<xml>1</xml>') })
  const retry = deduper.run('m:1', 1000, () => xmlResponse('<xml>2</xml>'))
  assert.ok(retry instanceof Promise) // a retry takes the general path
  assert.deepEqual(summary(await retry), { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
  const shared = new Deduper(asSharedStore(new MemoryStore())).run('m:1', 1000, () => xmlResponse('<xml>1</xml>'))
  assert.ok(shared instanceof Promise)
  assert.deepEqual(summary(await shared), { kind: 'first', response: xmlResponse('<xml>1</xml>') })
})

test('a retry elsewhere reads the answer through the ordinary API as a copy, never the stored object', async () => {
  const memory = new MemoryStore()
  const deduper = new Deduper(memory)
  await deduper.run('m:1', 1000, async () => xmlResponse('<xml>1</xml>'))
  const record = await memory.get<{ state: string; response: OutboundResponse }>('dedup:m:1')
  assert.equal(record?.state, 'done')
  record!.response.body = 'changed'
  assert.deepEqual(summary(await new Deduper(asSharedStore(memory)).run('m:1', 1000, async () => xmlResponse('x'))), { kind: 'retry', response: xmlResponse('<xml>1</xml>') })
})

test('a claim whose owner stopped its heartbeat (crash, kill -9) is taken over at once by the next delivery', async () => {
  const store = asSharedStore(new MemoryStore())
  const dead = new Deduper(store, { owner: 'host/111/dead', heartbeatTtlMs: 150 })
  const hanging = deferred<FirstAnswer>()
  void dead.run('m:1', 1000, () => hanging.promise)
  await new Promise((resolve) => setTimeout(resolve, 20))
  dead.close() // the process is gone: nothing renews its heartbeat
  // (its claim is still in the store, far younger than the 10 s age rule for claims without one)
  await new Promise((resolve) => setTimeout(resolve, 200))
  const other = new Deduper(store, { owner: 'host/222/alive' })
  let runs = 0
  const started = Date.now()
  const outcome = await other.run('m:1', 3000, async (delivery) => {
    runs++
    assert.equal(delivery.number >= 2, true, 'a takeover runs as a retry')
    return xmlResponse('<xml>recovered</xml>')
  })
  assert.equal(outcome.kind, 'first')
  assert.equal(outcome.kind === 'first' && outcome.tookOver, 'host/111/dead')
  assert.equal(runs, 1)
  assert.ok(Date.now() - started < 2000, 'taken over well within the retry\'s budget')
  other.close()
})

test('a claim whose owner is alive (heartbeat renewed) is never taken over, however long its handler runs', async () => {
  const store = asSharedStore(new MemoryStore())
  const owner = new Deduper(store, { owner: 'host/1/alive', heartbeatTtlMs: 150, staleClaimMs: 100 })
  const slow = deferred<FirstAnswer>()
  const first = owner.run('m:1', 5000, () => slow.promise)
  await new Promise((resolve) => setTimeout(resolve, 20))
  const retry = await new Deduper(store, { owner: 'host/2/other', staleClaimMs: 100 }).run('m:1', 500, async () => assert.fail('a live owner keeps its message'))
  assert.equal(retry.kind, 'retry-timeout')
  slow.resolve(xmlResponse('<xml>done</xml>'))
  assert.equal((await first).kind, 'first')
  owner.close()
})

test('dedup keys: sender + MsgId, else sender + MsgID + Event, else sender + time + type (+ event and key)', () => {
  const base = { ToUserName: 'gh_1', FromUserName: 'o1', CreateTime: 1 }
  assert.equal(dedupKey({ ...base, MsgType: 'text', Content: 'x', MsgId: '42' } as never), 'm:o1:42')
  assert.equal(dedupKey({ ...base, MsgType: 'event', Event: 'TEMPLATESENDJOBFINISH', MsgID: '7' } as never), 'j:o1:7:TEMPLATESENDJOBFINISH')
  assert.equal(dedupKey({ ...base, MsgType: 'event', Event: 'CLICK', EventKey: 'k' } as never), 'e:o1:1:event:CLICK:k')
  // the same MsgId from two users is two messages
  assert.notEqual(dedupKey({ ...base, MsgType: 'text', Content: 'x', MsgId: '42' } as never), dedupKey({ ...base, FromUserName: 'o2', MsgType: 'text', Content: 'x', MsgId: '42' } as never))
})

test('two publish jobs or two subscription notices finishing in the same second are two events, not a retry', () => {
  const base = { ToUserName: 'gh_1', FromUserName: 'mphelper', CreateTime: 1481013459, MsgType: 'event' }
  const job = (id: string) => dedupKey({ ...base, Event: 'PUBLISHJOBFINISH', PublishEventInfo: { publish_id: id, publish_status: 0 } } as never)
  assert.equal(job('2247503051'), 'j:mphelper:2247503051:PUBLISHJOBFINISH')
  assert.notEqual(job('2247503051'), job('2247503052'))
  const sent = (id: string) => dedupKey({ ...base, FromUserName: 'o1', Event: 'subscribe_msg_sent_event', SubscribeMsgSentEvent: { List: [{ TemplateId: 'T', MsgID: id, ErrorCode: 0 }] } } as never)
  assert.equal(sent('1700827132819554304'), 'j:o1:1700827132819554304:subscribe_msg_sent_event')
  assert.notEqual(sent('1700827132819554304'), sent('1700827132819554305'))
})

test("a retry is numbered by when it arrived after the first delivery, not by when its wait ended (WeChat's deliveries are 5 s apart)", async () => {
  let clock = 1_000_000
  const store = asSharedStore(new MemoryStore())
  const first = new Deduper(store, { owner: 'host/1/a', now: () => clock })
  await first.run('m:1', 4500, async () => ({ lapse: true as const, notice: undefined }))
  clock += 5000 // delivery 2 arrives on another instance
  const retry = new Deduper(store, { owner: 'host/2/b', now: () => clock }).run('m:1', 4500, async () => assert.fail('the owner is alive'))
  await new Promise((resolve) => setTimeout(resolve, 30))
  clock += 4500 // its budget runs out 9.5 s after the first delivery
  const outcome = await retry
  assert.equal(outcome.kind, 'retry-timeout')
  assert.equal(outcome.delivery.number, 2)
  clock += 500 // delivery 3, 10 s after the first
  const third = await new Deduper(store, { owner: 'host/3/c', now: () => clock, pollMs: 5 }).run('m:1', 0, async () => assert.fail('the owner is alive'))
  assert.equal(third.delivery.number, 3)
  first.close()
})

test('a pending check (the replay guard on a shared store): the claim goes out at once, the work waits for the check', async () => {
  const store = asSharedStore(new MemoryStore())
  const deduper = new Deduper(store)
  const check = deferred<void>()
  let runs = 0
  const outcome = deduper.run('m:o1:7', 5000, () => ((runs += 1), successResponse()), check.promise)
  await nextTurn()
  assert.equal(((await store.get('dedup:m:o1:7')) as { state?: string } | undefined)?.state, 'pending', 'the claim is in the store')
  assert.equal(runs, 0, 'nothing ran before the check passed')
  check.resolve()
  assert.equal((await outcome).kind, 'first')
  assert.equal(runs, 1)
})

test('a check that refuses: nothing runs, no answer is handed out (not even a stored one), and a claim it took is let go', async () => {
  const store = asSharedStore(new MemoryStore())
  const deduper = new Deduper(store)
  const refusal = new Error('replayed')
  await deduper.run('m:o1:answered', 5000, () => xmlResponse('<xml>private</xml>'))
  let runs = 0
  const work = () => ((runs += 1), successResponse())
  await assert.rejects(Promise.resolve(deduper.run('m:o1:answered', 5000, work, Promise.reject(refusal))), refusal, 'the stored answer is not handed out')
  await assert.rejects(Promise.resolve(deduper.run('m:o1:new', 5000, work, Promise.reject(refusal))), refusal)
  assert.equal(runs, 0)
  assert.equal(await store.get('dedup:m:o1:new'), undefined, 'the claim was let go')
  assert.equal(((await store.get('dedup:m:o1:answered')) as { state?: string }).state, 'done', 'an answered message keeps its answer')
  assert.equal((await deduper.run('m:o1:new', 5000, work)).kind, 'first', 'the real message runs when it comes')
  assert.equal(runs, 1)
})

test('a check that refuses while the claim itself fails: the refusal, and no unhandled rejection', async () => {
  const memory = asSharedStore(new MemoryStore())
  const failing: KeyValueStore = { ...memory, add: () => Promise.reject(new Error('store down')) }
  const deduper = new Deduper(failing)
  const check = deferred<void>()
  const refusal = new Error('replayed')
  const outcome = Promise.resolve(deduper.run('m:o1:9', 5000, () => successResponse(), check.promise))
  outcome.catch(() => undefined)
  // the claim fails first, while the check is still under way
  for (let i = 0; i < 3; i++) await nextTurn()
  check.reject(refusal)
  await assert.rejects(outcome, refusal)
})

test('a retry of a message running in this process waits for the check too: refused, it is not handed the answer', async () => {
  const deduper = new Deduper(asSharedStore(new MemoryStore()))
  const answer = deferred<FirstAnswer>()
  const first = deduper.run('m:o1:10', 5000, () => answer.promise)
  await nextTurn()
  const refusal = new Error('replayed')
  const refused = Promise.resolve(deduper.run('m:o1:10', 5000, () => successResponse(), Promise.reject(refusal)))
  answer.resolve(xmlResponse('<xml>first</xml>'))
  await assert.rejects(refused, refusal)
  assert.equal((await first).kind, 'first')
})

test('on a process-local store a pending check is simply waited for first', async () => {
  const deduper = new Deduper(new MemoryStore())
  const check = deferred<void>()
  let runs = 0
  const outcome = deduper.run('m:o1:11', 5000, () => ((runs += 1), successResponse()), check.promise)
  await nextTurn()
  assert.equal(runs, 0)
  check.resolve()
  assert.equal((await outcome).kind, 'first')
  await assert.rejects(Promise.resolve(new Deduper(new MemoryStore()).run('m:o1:12', 5000, () => ((runs += 1), successResponse()), Promise.reject(new Error('replayed')))), /replayed/)
  assert.equal(runs, 1)
})
